"""Reading ``.ics`` files into ``CalendarEvent`` values, refusing anything broken or hostile.

``icalendar`` is lenient by design: it skips lines it cannot read, turns unknown TZIDs into
floating times, keeps unparseable values as ``vBroken`` and records errors without line
numbers. So the raw text is first scanned (``ics_scan``: size, encoding, control characters,
content-line syntax, CHARSET, BEGIN/END nesting and depth, number of VEVENTs), which also
maps every component and property to its line in the file; then icalendar parses the text
and each VEVENT is checked against that map, so every error names its line and property.

Decisions (for importing sessions):

- Encoding: UTF-8 only (RFC 5545 §3.1.4; a UTF-8 byte order mark is allowed). Another
  declared CHARSET, or bytes that are not UTF-8, are refused rather than guessed.
- Times: DTSTART and DTEND need a TZID naming an IANA zone (Windows names and vendor-prefixed
  TZIDs are mapped to one) or UTC (``Z``). The IANA rules are used, not the file's VTIMEZONE.
  Floating times (neither TZID nor Z) are refused: a session seen from Hanoi, Vientiane and
  Paris must be one instant. All-day (DATE) values are refused: sessions have times.
- Ends: DTEND is required; DURATION is refused; DTEND must be after DTSTART.
- Recurrence: one RRULE (the supported subset, see ``rrules``), EXDATEs, and overrides
  (VEVENTs with the same UID and a RECURRENCE-ID); RDATE, EXRULE and RANGE=THISANDFUTURE
  are refused.
- Reminders: VALARMs with a relative trigger before the start in whole minutes are kept;
  other alarms (absolute triggers, Apple's "none" alarm...) are left out, as reminders are
  not part of a session.
- Other components (VTODO, VJOURNAL, X- components) are ignored; METHOD may be absent,
  PUBLISH, REQUEST or CANCEL.
- Nothing partial: ``parse`` returns every event or raises ``IcsError``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Component
from icalendar import error as icalendar_error

from .events import (
    ZONE_PARAM,
    Attendee,
    AttendeeRole,
    CalendarEvent,
    IcsError,
    PartStat,
    Person,
    Recurrence,
    check_override,
    iana_zone,
)
from .ics_scan import ScannedComponent, decode, scan

#: Default limits of ``parse``: 1 MiB, 2,000 VEVENTs, components nested 4 deep (VCALENDAR >
#: VEVENT > VALARM > VLOCATION is the deepest RFC 5545/9074 allows). Reading is linear in
#: the size (icalendar itself takes about 2 s per MiB on this 2-core machine, and the checks
#: here as much again), so a server should call ``parse`` in a worker thread.
MAX_BYTES = 1024 * 1024
MAX_EVENTS = 2000
MAX_DEPTH = 4
#: Series with both COUNT and overrides each need their occurrences counted (up to 20 years
#: of periods) to check the overrides' RECURRENCE-IDs; a file may hold this many.
MAX_COUNTED_SERIES = 100

_TZID_GUESSED: type[Warning] = getattr(icalendar_error, "GloballyUniqueTZIDGuessed", UserWarning)
_SINGLE = (
    "UID DTSTART DTEND DURATION SUMMARY DESCRIPTION LOCATION SEQUENCE STATUS ORGANIZER URL"
    " RECURRENCE-ID RRULE DTSTAMP LAST-MODIFIED"
).split()
_REFUSED = {
    "DURATION": "DURATION is not supported: give the end of the session as DTEND",
    "RDATE": "RDATE is not supported: use RRULE, EXDATE and moved occurrences",
    "EXRULE": "EXRULE is not supported (RFC 5545 deprecated it): use RRULE and EXDATE",
}


@dataclass(frozen=True)
class ParsedCalendar:
    """What ``parse_calendar`` reads: the iTIP METHOD (if any), the calendar's name, events."""

    method: str | None
    name: str | None
    events: list[CalendarEvent]


def parse(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_events: int = MAX_EVENTS,
    max_depth: int = MAX_DEPTH,
) -> list[CalendarEvent]:
    """The events of an ``.ics`` file; overrides are inside their series (``overrides``).

    Raises ``IcsError`` naming the line and property of the first problem (see the module
    docstring for what is refused). Overrides whose series is not in the file are returned
    as events of their own, with ``recurrence_id`` set.
    """
    parsed = parse_calendar(data, max_bytes=max_bytes, max_events=max_events, max_depth=max_depth)
    return parsed.events


