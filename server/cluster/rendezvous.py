"""Which live node a new room goes to: rendezvous hashing weighted by load (issue 16, part 2).

Every node scores every room the same way, from the room's id, each node's id and the load the
node last announced; the highest score wins. Without load, each node gets an equal share of
rooms in expectation, and a node joining or leaving moves only the rooms it wins or held
(the property that makes rendezvous hashing better than "the least loaded node": nodes that
read the load a second apart still mostly agree). The weight lowers a busy node's scores so
that new rooms go elsewhere; rooms already open never move because of it (a room's lease
decides where it is, this only where it starts).

The weight is ``1 / (1 + cpu + sites / SITES_PER_CORE)``: the CPU the node used over its last
beat (1.0 is one core busy) and its connected sites, each a share of a core. Rooms themselves
weigh nothing: an open room with nobody connected costs next to nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from server.cluster.nodes import Node

SITES_PER_CORE = 32.0
"""Connected sites counted as a core of load (docs/scaling.md: a core carries about 10–25
sites with browser cameras, more with smaller pictures; the CPU term counts the rest)."""


def _unit(node_id: str, room: int) -> float:
    """A number in (0, 1) fixed by the node and the room, evenly spread."""
    digest = hashlib.blake2b(f"{node_id}\0{room}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 1) / (2**64 + 1)


def weight(node: Node) -> float:
    load = node.load
    return 1.0 / (1.0 + max(load.cpu, 0.0) + max(load.sites, 0) / SITES_PER_CORE)


def score(node: Node, room: int) -> float:
    """Weighted rendezvous score: ``-w / ln(u)``, so a node of twice the weight wins twice as
    many rooms (the logarithmic method of Schindelhauer and Schomaker)."""
    return -weight(node) / math.log(_unit(node.id, room))


def choose(room: int, nodes: Sequence[Node]) -> Node | None:
    """The node that should open ``room`` (None: no live node listed)."""
    return max(nodes, key=lambda node: (score(node, room), node.id), default=None)
