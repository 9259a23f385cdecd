"""Where a client of the room goes next when the node it is on stops answering (in a cluster).

The node it came in through first, then each node the server listed (the join answer's
``nodes``, updated by ``cluster.nodes``: docs/signalling.md), in turn: any live node sends it
to wherever the room reopened, or reopens it there.
"""

from __future__ import annotations

import time
from typing import Any

FAILED_FOR = 5.0
"""Seconds a node that refused a connection is skipped (it died; its lease runs out in 3)."""
CONNECT_WAIT = 10.0
"""Seconds a simulated client's socket waits for its namespace to connect: python-socketio's
default, 1 s, gives up ("Unexpected connection error") on a node busy negotiating media."""


class NodeUrls:
    def __init__(self, entry_url: str) -> None:
        self.entry = entry_url.rstrip("/")
        self.listed: list[str] = []
        self._tried = 0
        self._failed: dict[str, float] = {}  # url → when a connection to it last failed

    def failed(self, url: str) -> None:
        """A connection to ``url`` failed: skip it for a few seconds."""
        self._failed[url.rstrip("/")] = time.monotonic()

    def dead(self, url: str) -> bool:
        """Whether ``url`` refused a connection in the last few seconds: a ``room_elsewhere``
        naming it is a room between nodes, not a place to go."""
        at = self._failed.get(url.rstrip("/"))
        return at is not None and time.monotonic() - at < FAILED_FOR

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
        """The next node to try, skipping those that refused a connection a moment ago (all of
        them refused: the entry)."""
        candidates = [self.entry, *(u for u in self.listed if u != self.entry)]
        for _ in candidates:
            url = candidates[self._tried % len(candidates)]
            self._tried += 1
            if not self.dead(url):
                return url
        return self.entry
