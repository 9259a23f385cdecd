"""Floor control: who holds the floor, who is waiting, and for how long one may speak.

Pure logic, no I/O: the room calls it and reports what changed. The queue is ordered by
delegation precedence, then by request time (or by request time alone, if so configured).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

Order = Literal["precedence", "time"]


class FloorError(Exception):
    """A floor action that cannot be done now; the message says why."""


@dataclass(frozen=True)
class FloorRequest:
    site_id: str
    precedence: int
    requested_at: float  # time.time()


class Floor:
    def __init__(self, order: Order = "precedence") -> None:
        self.order: Order = order
        self.holder: str | None = None
        self.granted_at: float | None = None
        self.limit_seconds: int | None = None
        self._queue: list[FloorRequest] = []

    @property
    def queue(self) -> list[FloorRequest]:
        if self.order == "time":
            return sorted(self._queue, key=lambda r: r.requested_at)
        return sorted(self._queue, key=lambda r: (r.precedence, r.requested_at))

    def request(self, site_id: str, precedence: int, at: float | None = None) -> int:
        """Queue ``site_id`` (once); returns its position, 1 being next."""
        if site_id == self.holder:
            raise FloorError("this site already has the floor")
        if not any(r.site_id == site_id for r in self._queue):
            self._queue.append(FloorRequest(site_id, precedence, at or time.time()))
        return self.position(site_id)

    def position(self, site_id: str) -> int:
        for index, request in enumerate(self.queue, start=1):
            if request.site_id == site_id:
                return index
        return 0

    def withdraw(self, site_id: str) -> bool:
        before = len(self._queue)
        self._queue = [r for r in self._queue if r.site_id != site_id]
        return len(self._queue) != before

    def grant(
        self, site_id: str, limit_seconds: int | None = None, at: float | None = None
    ) -> None:
        if limit_seconds is not None and not 10 <= limit_seconds <= 3600:
            raise FloorError("a speaking-time limit is between 10 s and 1 hour")
        self.withdraw(site_id)
        self.holder = site_id
        self.granted_at = at or time.time()
        self.limit_seconds = limit_seconds

    def release(self) -> str | None:
        """End the current turn; returns who held the floor."""
        holder, self.holder = self.holder, None
        self.granted_at = None
        self.limit_seconds = None
        return holder

    def remaining(self, now: float | None = None) -> float | None:
        if self.holder is None or self.limit_seconds is None or self.granted_at is None:
            return None
        return self.granted_at + self.limit_seconds - (now or time.time())

    def forget(self, site_id: str) -> None:
        """A site left for good: out of the queue, and off the floor."""
        self.withdraw(site_id)
        if self.holder == site_id:
            self.release()

    def snapshot(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "granted_at": self.granted_at,
            "limit_seconds": self.limit_seconds,
            "queue": [r.site_id for r in self.queue],
            "order": self.order,
        }
