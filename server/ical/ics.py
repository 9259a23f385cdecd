"""All of Concord's iCalendar (RFC 5545) and iTIP (RFC 5546) output, through ``icalendar``.

This module (with ``ics_parse`` and ``recurrence`` beside it) is the only place that knows the
iCalendar format, and it knows nothing of the database or the web: callers turn sessions into
``CalendarEvent`` values and get bytes back (``calendar``), or get events from bytes
(``parse``), or occurrences of a series (``expand``).

iTIP rules the writer enforces (RFC 5546 §3.2, VEVENT tables):

- ``PUBLISH``: a read-only copy. ORGANIZER is required, ATTENDEE must not be present (the
  writer leaves attendees out), events may have different UIDs.
- ``REQUEST``: an invitation, or an update of one. All VEVENTs share one UID (a session, or a
  series with its overrides), ORGANIZER and at least one ATTENDEE are required, STATUS may
  only be TENTATIVE or CONFIRMED. An update re-sends the whole event with the same UID and a
  higher SEQUENCE: the caller passes ``sequence`` + 1 whenever the times, place, recurrence
  or status change, and the same sequence for cosmetic changes. Receivers keep the copy with
  the highest SEQUENCE (then the latest DTSTAMP).
- ``CANCEL``: the same UID, a SEQUENCE higher than the last REQUEST's (the caller passes it,
  so at least 1), STATUS:CANCELLED (set by the writer), all attendees when the whole event is
  cancelled, no VALARM. Cancelling one occurrence of a series is a CANCEL of an event whose
  ``recurrence_id`` names that occurrence.
- ``None``: a plain calendar without iTIP semantics (downloads and subscription feeds), with
  attendees.

One iTIP message carries one UID, so a conference's invitations are one message per session
or series, while its ``.ics`` download and the personal feed hold every session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vCalAddress, vRecur

from .events import (
    ZONE_PARAM,
    Attendee,
    AttendeeRole,
    CalendarEvent,
    IcsError,
    PartStat,
    Person,
    Recurrence,
    Status,
    iana_zone,
    representable,
)
from .ics_parse import ParsedCalendar, parse, parse_calendar
from .recurrence import Occurrence, expand, series_last_start
from .rendered import Rendered, RenderedEvents, key_of

__all__ = [
    "PRODID",
    "Attendee",
    "AttendeeRole",
    "CalendarEvent",
    "IcsError",
    "Method",
    "Occurrence",
    "ParsedCalendar",
    "PartStat",
    "Person",
    "Recurrence",
    "RenderedEvents",
    "Status",
    "calendar",
    "expand",
    "iana_zone",
    "parse",
    "parse_calendar",
]

Method = Literal["PUBLISH", "REQUEST", "CANCEL"]

PRODID = "-//Concord//Concord conference scheduling//EN"


def calendar(
    events: Iterable[CalendarEvent],
    *,
    method: Method | None = None,
    name: str | None = None,
    stamp: datetime | None = None,
    refresh_interval: timedelta | None = None,
    cache: RenderedEvents | None = None,
) -> bytes:
    """One VCALENDAR (UTF-8 bytes, CRLF lines, folded at 75 octets) holding ``events``.

    Each event is a VEVENT followed by one VEVENT per override (same UID, RECURRENCE-ID).
    DTSTART, DTEND, EXDATE and RECURRENCE-ID are written as local times with TZID in the
    zone the session was planned in (UTC ones with ``Z``), and every zone used gets a
    VTIMEZONE covering the years the calendar spans. ``stamp`` is the DTSTAMP of events
    without one (default: now). ``name`` becomes NAME and X-WR-CALNAME, ``refresh_interval``
    REFRESH-INTERVAL and X-PUBLISHED-TTL (for subscription feeds). See the module docstring
    for the rules of each ``method``; breaking them raises ``ValueError``.
    """
    events = list(events)
    if method not in (None, "PUBLISH", "REQUEST", "CANCEL"):
        raise ValueError(f"unknown iTIP method {method!r}")
    _check_method(events, method)
    now = utc_stamp(stamp)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    if refresh_interval is not None:
        cal.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", refresh_interval)
    spans: dict[str, list[datetime]] = {}
    bodies = []
    for event in events:
        rendered = _rendered(event, method, now, cache)
        bodies.append(rendered.body)
        for zone, first, last in rendered.spans:
            spans.setdefault(zone, []).extend((first, last))
    for tzid in sorted(spans):
        local_years = [instant.astimezone(ZoneInfo(tzid)).year for instant in spans[tzid]]
        cal.add_component(_vtimezone(tzid, min(local_years), max(local_years)))
    head = bytes(cal.to_ical())
    if not head.endswith(_END):
        raise AssertionError("icalendar did not end the calendar with END:VCALENDAR")
    return b"".join((head[: -len(_END)], *bodies, _END))


_END = b"END:VCALENDAR\r\n"


def _rendered(
    event: CalendarEvent, method: Method | None, now: datetime, cache: RenderedEvents | None
) -> Rendered:
    """The event's VEVENT and its overrides' as icalendar serialises them (from ``cache``)."""
    key = key_of(event, method, now)
    found = cache.get(key) if cache is not None else None
    if found is not None:
        return found
    spans: dict[str, list[datetime]] = {}
    body = b"".join(
        bytes(_vevent(written, method, now, spans).to_ical())
        for written in (event, *event.overrides)
    )
    rendered = Rendered.of(body, spans)
    if cache is not None:
        cache.put(key, rendered)
    return rendered


def utc_stamp(stamp: datetime | None) -> datetime:
    """A DTSTAMP value: ``stamp`` (aware) in UTC, or now."""
    if stamp is None:
        return datetime.now(UTC).replace(microsecond=0)
    if stamp.tzinfo is None:
        raise ValueError("the stamp must be an aware datetime")
    return stamp.astimezone(UTC).replace(microsecond=0)


def _check_method(events: Sequence[CalendarEvent], method: Method | None) -> None:
    if method is None:
        return
    if not events:
        raise ValueError(f"a {method} message needs at least one event")
    for event in events:
        if event.organizer is None:
            raise ValueError(f"{method} needs an ORGANIZER (event {event.uid!r})")
    if method == "PUBLISH":
        return
    uids = {event.uid for event in events}
    if len(uids) != 1:
        raise ValueError(
            f"a {method} message carries one UID (one session or series), not {len(uids)}"
        )
    for event in (e for top in events for e in (top, *top.overrides)):
        if method == "REQUEST":
            if not event.attendees:
                raise ValueError(f"REQUEST needs at least one ATTENDEE (event {event.uid!r})")
            if event.status == Status.CANCELLED:
                raise ValueError("a cancelled event is sent with CANCEL, not REQUEST")
        elif event.sequence < 1:
            raise ValueError(
                "CANCEL needs a SEQUENCE above the invitation's (pass the last sequence + 1)"
            )


class _Zoned:
    """Chooses how each instant of one event is written, and records the zones it uses."""

    def __init__(self, zone_name: str, spans: dict[str, list[datetime]]) -> None:
        self.zone_name = zone_name
        self.spans = spans

    def __call__(
        self, instant: datetime, *, keep_zone: bool = False
    ) -> tuple[datetime, dict[str, str]]:
        """The value (and parameters) to write: a local time in the event's zone if possible.

        A UTC event is written in UTC (no VTIMEZONE needed). An instant in the second pass of
        a repeated hour cannot be a local time (RFC 5545 §3.3.5 reads it as the first pass),
        so it is written in UTC; on DTSTART the zone is kept in ``X-CONCORD-TZID`` so that
        ``parse`` gives the same event back.
        """
        if self.zone_name == "UTC":
            return instant, {}
        zone = ZoneInfo(self.zone_name)
        if representable(instant, zone):
            self.spans.setdefault(self.zone_name, []).append(instant)
            return instant.astimezone(zone), {}
        return instant, ({ZONE_PARAM: self.zone_name} if keep_zone else {})


def _vevent(
    event: CalendarEvent, method: Method | None, now: datetime, spans: dict[str, list[datetime]]
) -> Event:
    when = _Zoned(event.time_zone, spans)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.dtstamp or now)
    vevent.add("sequence", event.sequence)
    for prop, instant in (("dtstart", event.start), ("dtend", event.end)):
        value, params = when(instant, keep_zone=prop == "dtstart")
        vevent.add(prop, value, parameters=params)
    if event.recurrence_id is not None:
        vevent.add("recurrence-id", when(event.recurrence_id)[0])
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    status = Status.CANCELLED if method == "CANCEL" else event.status
    vevent.add("status", str(status))
    if event.last_modified is not None:
        vevent.add("last-modified", event.last_modified)
    if event.organizer is not None:
        vevent.add("organizer", _address(event.organizer))
    if method != "PUBLISH":
        for attendee in event.attendees:
            vevent.add("attendee", _address(attendee))
    if event.recurrence is not None:
        _add_recurrence(vevent, event, when)
    if method != "CANCEL":
        for minutes in event.alarms:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", event.summary)
            alarm.add("trigger", timedelta(minutes=-minutes))
            vevent.add_component(alarm)
    return vevent


def _add_recurrence(vevent: Event, event: CalendarEvent, when: _Zoned) -> None:
    recurrence = event.recurrence
    assert recurrence is not None
    vevent.add("rrule", vRecur.from_ical(recurrence.rule))
    if event.time_zone != "UTC":
        # The VTIMEZONE must cover the whole series, not only its first session.
        last = series_last_start(recurrence.rule, event.start, ZoneInfo(event.time_zone))
        when.spans.setdefault(event.time_zone, []).append(last)
    local: list[datetime] = []
    in_utc: list[datetime] = []
    for exdate in recurrence.exdates:
        value, _ = when(exdate)
        (in_utc if value.tzinfo is UTC else local).append(value)
    for group in (local, in_utc):
        if group:
            vevent.add("exdate", group)


def _address(person: Person | Attendee) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    if isinstance(person, Attendee):
        address.params["ROLE"] = str(person.role)
        address.params["PARTSTAT"] = str(person.partstat)
        address.params["RSVP"] = "TRUE" if person.rsvp else "FALSE"
    return address


@lru_cache(maxsize=512)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of an IANA zone from 1 January ``first_year`` to the end of ``last_year``.

    Built by icalendar from ``zoneinfo`` (the tzdata package), one STANDARD or DAYLIGHT
    sub-component per transition. Cached because it is slow for some zones (tens of ms); the
    cached component is shared between calendars and never changed.
    """
    first, last = date(first_year, 1, 1), date(last_year + 1, 1, 1)
    return Timezone.from_tzid(tzid, first_date=first, last_date=last)