def parse_calendar(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_events: int = MAX_EVENTS,
    max_depth: int = MAX_DEPTH,
) -> ParsedCalendar:
    """Like ``parse``, with the calendar's METHOD and name."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse() takes the file's bytes")
    text = decode(bytes(data), max_bytes)
    root = scan(text, max_events, max_depth)
    try:
        with warnings.catch_warnings():
            # TZIDs are resolved here (``iana_zone``), so icalendar's guesses are not news.
            warnings.simplefilter("ignore", _TZID_GUESSED)
            cal = Calendar.from_ical(text)
    except Exception as exc:  # icalendar is lenient; anything it still rejects is reported
        raise IcsError(None, None, f"the file cannot be read as iCalendar: {exc}") from None
    if not isinstance(cal, Calendar):
        raise IcsError(root.line, "VCALENDAR", "the file does not hold one VCALENDAR")
    method, name = _calendar_properties(cal, root)
    vtimezones = {str(c.get("TZID")) for c in cal.subcomponents if c.name == "VTIMEZONE"}
    reader = _EventReader(vtimezones)
    found: list[tuple[CalendarEvent, ScannedComponent]] = []
    children = _aligned(cal, root)
    for component, node in children:
        if component.name == "VEVENT":
            found.append((reader.read(component, node), node))
    return ParsedCalendar(method, name, _group(found))


def _aligned(
    component: Component, node: ScannedComponent
) -> list[tuple[Component, ScannedComponent]]:
    """Pair icalendar's sub-components with the scanned ones (both are in file order)."""
    pairs = list(zip(component.subcomponents, node.children, strict=False))
    if len(component.subcomponents) != len(node.children) or any(
        c.name != n.name for c, n in pairs
    ):
        raise IcsError(node.line, node.name, "the components of the file could not be read")
    return pairs


def _calendar_properties(cal: Calendar, root: ScannedComponent) -> tuple[str | None, str | None]:
    for prop, message in cal.errors:
        raise IcsError(root.line_of(prop) if prop else root.line, prop, message)
    version = cal.get("VERSION")
    if version is not None and str(version).strip() != "2.0":
        raise IcsError(
            root.line_of("VERSION"), "VERSION", f"VERSION:{version} is not iCalendar 2.0"
        )
    scale = cal.get("CALSCALE")
    if scale is not None and str(scale).upper() != "GREGORIAN":
        raise IcsError(root.line_of("CALSCALE"), "CALSCALE", f"CALSCALE:{scale} is not supported")
    method = cal.get("METHOD")
    if method is not None:
        method = str(method).upper()
        if method not in ("PUBLISH", "REQUEST", "CANCEL"):
            raise IcsError(
                root.line_of("METHOD"),
                "METHOD",
                f"METHOD:{method} is not supported (only PUBLISH, REQUEST and CANCEL)",
            )
    name = cal.get("NAME") or cal.get("X-WR-CALNAME")
    return method, (str(name) if name is not None else None)


