"""Where a client of the room goes next when the node it is on stops answering (in a cluster).

The node it came in through first, then each node the server listed (the join answer's
``nodes``, updated by ``cluster.nodes``: docs/signalling.md), in turn: any live node sends it
to wherever the room reopened, or reopens it there.
"""

from __future__ import annotations

from typing import Any


class NodeUrls:
    def __init__(self, entry_url: str) -> None:
        self.entry = entry_url.rstrip("/")
        self.listed: list[str] = []
        self._tried = 0

    def update(self, data: Any) -> None:
        """Take a join answer's or a ``cluster.nodes`` event's ``nodes``."""
        nodes = data.get("nodes") if isinstance(data, dict) else None
        if isinstance(nodes, list):
            self.listed = [u.rstrip("/") for u in nodes if isinstance(u, str) and u]

    def joined(self, answer: Any) -> None:
        """A join worked: its list, and the next failure starts again from the entry."""
        self.update(answer)
        self._tried = 0

    def next(self) -> str:
        candidates = [self.entry, *(u for u in self.listed if u != self.entry)]
        url = candidates[self._tried % len(candidates)]
        self._tried += 1
        return url
