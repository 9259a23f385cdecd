"""Serialised VEVENTs kept by value, so that a calendar of mostly unchanged events is fast.

icalendar spends about 0.35 ms on each VEVENT of a session (a third of it folding lines one
character at a time), so a 1,000-session feed or conference ``.ics`` takes 350–500 ms to
serialise, while the database and the mapping to ``CalendarEvent`` values take ~50 ms. Most of
a calendar does not change between two renders, and a ``CalendarEvent`` is a frozen value: the
same value always serialises to the same bytes. ``calendar()`` therefore keeps each event's
bytes (the VEVENT and its overrides, exactly as icalendar wrote them) under the event, the
iTIP method and the DTSTAMP used, and only serialises what it has not seen.

The zones and instants an event needs VTIMEZONEs for are kept with its bytes, so a calendar
assembled from the cache declares the same VTIMEZONEs as one rendered from scratch (the tests
check that both are byte for byte the same).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from .events import CalendarEvent

#: What the cache holds by default: about 12,000 sessions with a dozen attendees each.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024

Key = tuple[CalendarEvent, str | None, datetime]


@dataclass(frozen=True)
class Rendered:
    """One event's VEVENTs as bytes, and per zone the first and last instant written in it."""

    body: bytes
    spans: tuple[tuple[str, datetime, datetime], ...]

    @classmethod
    def of(cls, body: bytes, spans: Mapping[str, list[datetime]]) -> Rendered:
        return cls(body, tuple((zone, min(i), max(i)) for zone, i in sorted(spans.items()) if i))

    def stored_spans(self) -> list[list[str]]:
        """The spans as JSON-ready lists (zone, first, last in ISO 8601)."""
        return [[zone, first.isoformat(), last.isoformat()] for zone, first, last in self.spans]

    @classmethod
    def from_stored(cls, body: bytes, spans: list[list[str]]) -> Rendered:
        return cls(
            body,
            tuple(
                (zone, datetime.fromisoformat(first), datetime.fromisoformat(last))
                for zone, first, last in spans
            ),
        )


def key_of(event: CalendarEvent, method: str | None, now: datetime) -> Key:
    """The cache key of ``event`` in a calendar with ``method`` written at ``now``."""
    return (event, method, event.dtstamp or now)


def digest(key: Key) -> str:
    """A digest of a key that is the same in every process (``hash()`` is not): for keeping
    rendered events outside the process. ``repr`` of the frozen values is complete and stable:
    strings, datetimes, enums and tuples only."""
    return hashlib.sha256(repr(key).encode("utf-8")).hexdigest()


class RenderedEvents:
    """A least-recently-used map from (event, method, DTSTAMP) to its rendered VEVENTs.

    Bounded by the total size of the bytes it holds. Calendars are rendered in worker threads,
    so every access takes a lock. Owned by the application (one per process) and shared by the
    personal feeds and the conferences' ``.ics`` files; ``hits`` and ``misses`` are counted for
    the tests and the benchmark.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Key, Rendered] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.pruned_at = -1e9  # time.monotonic() of the last prune of stored renderings

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes held."""
        return self._size

    def get(self, key: Key) -> Rendered | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return found

    def peek(self, key: Key) -> Rendered | None:
        """The entry, without counting a hit or moving it."""
        with self._lock:
            return self._entries.get(key)

    def __contains__(self, key: Key) -> bool:
        with self._lock:
            return key in self._entries

    def put(self, key: Key, rendered: Rendered) -> None:
        if len(rendered.body) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._entries[key] = rendered
            self._size += len(rendered.body)
            while self._size > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped.body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0