class _EventReader:
    """Turns one icalendar VEVENT (and its scanned node) into a ``CalendarEvent``."""

    def __init__(self, vtimezones: set[str]) -> None:
        self.vtimezones = vtimezones

    def read(self, comp: Component, node: ScannedComponent) -> CalendarEvent:
        for prop, message in comp.errors:
            raise IcsError(node.line_of(prop) if prop else node.line, prop, message)
        for prop in _SINGLE:
            if len(node.props.get(prop, [])) > 1:
                first, second = node.props[prop][:2]
                raise IcsError(
                    second, prop, f"{prop} appears twice in a VEVENT (also line {first})"
                )
        for prop, message in _REFUSED.items():
            if prop in node.props:
                raise IcsError(node.line_of(prop), prop, message)
        uid = self._text(comp, node, "UID", required=True)
        summary = self._text(comp, node, "SUMMARY", required=True)
        if "DTSTART" not in comp:
            raise IcsError(node.line, "DTSTART", "DTSTART is missing")
        if "DTEND" not in comp:
            raise IcsError(node.line, "DTEND", "DTEND is missing: a session needs an end")
        start, zone = self._instant(comp["DTSTART"], node, "DTSTART")
        end, _ = self._instant(comp["DTEND"], node, "DTEND")
        if end <= start:
            local = ZoneInfo(zone)
            raise IcsError(
                node.line_of("DTEND"),
                "DTEND",
                f"DTEND {end.astimezone(local):%Y-%m-%d %H:%M} is not after DTSTART"
                f" {start.astimezone(local):%Y-%m-%d %H:%M} ({zone})",
            )
        values: dict[str, Any] = {
            "uid": uid,
            "summary": summary,
            "start": start,
            "end": end,
            "time_zone": zone,
            "description": self._text(comp, node, "DESCRIPTION"),
            "location": self._text(comp, node, "LOCATION"),
            "url": self._text(comp, node, "URL") or None,
            "sequence": self._sequence(comp, node),
            "status": self._status(comp, node),
            "alarms": _alarms(comp),
        }
        for prop, key in (("DTSTAMP", "dtstamp"), ("LAST-MODIFIED", "last_modified")):
            if prop in comp:
                values[key] = self._instant(comp[prop], node, prop)[0]
        if "RECURRENCE-ID" in comp:
            rid = comp["RECURRENCE-ID"]
            if str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE":
                raise IcsError(
                    node.line_of("RECURRENCE-ID"),
                    "RECURRENCE-ID",
                    "RANGE=THISANDFUTURE is not supported: send the changed series instead",
                )
            values["recurrence_id"] = self._instant(rid, node, "RECURRENCE-ID")[0]
        values["organizer"] = self._organizer(comp, node)
        values["attendees"] = self._attendees(comp, node)
        values["recurrence"] = self._recurrence(comp, node, start, zone)
        try:
            return CalendarEvent(**values)
        except ValueError as exc:
            raise IcsError(node.line, "VEVENT", str(exc)) from None

    def _text(
        self, comp: Component, node: ScannedComponent, prop: str, *, required: bool = False
    ) -> str:
        value = comp.get(prop)
        text = "" if value is None else str(value)
        if required and not text.strip():
            message = f"{prop} is missing" if value is None else f"{prop} is empty"
            raise IcsError(node.line_of(prop), prop, message)
        return text

    def _sequence(self, comp: Component, node: ScannedComponent) -> int:
        value = comp.get("SEQUENCE", 0)
        if not isinstance(value, int) or value < 0:
            raise IcsError(node.line_of("SEQUENCE"), "SEQUENCE", "SEQUENCE must be 0 or more")
        return int(value)

    def _status(self, comp: Component, node: ScannedComponent) -> str:
        status = str(comp.get("STATUS", "CONFIRMED")).upper()
        if status not in ("TENTATIVE", "CONFIRMED", "CANCELLED"):
            raise IcsError(
                node.line_of("STATUS"),
                "STATUS",
                f"STATUS:{status} is not an event status (TENTATIVE, CONFIRMED, CANCELLED)",
            )
        return status

    def _instant(
        self, prop: Any, node: ScannedComponent, name: str, index: int = 0
    ) -> tuple[datetime, str]:
        """The UTC instant of a DATE-TIME property and the IANA zone it was given in."""
        line = node.line_of(name, index)
        value = getattr(prop, "dt", None)
        params = getattr(prop, "params", {})
        if isinstance(value, date) and not isinstance(value, datetime):
            raise IcsError(
                line, name, "all-day dates are not supported: a session needs a start time"
            )
        if not isinstance(value, datetime):
            raise IcsError(line, name, f"{name} is not a date-time")
        tzid = params.get("TZID")
        if tzid:
            zone = iana_zone(str(tzid))
            if zone is None:
                where = (
                    " (defined only by a VTIMEZONE in this file)" if tzid in self.vtimezones else ""
                )
                raise IcsError(
                    line,
                    name,
                    f"TZID {tzid!r}{where} is not an IANA time zone such as Europe/Paris",
                )
            local = value.replace(tzinfo=ZoneInfo(zone), fold=0)
            return local.astimezone(UTC), zone
        if value.tzinfo is None or value.utcoffset() is None:
            raise IcsError(
                line,
                name,
                "floating time (neither TZID nor Z): give the time zone of the session",
            )
        if value.utcoffset() != timedelta(0):
            raise IcsError(line, name, f"{name} has an offset but no TZID")
        zone = "UTC"
        if params.get(ZONE_PARAM):
            zone = iana_zone(str(params[ZONE_PARAM])) or "UTC"
        return value.astimezone(UTC).replace(microsecond=0), zone

    def _organizer(self, comp: Component, node: ScannedComponent) -> Person | None:
        if "ORGANIZER" not in comp:
            return None
        prop = comp["ORGANIZER"]
        email = _mailto(prop, node.line_of("ORGANIZER"), "ORGANIZER")
        try:
            return Person(name=str(prop.params.get("CN", "")), email=email)
        except ValueError as exc:
            raise IcsError(node.line_of("ORGANIZER"), "ORGANIZER", str(exc)) from None

    def _attendees(self, comp: Component, node: ScannedComponent) -> tuple[Attendee, ...]:
        props = comp.get("ATTENDEE", [])
        props = props if isinstance(props, list) else [props]
        attendees = []
        for index, prop in enumerate(props):
            line = node.line_of("ATTENDEE", index)
            email = _mailto(prop, line, "ATTENDEE")
            rsvp = str(prop.params.get("RSVP", "FALSE")).upper()
            if rsvp not in ("TRUE", "FALSE"):
                raise IcsError(line, "ATTENDEE", f"RSVP={rsvp} must be TRUE or FALSE")
            try:
                attendees.append(
                    Attendee(
                        name=str(prop.params.get("CN", "")),
                        email=email,
                        role=AttendeeRole(str(prop.params.get("ROLE", "REQ-PARTICIPANT")).upper()),
                        partstat=PartStat(str(prop.params.get("PARTSTAT", "NEEDS-ACTION")).upper()),
                        rsvp=rsvp == "TRUE",
                    )
                )
            except ValueError as exc:
                raise IcsError(line, "ATTENDEE", str(exc)) from None
        return tuple(attendees)

    def _recurrence(
        self, comp: Component, node: ScannedComponent, start: datetime, zone: str
    ) -> Recurrence | None:
        exdates: list[datetime] = []
        props = comp.get("EXDATE", [])
        for index, prop in enumerate(props if isinstance(props, list) else [props]):
            for value in prop.dts:
                exdates.append(self._instant(value, node, "EXDATE", index)[0])
        if "RRULE" not in comp:
            if exdates:
                raise IcsError(node.line_of("EXDATE"), "EXDATE", "EXDATE without an RRULE")
            return None
        recur = comp["RRULE"].to_ical()
        rule = recur.decode("utf-8") if isinstance(recur, bytes) else str(recur)
        try:
            return Recurrence(rule=rule, exdates=tuple(exdates))
        except ValueError as exc:
            raise IcsError(node.line_of("RRULE"), "RRULE", str(exc)) from None


