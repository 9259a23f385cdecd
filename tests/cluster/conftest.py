"""Helpers for the cluster tests."""

from __future__ import annotations

import itertools
from pathlib import Path

from server.cluster.nodes import Load, Node
from server.cluster.rendezvous import score


def node(node_id: str, url: str = "", cpu: float = 0.0, sites: int = 0) -> Node:
    return Node(node_id, url, (), 0.0, 0.0, Load(sites=sites, cpu=cpu))


def names_placing(room: int, prefixes: tuple[str, ...]) -> list[str]:
    """Node ids starting with ``prefixes`` ("a", "b"...) such that rendezvous places ``room`` on
    the first by a wide margin (its score more than 5 times any other's at equal load), so that
    the CPU the nodes measure in a test (a core or two of difference: weights within 3×) cannot
    move it."""
    for n in itertools.count():
        names = [f"node-{p}{n}" for p in prefixes]
        first, *others = (score(node(name), room) for name in names)
        if all(first > 5 * other for other in others):
            return names
    raise AssertionError("unreachable")


def name_node(data_dir: Path, node_id: str) -> None:
    """The node serving from ``data_dir`` is called ``node_id`` (``server.live.heartbeat``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "node-id").write_text(node_id + "\n")
