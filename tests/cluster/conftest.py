"""Helpers for the cluster tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.cluster.nodes import Load, Node
from server.cluster.rendezvous import score
from tests.conftest import _drop_postgres_database, _postgres_database


def node(node_id: str, url: str = "", cpu: float = 0.0, sites: int = 0) -> Node:
    return Node(node_id, url, (), 0.0, 0.0, Load(sites=sites, cpu=cpu))


def names_placing(room: int | tuple[int, ...], prefixes: tuple[str, ...]) -> list[str]:
    """Node ids starting with ``prefixes`` ("a", "b"...) such that rendezvous places ``room``
    (each of the rooms) on the first by a wide margin (its score more than 5 times any other's
    at equal load), so that the CPU the nodes measure in a test (a core or two of difference:
    weights within 3×) cannot move it."""
    rooms = room if isinstance(room, tuple) else (room,)
    for n in itertools.count():
        names = [f"node-{p}{n}" for p in prefixes]
        if all(_wins(names, r) for r in rooms):
            return names
    raise AssertionError("unreachable")


def _wins(names: list[str], room: int) -> bool:
    first, *others = (score(node(name), room) for name in names)
    return all(first > 5 * other for other in others)


def name_node(data_dir: Path, node_id: str) -> None:
    """The node serving from ``data_dir`` is called ``node_id`` (``server.live.heartbeat``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "node-id").write_text(node_id + "\n")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for a cluster's nodes, dropped afterwards."""
    url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)
