"""Occurrences of a series, computed with dateutil in the zone the series was planned in.

DTSTART's wall-clock time is kept for every occurrence (a weekly 09:00 Europe/Paris meeting
stays at 09:00 Paris time, so its UTC time moves by an hour at each DST change), as RFC 5545
§3.3.10 describes. Local times that fall in a DST gap or overlap are read the RFC 5545 §3.3.5
way, which is what ``zoneinfo`` does with ``fold=0``: a time in the gap uses the offset
before the gap, a time in the overlap means its first pass.

Which rules are accepted, and the constant-time membership test that spares dateutil long
searches, are in ``rrules``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import vRecur

from server.i18n_strings import N_

from .rrules import RuleError, generates, rule_of

if TYPE_CHECKING:
    from .events import CalendarEvent

#: How far an open-ended series is taken to run when a span must be chosen (VTIMEZONE).
OPEN_SERIES_YEARS = 10
#: The furthest from its start that a series is followed: its VTIMEZONE span, the last
#: occurrence of a COUNT series, and where a moved occurrence (RECURRENCE-ID) may be.
MAX_SERIES_YEARS = 20

#: dateutil looks for the next occurrence period after period until this year.
_LAST_YEAR = MAXYEAR
#: The Gregorian calendar repeats every 400 years, weekdays and leap years included.
_CYCLE = 400


@lru_cache(maxsize=1024)
def _split_until(rule: str) -> tuple[str, datetime | None]:
    """The rule without UNTIL, and UNTIL (UTC): the search runs on naive local times."""
    parts = vRecur.from_ical(rule)
    until = parts.pop("UNTIL", [None])[0]
    return str(vRecur(parts).to_ical().decode("ascii")), until


def occurrences(rule: str, start: datetime, zone: ZoneInfo, limit: datetime) -> Iterator[datetime]:
    """The starts (UTC, in order) that the rule gives a series starting at ``start``, up to
    ``limit`` included.

    The rule runs on wall-clock time in ``zone`` and each local time is then read the RFC 5545
    §3.3.5 way (``fold=0``), so a 09:00 series stays at 09:00 across DST changes. dateutil
    looks for the next occurrence period after period up to the year 9999, even past UNTIL
    or when there is none: for a rule whose occurrences are rare, or that never comes back
    (``FREQ=MONTHLY;INTERVAL=2;BYMONTH=2`` from January), that is seconds of work. So the
    search runs on dates moved forward by whole 400-year cycles, which keep weekdays and
    leap years, until the year 9999 comes at most one cycle after ``limit``.
    """
    text, until = _split_until(rule)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_limit = limit.astimezone(zone).replace(tzinfo=None)
    shift = max(0, (_LAST_YEAR - 1 - local_limit.year) // _CYCLE * _CYCLE)
    built = rrulestr(f"RRULE:{text}", dtstart=_years(local_start, shift))
    for found in built:
        local = _years(found, -shift)
        if local > local_limit + timedelta(hours=3):  # beyond any DST shift of the limit
            return
        instant = local.replace(tzinfo=zone).astimezone(UTC)
        if until is not None and instant > until:
            return
        if instant <= limit:
            yield instant


def _years(value: datetime, years: int) -> datetime:
    return value.replace(year=value.year + years)


def first_occurrence(rule: str, start: datetime, zone: ZoneInfo) -> datetime | None:
    """The first start dateutil gives, if it is ``start`` or earlier; else ``None``."""
    return next(occurrences(rule, start, zone, start), None)


def check_start(rule: str, start: datetime, zone: ZoneInfo) -> None:
    """Raise ``ValueError`` unless ``start`` is the first occurrence of the rule.

    RFC 5545 §3.8.5.3 leaves a DTSTART that is not on its rule undefined (clients differ),
    so the first session of a series must follow the rule. Decided arithmetically first, so
    that dateutil never searches far (see ``rrules``).
    """
    local = start.astimezone(zone)
    if not generates(rule, start, zone, start) or first_occurrence(rule, start, zone) != start:
        raise RuleError(
            N_(
                "the first session (%(start)s) is not an occurrence of the rule %(rule)s:"
                " the series must start on its rule"
            ),
            start=f"{local:%Y-%m-%d %H:%M} {zone.key}",
            rule=rule,
        )


def is_occurrence(rule: str, start: datetime, zone: ZoneInfo, instant: datetime) -> bool:
    """Whether ``instant`` is one of the starts the rule generates (EXDATEs not considered)."""
    if not generates(rule, start, zone, instant):
        return False
    if rule_of(rule).count is None:
        return True
    if instant > _add_years(start, MAX_SERIES_YEARS):
        return False
    return instant <= counted_until(rule, start, zone)


@lru_cache(maxsize=1024)
def counted_until(rule: str, start: datetime, zone: ZoneInfo) -> datetime:
    """The last start of a COUNT series (searched at most ``MAX_SERIES_YEARS`` ahead)."""
    tail = deque(occurrences(rule, start, zone, _add_years(start, MAX_SERIES_YEARS)), maxlen=1)
    return tail[0] if tail else start


def series_last_start(rule: str, start: datetime, zone: ZoneInfo) -> datetime:
    """The last start of a series (UTC), or a horizon for an open-ended one.

    Used to choose the span a VTIMEZONE must cover. Capped at ``MAX_SERIES_YEARS``.
    """
    parsed = rule_of(rule)
    if parsed.until is not None:
        return min(parsed.until, _add_years(start, MAX_SERIES_YEARS))
    if parsed.count is not None:
        return counted_until(rule, start, zone)
    return _add_years(start, OPEN_SERIES_YEARS)


def _add_years(instant: datetime, years: int) -> datetime:
    day = date(instant.year + years, instant.month, min(instant.day, 28))
    return instant.replace(year=day.year, month=day.month, day=day.day)


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of an event within a window.

    ``recurrence_id`` is the start the rule gave it (UTC): the RECURRENCE-ID that names it,
    even when it was moved. ``source`` is the event whose details apply: the series itself,
    or the override (moved occurrence) that replaced it.
    """

    recurrence_id: datetime
    start: datetime
    end: datetime
    source: CalendarEvent

    @property
    def moved(self) -> bool:
        return self.source.recurrence_id is not None

    @property
    def time_zone(self) -> str:
        return self.source.time_zone

    def local_start(self) -> datetime:
        """The start in the zone the occurrence was planned in."""
        return self.start.astimezone(ZoneInfo(self.source.time_zone))


