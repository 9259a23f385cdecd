"""Attendance and floor interventions for the minutes, computed from the room's event log.

The room stores every ``room.event`` with its time (docs/signalling.md); the minutes read:

- presence: a site is present from ``site.connected`` (its media is flowing) until
  ``site.left``, ``site.removed`` or ``site.reconnecting`` (its connection dropped).
  ``lobby.admitted`` alone is not presence: a site admitted whose media never connected did
  not attend. A drop that is back within ``bridge`` (a minute by default) is not a gap: the
  minutes would otherwise list a site's every network hiccup as leaving and coming back.
- the room's end: ``room.ended`` (the conference ended) and ``room.interrupted`` (the
  server stopped; docs/signalling.md) end every site's presence and the floor. A process
  that was killed has its sites' ``site.left`` written at the crash time when the next one
  starts (server/live/heartbeat.py), so they are not shown present past it.
- the floor: ``floor.granted`` to a site until ``floor.released``, the floor being granted to
  another site, or the holder leaving or being removed. A holder that is reconnecting keeps
  the floor (as the room does) so the intervention goes on.

Events before the session start count (a site connected at 08:55 is present at 09:00); times
are clipped to the session. Naive times (SQLite) are taken as UTC, as the database stores them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rooms.room_state import REOPENED as ROOM_REOPENED
from server.minutes.document import Interval, Intervention, SiteAttendance

#: (at, type, site_id): a row of ``room_events``.
RoomEvent = tuple[dt.datetime, str, int | None]

JOINED = frozenset({"site.connected"})
GONE = frozenset({"site.left", "site.removed", "site.reconnecting"})
LEFT_ROOM = frozenset({"site.left", "site.removed"})
ROOM_CLOSED = frozenset({"room.ended", "room.interrupted"})
#: A restarted process reopened the room as it was (``rooms.room_state``): its ``site_id`` is
#: the floor holder whose turn goes on (none: nobody held the floor).
REOPENED = ROOM_REOPENED

#: Default allowance for arriving late / leaving early before the flag is set.
GRACE = dt.timedelta(minutes=5)
#: Default gap in presence that is not counted as leaving.
BRIDGE = dt.timedelta(minutes=1)


def _utc(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _ordered(events: Iterable[RoomEvent]) -> list[RoomEvent]:
    # Stable: events with the same time keep the log's order (the room's order of emission).
    return sorted(((_utc(at), kind, site) for at, kind, site in events), key=lambda e: e[0])


@dataclass(frozen=True)
class _Span:
    start: dt.datetime
    end: dt.datetime


def _clip(spans: Iterable[_Span], start: dt.datetime, end: dt.datetime) -> list[_Span]:
    out = []
    for span in spans:
        s, e = max(span.start, start), min(span.end, end)
        if e > s:
            out.append(_Span(s, e))
    return out


def attendance(
    events: Iterable[RoomEvent],
    start: dt.datetime,
    end: dt.datetime,
    *,
    session_uid: str,
    sites: Iterable[int] = (),
    grace: dt.timedelta = GRACE,
    bridge: dt.timedelta = BRIDGE,
) -> tuple[SiteAttendance, ...]:
    """Per site (by id), when it was present during ``start``–``end``; ``sites`` lists sites
    expected, so that one that never came appears too (absent, no intervals). A present site
    is ``late`` when it first came after ``start + grace`` and ``left_early`` when it was last
    seen before ``end - grace``."""
    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError("the session ends before it starts")
    opened: dict[int, dt.datetime] = {}
    spans: dict[int, list[_Span]] = {site: [] for site in sites}
    for at, kind, site in _ordered(events):
        if at > end:
            continue
        if kind in ROOM_CLOSED:
            for gone, since in opened.items():
                spans[gone].append(_Span(since, at))
            opened.clear()
        if site is None:
            continue
        spans.setdefault(site, [])
        if kind in JOINED:
            opened.setdefault(site, at)
        elif kind in GONE and site in opened:
            spans[site].append(_Span(opened.pop(site), at))
    for site, since in opened.items():
        spans[site].append(_Span(since, end))
    rows = []
    for site in sorted(spans):
        merged: list[_Span] = []
        for span in sorted(_clip(spans[site], start, end), key=lambda s: s.start):
            if merged and span.start - merged[-1].end <= bridge:
                merged[-1] = _Span(merged[-1].start, max(merged[-1].end, span.end))
            else:
                merged.append(span)
        intervals = tuple(Interval(s.start, s.end) for s in merged)
        rows.append(
            SiteAttendance(
                session_uid=session_uid,
                site_id=site,
                intervals=intervals,
                late=bool(intervals) and intervals[0].start > start + grace,
                left_early=bool(intervals) and intervals[-1].end < end - grace,
            )
        )
    return tuple(rows)


def interventions(
    events: Iterable[RoomEvent],
    start: dt.datetime,
    end: dt.datetime,
    *,
    session_uid: str,
) -> tuple[Intervention, ...]:
    """Each time a site held the floor during ``start``–``end``, in order. An intervention
    still going at ``end`` ends there; one of no length after clipping is left out."""
    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError("the session ends before it starts")
    holder: tuple[int, dt.datetime] | None = None
    found: list[tuple[int, _Span]] = []

    def close(at: dt.datetime) -> None:
        nonlocal holder
        if holder is not None:
            found.append((holder[0], _Span(holder[1], at)))
            holder = None

    for at, kind, site in _ordered(events):
        if at > end:
            break
        if kind in ("floor.granted", REOPENED) and site is not None:
            close(at)
            holder = (site, at)
        elif kind == "floor.released" and holder is not None and site in (None, holder[0]):
            close(at)
        elif kind in LEFT_ROOM and holder is not None and site == holder[0]:
            close(at)
        elif kind in ROOM_CLOSED:
            close(at)
    close(end)
    out = []
    for site, span in found:
        for clipped in _clip([span], start, end):
            out.append(Intervention(session_uid, site, clipped.start, clipped.end))
    return tuple(out)


def speaking_time(found: Sequence[Intervention]) -> dict[int, float]:
    """Seconds on the floor per site (for the minutes' summary line)."""
    totals: dict[int, float] = {}
    for intervention in found:
        totals[intervention.site_id] = totals.get(intervention.site_id, 0.0) + intervention.seconds
    return totals
