"""The plain values the iCalendar module reads and writes: events, people, recurrence.

They are frozen dataclasses that validate and normalise themselves on construction, so a
``CalendarEvent`` that exists is one that can be written to an ``.ics`` file and read back
equal: times are aware and in UTC with whole seconds (iCalendar has no fractions), the zone
is an IANA name, lists are tuples in a canonical order. A bad value raises ``ValueError``
with a message in English meant for the organiser; ``parse`` turns those into ``IcsError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from .recurrence import MAX_SERIES_YEARS, check_start, is_occurrence
from .rrules import normalize_rule, rule_of

#: Parameter keeping the planning zone of a DTSTART that had to be written in UTC (a start in
#: the repeated hour at the end of DST cannot be a local time: RFC 5545 §3.3.5).
ZONE_PARAM = "X-CONCORD-TZID"

_EMAIL = re.compile(r"^[^@\s\"<>():;,\\]+@[^@\s\"<>():;,\\]+$")


class IcsError(ValueError):
    """A broken or unacceptable ``.ics`` file, naming the line and property when known.

    ``line`` is the 1-based physical line of the file where the problem is (the first line of
    a folded content line); ``property`` is the iCalendar property or component name.
    """

    def __init__(self, line: int | None, property: str | None, message: str) -> None:
        self.line = line
        self.property = property
        self.message = message
        where = []
        if line is not None:
            where.append(f"line {line}")
        if property is not None:
            where.append(property)
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class AttendeeRole(StrEnum):
    """ATTENDEE;ROLE= (RFC 5545 §3.2.16)."""

    CHAIR = "CHAIR"
    REQ_PARTICIPANT = "REQ-PARTICIPANT"
    OPT_PARTICIPANT = "OPT-PARTICIPANT"
    NON_PARTICIPANT = "NON-PARTICIPANT"


class PartStat(StrEnum):
    """ATTENDEE;PARTSTAT= for events (RFC 5545 §3.2.12)."""

    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TENTATIVE = "TENTATIVE"
    DELEGATED = "DELEGATED"


class Status(StrEnum):
    """VEVENT STATUS (RFC 5545 §3.8.1.11)."""

    TENTATIVE = "TENTATIVE"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


@cache
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def iana_zone(tzid: str) -> str | None:
    """The IANA name a TZID stands for, or ``None``.

    Accepts an IANA name (``Europe/Paris``), a Windows name as Outlook writes it (``Romance
    Standard Time`` → ``Europe/Paris``, through CLDR's table that icalendar ships) and a
    "globally unique" TZID with a vendor prefix (``/mozilla.org/20050126_1/Europe/Paris``).
    """
    cleaned = tzid.strip().strip('"').strip("/")
    if cleaned in _iana_zones():
        return cleaned
    mapped = WINDOWS_TO_OLSON.get(cleaned)
    if mapped in _iana_zones():
        return mapped
    if tzid.strip().startswith("/"):
        parts = cleaned.split("/")
        for index in range(1, len(parts)):
            candidate = "/".join(parts[index:])
            if candidate in _iana_zones():
                return candidate
    return None


def utc(value: datetime, what: str) -> datetime:
    """``value`` in UTC with whole seconds; refuses naive datetimes."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime (with a time zone)")
    return value.astimezone(UTC).replace(microsecond=0)