def expand(
    event: CalendarEvent,
    window_start: datetime,
    window_end: datetime,
    *,
    max_occurrences: int = 10_000,
) -> list[Occurrence]:
    """The occurrences of ``event`` that overlap ``[window_start, window_end)``, by start.

    A series yields one occurrence per start of its RRULE, less its EXDATEs; an occurrence
    with an override (same UID, RECURRENCE-ID = the rule's start) takes the override's times
    and details, and is listed where the override puts it, so a moved occurrence can enter
    or leave the window. A cancelled override (STATUS:CANCELLED) removes the occurrence. An
    event without recurrence is a single occurrence. Every occurrence of a series lasts as
    long as the series' first one (RFC 5545 §3.8.5.3, "exact duration" for DTEND).

    Raises ``ValueError`` for a naive or empty window, or one holding more than
    ``max_occurrences`` occurrences.
    """
    if window_start.tzinfo is None or window_end.tzinfo is None:
        raise ValueError("the window must be given as aware datetimes")
    if window_end <= window_start:
        raise ValueError("the window ends before it starts")
    window_start, window_end = window_start.astimezone(UTC), window_end.astimezone(UTC)

    def overlaps(start: datetime, end: datetime) -> bool:
        return start < window_end and end > window_start

    if event.recurrence is None:
        if not overlaps(event.start, event.end):
            return []
        return [Occurrence(event.recurrence_id or event.start, event.start, event.end, event)]

    zone = ZoneInfo(event.time_zone)
    duration = event.end - event.start
    excluded = set(event.recurrence.exdates)
    overrides = {o.recurrence_id: o for o in event.overrides if o.recurrence_id is not None}
    found: list[Occurrence] = []
    # Occurrences that start before window_end and end after window_start overlap it.
    for start in occurrences(event.recurrence.rule, event.start, zone, window_end):
        if start in excluded or start in overrides or not overlaps(start, start + duration):
            continue
        found.append(Occurrence(start, start, start + duration, event))
        if len(found) > max_occurrences:
            raise ValueError(f"the window holds more than {max_occurrences} occurrences")
    for rid, override in overrides.items():
        if override.status != "CANCELLED" and overlaps(override.start, override.end):
            found.append(Occurrence(rid, override.start, override.end, override))
    found.sort(key=lambda o: (o.start, o.recurrence_id))
    if len(found) > max_occurrences:
        raise ValueError(f"the window holds more than {max_occurrences} occurrences")
    return found
