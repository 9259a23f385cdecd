"""Calendars assembled from cached VEVENT bytes are the calendars icalendar writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from server.ical.ics import CalendarEvent, Recurrence, Status, calendar
from server.ical.rendered import RenderedEvents

from .independent import read
from .test_ics import ATTENDEES, HANOI, NEW_YORK, PARIS, STAMP, session, weekly_series


def mixed() -> list[CalendarEvent]:
    """Sessions in three zones, a series with a moved occurrence, the repeated DST hour."""
    return [
        session("hanoi@x", datetime(2026, 6, 2, 9, 0, tzinfo=HANOI)),
        session("ny@x", datetime(2026, 3, 9, 9, 0, tzinfo=NEW_YORK), description="Line\n; 2"),
        weekly_series(),
        session("fold@x", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), time_zone="Europe/Paris"),
        session("utc@x", datetime(2027, 1, 4, 12, 0, tzinfo=UTC), time_zone="UTC"),
    ]


def test_cached_calendar_is_byte_for_byte_what_icalendar_writes() -> None:
    events = mixed()
    plain = calendar(events, name="Feed", stamp=STAMP)
    cache = RenderedEvents()
    filled = calendar(events, name="Feed", stamp=STAMP, cache=cache)
    assert (cache.hits, cache.misses) == (0, len(events))
    from_cache = calendar(events, name="Feed", stamp=STAMP, cache=cache)
    assert (cache.hits, cache.misses) == (len(events), len(events))
    assert plain == filled == from_cache
    # icalendar reads it and writes the very same bytes back: nothing was written by hand.
    assert bytes(Calendar.from_ical(from_cache).to_ical()) == from_cache
    # The independent reader finds every event and a VTIMEZONE for every zone used.
    found = read(from_cache)
    assert sorted(found.zones) == ["America/New_York", "Asia/Ho_Chi_Minh", "Europe/Paris"]
    assert len(found.events) == len(events) + 1  # the moved occurrence


def test_one_changed_event_is_the_only_one_serialised_again() -> None:
    events = mixed()
    cache = RenderedEvents()
    calendar(events, stamp=STAMP, cache=cache)
    changed = [*events[:2], replace(events[2], summary="Weekly (room changed)"), *events[3:]]
    before = cache.misses
    body = calendar(changed, stamp=STAMP, cache=cache)
    assert cache.misses == before + 1
    assert b"SUMMARY:Weekly (room changed)" in body
    assert body == calendar(changed, stamp=STAMP)


def test_zones_and_years_come_with_cached_events() -> None:
    """A calendar made only of cached events still declares every zone over every year."""
    series = session(
        "long@x",
        datetime(2026, 11, 3, 9, 0, tzinfo=PARIS),
        recurrence=Recurrence("FREQ=MONTHLY;BYDAY=1TU;COUNT=20"),
    )
    cache = RenderedEvents()
    calendar([series, session("h@x", datetime(2026, 6, 2, 9, 0, tzinfo=HANOI))], cache=cache)
    alone = calendar([series], cache=cache)
    assert cache.hits == 1
    assert alone == calendar([series])
    text = alone.decode()
    assert text.count("BEGIN:VTIMEZONE") == 1 and "TZID:Asia/Ho_Chi_Minh" not in text
    zone = read(alone).zones["Europe/Paris"]
    summer_2028 = datetime(2028, 7, 1, 12, 0, tzinfo=zone)
    assert summer_2028.utcoffset() == timedelta(hours=2)


def test_method_and_stamp_are_part_of_the_key() -> None:
    cache = RenderedEvents()
    event = session("x@x", datetime(2026, 6, 2, 9, 0, tzinfo=HANOI))
    listed = calendar([event], cache=cache)
    invited = calendar([event], method="REQUEST", cache=cache)
    cancelled = calendar([replace(event, sequence=1)], method="CANCEL", cache=cache)
    assert cache.hits == 0 and len(cache) == 3
    assert b"ATTENDEE" in listed and b"ATTENDEE" in invited
    assert b"BEGIN:VALARM" not in cancelled and b"STATUS:CANCELLED" in cancelled
    published = calendar([event], method="PUBLISH", cache=cache)
    assert b"ATTENDEE" not in published
    unstamped = replace(event, dtstamp=None)
    first = calendar([unstamped], stamp=STAMP, cache=cache)
    later = calendar([unstamped], stamp=STAMP + timedelta(seconds=1), cache=cache)
    assert b"DTSTAMP:20260105T080000Z" in first and b"DTSTAMP:20260105T080001Z" in later


def test_the_cache_is_bounded_by_bytes_least_recently_used_first() -> None:
    events = [
        session(f"s{n}@x", datetime(2026, 6, 1, 9, 0, tzinfo=HANOI) + timedelta(days=n))
        for n in range(6)
    ]
    probe = RenderedEvents()
    calendar(events[:1], cache=probe)
    one = probe.size  # every event here serialises to the same length
    cache = RenderedEvents(max_bytes=3 * one + one // 2)
    calendar(events[:3], cache=cache)
    calendar(events[:1], cache=cache)  # s0 is now the most recently used
    calendar(events[3:4], cache=cache)  # s1 is dropped to make room
    assert len(cache) == 3 and cache.size <= cache.max_bytes
    hits = cache.hits
    calendar([events[0], events[2], events[3]], cache=cache)
    assert cache.hits == hits + 3
    misses = cache.misses
    calendar(events[1:2], cache=cache)
    assert cache.misses == misses + 1

    nothing = RenderedEvents(max_bytes=0)
    calendar(events, cache=nothing)
    calendar(events, cache=nothing)
    assert len(nothing) == 0 and nothing.hits == 0 and nothing.misses == 12


def test_a_cancelled_session_in_a_feed_is_rendered_again() -> None:
    cache = RenderedEvents()
    event = session("c@x", datetime(2026, 6, 2, 9, 0, tzinfo=HANOI), attendees=ATTENDEES[:1])
    calendar([event], cache=cache)
    cancelled = calendar([replace(event, status=Status.CANCELLED, sequence=1)], cache=cache)
    assert b"STATUS:CANCELLED" in cancelled and b"SEQUENCE:1" in cancelled
