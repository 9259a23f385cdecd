"""Times as organisers give them: IANA zones, local wall-clock times, and their UTC instants.

A time arrives either aware (``2025-03-30T09:00:00+02:00``, ``…Z``) or naive with the zone
it was planned in (``2025-03-30T09:00:00`` + ``Europe/Paris``). A naive time that does not
exist in its zone (the hour skipped when clocks go forward) or that happens twice (the hour
repeated when they go back) is refused, naming the field: guessing would put a meeting an
hour off. Everything is stored in UTC, to the second (iCalendar has no fractions).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from server.errors import InvalidInput
from server.fields import FIRST_YEAR, LAST_YEAR
from server.i18n_strings import N_
from server.ical.ics import iana_zone
from server.models import ConferenceStatus


def field_error(
    field: str, message: str, code: str = "invalid_input", **params: str
) -> InvalidInput:
    """A 422 naming one field, in the shape the API uses for validation errors; with
    ``params``, ``message`` is a template (``N_("%(name)s is listed twice")``), filled in
    English for the API and in the reader's language on a page."""
    error: dict[str, object] = {"field": field, "message": message % params if params else message}
    if params:
        error |= {"template": message, "params": params}
    return InvalidInput(f"{field}: {error['message']}", code=code, errors=[error])


def not_a_status(name: str) -> InvalidInput:
    """The 422 for a conference status that does not exist, listing those that do."""
    known = ", ".join(s.value for s in ConferenceStatus)
    return field_error(
        "status", N_("%(name)s is not a status (%(known)s)"), name=repr(name), known=known
    )


def check_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The zone of an IANA name (``Asia/Vientiane``); anything else is refused."""
    if not isinstance(name, str) or iana_zone(name) != name:
        raise field_error(
            field,
            N_("%(name)s is not an IANA time zone (for example Asia/Ho_Chi_Minh, Europe/Paris)"),
            "bad_time_zone",
            name=repr(name),
        )
    return ZoneInfo(name)


def within_years(instant: dt.datetime | None, raw: object, field: str) -> dt.datetime:
    """``instant`` if it lies in the years Concord plans for; ``None`` means it overflowed."""
    if instant is None or not FIRST_YEAR <= instant.year <= LAST_YEAR:
        raise field_error(
            field,
            N_("%(value)s is outside the years %(first)s to %(last)s"),
            "out_of_range",
            value=str(raw),
            first=str(FIRST_YEAR),
            last=str(LAST_YEAR),
        )
    return instant


def to_utc(value: dt.datetime, zone: ZoneInfo, field: str) -> dt.datetime:
    """The UTC instant of ``value``: aware as given, or naive read as wall-clock in ``zone``;
    refused outside ``FIRST_YEAR``..``LAST_YEAR`` (year 1 or 9999 overflowed the arithmetic)."""
    try:
        instant: dt.datetime | None = _to_utc(value, zone, field)
    except OverflowError:
        instant = None
    return within_years(instant, value.isoformat(), field)


def _to_utc(value: dt.datetime, zone: ZoneInfo, field: str) -> dt.datetime:
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(microsecond=0)
    first = value.replace(tzinfo=zone, fold=0)
    second = value.replace(tzinfo=zone, fold=1)
    back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if back != value:
        raise field_error(
            field,
            N_("%(time)s does not exist in %(zone)s: the clocks go forward then"),
            "nonexistent_local_time",
            time=f"{value:%Y-%m-%d %H:%M}",
            zone=zone.key,
        )
    if first.utcoffset() != second.utcoffset():
        raise field_error(
            field,
            N_(
                "%(time)s happens twice in %(zone)s (the clocks go back then); give it with its"
                " UTC offset, %(first)s or %(second)s"
            ),
            "ambiguous_local_time",
            time=f"{value:%Y-%m-%d %H:%M}",
            zone=zone.key,
            first=_offset(first),
            second=_offset(second),
        )
    return first.astimezone(dt.UTC).replace(microsecond=0)


def _offset(value: dt.datetime) -> str:
    return value.isoformat(timespec="minutes")


def local_iso(instant: dt.datetime, zone_name: str) -> str:
    """``instant`` as an ISO 8601 local time with its offset in ``zone_name``."""
    return instant.astimezone(ZoneInfo(zone_name)).isoformat()


def parse_instant(raw: str, field: str) -> dt.datetime:
    """An aware instant from a query parameter (``2025-03-30T08:00:00Z``) or a date (UTC)."""
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise field_error(
            field, N_("%(value)s is not an ISO 8601 date or time"), value=repr(raw)
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        instant: dt.datetime | None = value.astimezone(dt.UTC)
    except OverflowError:
        instant = None
    return within_years(instant, repr(raw), field)


def iso_list(values: list[dt.datetime]) -> list[str]:
    return [v.astimezone(dt.UTC).isoformat() for v in sorted(set(values))]


def from_iso_list(values: list[Any]) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(str(v)).astimezone(dt.UTC) for v in values]