def representable(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether ``instant`` can be written as a wall-clock time in ``zone``.

    It cannot when it falls in the second pass of a repeated hour (the end of DST): RFC 5545
    §3.3.5 reads such a local time as its first occurrence.
    """
    local = instant.astimezone(zone).replace(fold=0)
    return local.astimezone(UTC) == instant


def _text(value: object, what: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    if required and not value.strip():
        raise ValueError(f"{what} is empty")
    return value


def _email(value: object, what: str) -> str:
    text = _text(value, what, required=True).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if not _EMAIL.match(text):
        raise ValueError(f"{what} {text!r} is not an e-mail address")
    return text


@dataclass(frozen=True)
class Person:
    """The ORGANIZER: a name (CN) and an e-mail address (written as ``mailto:``)."""

    name: str
    email: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "the organizer's name"))
        object.__setattr__(self, "email", _email(self.email, "the organizer's address"))


@dataclass(frozen=True)
class Attendee:
    """An ATTENDEE with its CN, ROLE, PARTSTAT and RSVP parameters."""

    name: str
    email: str
    role: AttendeeRole = AttendeeRole.REQ_PARTICIPANT
    partstat: PartStat = PartStat.NEEDS_ACTION
    rsvp: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name, "the attendee's name"))
        object.__setattr__(self, "email", _email(self.email, "the attendee's address"))
        object.__setattr__(self, "role", AttendeeRole(self.role))
        object.__setattr__(self, "partstat", PartStat(self.partstat))
        if not isinstance(self.rsvp, bool):
            raise ValueError("rsvp must be True or False")


@dataclass(frozen=True)
class Recurrence:
    """RRULE and EXDATEs of a series.

    ``rule`` is an RFC 5545 RECUR value such as ``FREQ=WEEKLY;BYDAY=TU;COUNT=10`` (validated
    and made canonical, see ``rrules.normalize_rule``); ``exdates`` are the starts (any
    aware datetime, kept in UTC, sorted) of the occurrences that were removed.
    """

    rule: str
    exdates: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", normalize_rule(self.rule))
        exdates = sorted({utc(d, "an excluded date (EXDATE)") for d in self.exdates})
        object.__setattr__(self, "exdates", tuple(exdates))

    @property
    def count(self) -> int | None:
        """The rule's COUNT, if it has one."""
        return rule_of(self.rule).count


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT: a session, a series of sessions, or one moved occurrence of a series.

    ``start``/``end`` are instants (any aware datetime; kept in UTC) and ``time_zone`` is the
    IANA zone the session was planned in: DTSTART and DTEND are written in it. Attendees keep
    their order; alarms, EXDATEs and overrides are sorted. ``sequence`` is
    the RFC 5546 revision number the caller keeps: 0 for the first invitation, +1 for every
    change that matters to attendees (times, place, recurrence, cancellation). ``alarms`` are
    reminders in minutes before the start. A series has ``recurrence``; its moved (or
    otherwise changed) occurrences are ``overrides``: events with the same UID whose
    ``recurrence_id`` is the start the rule gave the occurrence. An event with
    ``recurrence_id`` and no series around it is an occurrence sent on its own (for example
    the CANCEL of one occurrence). ``dtstamp`` is written as DTSTAMP; when it is ``None`` the
    writer stamps the time of writing.
    """

    uid: str
    summary: str
    start: datetime
    end: datetime
    time_zone: str
    sequence: int = 0
    description: str = ""
    location: str = ""
    url: str | None = None
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    status: Status = Status.CONFIRMED
    alarms: tuple[int, ...] = ()
    recurrence: Recurrence | None = None
    recurrence_id: datetime | None = None
    overrides: tuple[CalendarEvent, ...] = ()
    dtstamp: datetime | None = None
    last_modified: datetime | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        uid = _text(self.uid, "the UID", required=True)
        if any(ch in uid for ch in "\r\n"):
            raise ValueError("the UID must be one line")
        setter(self, "summary", _text(self.summary, "the title (SUMMARY)", required=True))
        setter(self, "description", _text(self.description, "the description"))
        setter(self, "location", _text(self.location, "the location"))
        if self.url is not None:
            setter(self, "url", _text(self.url, "the URL", required=True).strip())
        start, end = utc(self.start, "the start"), utc(self.end, "the end")
        if end <= start:
            raise ValueError(f"the end {end:%Y-%m-%d %H:%M} UTC is not after the start")
        setter(self, "start", start)
        setter(self, "end", end)
        if not isinstance(self.time_zone, str) or self.time_zone not in _iana_zones():
            raise ValueError(f"{self.time_zone!r} is not an IANA time zone (e.g. Europe/Paris)")
        if not isinstance(self.sequence, int) or self.sequence < 0:
            raise ValueError("the SEQUENCE must be a whole number, 0 or more")
        setter(self, "status", Status(self.status))
        if any(not isinstance(m, int) or m < 0 for m in self.alarms):
            raise ValueError("reminders are whole minutes before the start, 0 or more")
        setter(self, "alarms", tuple(sorted(set(self.alarms), reverse=True)))
        setter(self, "attendees", tuple(self.attendees))
        emails = [a.email.lower() for a in self.attendees]
        if len(set(emails)) != len(emails):
            raise ValueError("an attendee is listed twice (the same e-mail address)")
        for name in ("recurrence_id", "dtstamp", "last_modified"):
            value = getattr(self, name)
            if value is not None:
                setter(self, name, utc(value, name.replace("_", " ")))
        self._check_series()

    def _check_series(self) -> None:
        overrides = tuple(sorted(self.overrides, key=lambda o: o.recurrence_id or o.start))
        object.__setattr__(self, "overrides", overrides)
        if self.recurrence is None:
            if overrides:
                raise ValueError("only a recurring event (with a rule) can have overrides")
            return
        if self.recurrence_id is not None:
            raise ValueError("a moved occurrence (RECURRENCE-ID) cannot have its own rule")
        zone = ZoneInfo(self.time_zone)
        if not representable(self.start, zone):
            raise ValueError(
                "a series cannot start in the repeated hour at the end of daylight saving time"
            )
        check_start(self.recurrence.rule, self.start, zone)
        seen: set[datetime] = set()
        for override in overrides:
            check_override(self, override)
            assert override.recurrence_id is not None
            if override.recurrence_id in seen:
                raise ValueError(f"two overrides of the occurrence {override.recurrence_id}")
            seen.add(override.recurrence_id)


def check_override(series: CalendarEvent, override: CalendarEvent) -> None:
    """Raise ``ValueError`` unless ``override`` can replace an occurrence of ``series``."""
    assert series.recurrence is not None
    rid = override.recurrence_id
    if rid is None:
        raise ValueError("an override needs the RECURRENCE-ID of the occurrence it replaces")
    if override.uid != series.uid:
        raise ValueError(f"an override has UID {override.uid!r}, its series {series.uid!r}")
    if override.recurrence is not None or override.overrides:
        raise ValueError("an override cannot have a rule or overrides of its own")
    zone = ZoneInfo(series.time_zone)
    local = rid.astimezone(zone)
    if rid in series.recurrence.exdates:
        raise ValueError(f"the occurrence of {local:%Y-%m-%d %H:%M} is excluded (EXDATE)")
    if rid - series.start > timedelta(days=366 * MAX_SERIES_YEARS):
        raise ValueError(
            f"RECURRENCE-ID {local:%Y-%m-%d} is more than {MAX_SERIES_YEARS} years after the"
            " start of its series"
        )
    if not is_occurrence(series.recurrence.rule, series.start, zone, rid):
        raise ValueError(
            f"RECURRENCE-ID {local:%Y-%m-%d %H:%M} {series.time_zone} is not an occurrence"
            f" of the series' rule {series.recurrence.rule}"
        )