def _mailto(prop: Any, line: int, name: str) -> str:
    address = str(prop)
    if not address.lower().startswith("mailto:"):
        raise IcsError(line, name, f"{name} {address!r} is not a mailto: e-mail address")
    return address[len("mailto:") :]


def _alarms(comp: Component) -> tuple[int, ...]:
    minutes = []
    for alarm in comp.subcomponents:
        if alarm.name != "VALARM" or alarm.errors:
            continue
        trigger = alarm.get("TRIGGER")
        delta = getattr(trigger, "dt", None)
        related = str(getattr(trigger, "params", {}).get("RELATED", "START")).upper()
        if isinstance(delta, timedelta) and related == "START" and delta <= timedelta(0):
            seconds = -int(delta.total_seconds())
            if seconds % 60 == 0:
                minutes.append(seconds // 60)
    return tuple(minutes)


def _group(found: list[tuple[CalendarEvent, ScannedComponent]]) -> list[CalendarEvent]:
    """Put overrides (same UID, RECURRENCE-ID) into their series; refuse reused UIDs."""
    series: dict[str, tuple[CalendarEvent, ScannedComponent]] = {}
    for event, node in found:
        if event.recurrence_id is None:
            if event.uid in series:
                first = series[event.uid][1].line
                raise IcsError(
                    node.line_of("UID"), "UID", f"UID {event.uid!r} is used twice (line {first})"
                )
            series[event.uid] = (event, node)
    overrides: dict[str, list[CalendarEvent]] = {}
    counted: set[str] = set()
    result: list[CalendarEvent] = []
    seen: dict[tuple[str, datetime], int] = {}
    for event, node in found:
        if event.recurrence_id is None:
            continue
        key = (event.uid, event.recurrence_id)
        if key in seen:
            raise IcsError(
                node.line_of("RECURRENCE-ID"),
                "RECURRENCE-ID",
                f"the occurrence is overridden twice (line {seen[key]})",
            )
        seen[key] = node.line_of("RECURRENCE-ID")
        master = series.get(event.uid)
        if master is None:
            continue
        if master[0].recurrence is None:
            raise IcsError(
                node.line_of("RECURRENCE-ID"),
                "RECURRENCE-ID",
                f"UID {event.uid!r} of line {master[1].line} is not a recurring event",
            )
        recurrence = master[0].recurrence
        if recurrence.count is not None and event.uid not in counted:
            counted.add(event.uid)
            if len(counted) > MAX_COUNTED_SERIES:
                raise IcsError(
                    master[1].line_of("RRULE"),
                    "RRULE",
                    f"more than {MAX_COUNTED_SERIES} series with COUNT have moved occurrences:"
                    " split the file",
                )
        try:
            check_override(master[0], event)
        except ValueError as exc:
            raise IcsError(node.line_of("RECURRENCE-ID"), "RECURRENCE-ID", str(exc)) from None
        overrides.setdefault(event.uid, []).append(event)
    for event, _node in found:
        if event.recurrence_id is None:
            result.append(replace(event, overrides=tuple(overrides.get(event.uid, ()))))
        elif event.uid not in series:
            result.append(event)
    return result
