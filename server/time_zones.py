"""Time zones as people look for them: cities and UTC offsets in their own language (CLDR).

IANA has about 600 names, many of them old aliases (``Asia/Saigon``, ``Africa/Asmera``) or
legacy ones (``US/Eastern``, ``EST5EDT``). People choose among the canonical ones in the
regional areas, plus UTC, each shown as "(UTC+07:00) Ho Chi Minh City · Vietnam Time" in the
reader's language (Babel), ordered by offset at a given moment (offsets change with daylight
saving time). ``search_text`` adds what someone might type instead: the names in every
language Concord speaks, the IANA name, "UTC+7", and capital cities that share another city's
zone (Hanoi). Pure: no database, no request; the names are computed once per language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import Locale, get_global
from babel.dates import get_timezone_location, get_timezone_name

from server.folding import fold
from server.i18n import LOCALES

AREAS = frozenset("Africa America Antarctica Asia Atlantic Australia Europe Indian Pacific".split())
#: Zones offered first in every zone picker: the seed's countries and its partners.
COMMON_ZONES = ("Asia/Ho_Chi_Minh", "Asia/Vientiane", "Asia/Bangkok", "Europe/Paris", "UTC")
#: Cities people name that have no zone of their own (their country's zone is another city's).
ALSO_KNOWN_AS = {
    "Asia/Ho_Chi_Minh": ("Hanoi", "Hà Nội", "Da Nang", "Đà Nẵng", "ຮ່າໂນ້ຍ"),
    "Asia/Shanghai": ("Beijing", "Bắc Kinh"),
    "Asia/Kolkata": ("New Delhi", "Mumbai"),
    "America/New_York": ("Washington",),
    "Australia/Sydney": ("Canberra",),
}


@dataclass(frozen=True)
class ZoneChoice:
    zone: str
    label: str
    offset_minutes: int
    also: str  # other words it is found by (folded): English names, short offset, Hanoi…

    @property
    def search_text(self) -> str:
        return fold(f"{self.label} {self.also}")


@cache
def canonical_zones() -> tuple[str, ...]:
    """The IANA zones offered: regional, not CLDR aliases, plus UTC."""
    aliases = get_global("zone_aliases")
    zones = {z for z in available_timezones() if z.split("/")[0] in AREAS and z not in aliases}
    return tuple(sorted(zones | {"UTC"}))


def common_choices(choices: list[ZoneChoice], common: tuple[str, ...]) -> list[ZoneChoice]:
    """The ``common`` zones' choices, in that order (offered first)."""
    by_zone = {c.zone: c for c in choices}
    return [by_zone[z] for z in common if z in by_zone]


def canonical(zone: str) -> str | None:
    """``zone`` as offered (an alias gives the zone it stands for), or None."""
    if zone in canonical_zones():
        return zone
    aliased = get_global("zone_aliases").get(zone)
    return aliased if aliased in canonical_zones() else None


def zone_country(zone: str) -> str | None:
    """The country (ISO 3166 alpha-2) whose zone ``zone`` is, per CLDR; None for UTC."""
    found = get_global("zone_territories").get(canonical(zone) or zone)
    return str(found) if found and found != "001" else None


@cache
def _names(locale: str) -> dict[str, tuple[str, str]]:
    """{zone: (city, generic name)} in ``locale``."""
    where = Locale.parse(locale)
    names = {}
    for zone in canonical_zones():
        if zone == "UTC":
            names[zone] = ("UTC", "UTC")
            continue
        city = get_timezone_location(zone, locale=where, return_city=True)
        name = get_timezone_name(zone, width="long", zone_variant="generic", locale=where)
        names[zone] = (city, name)
    return names


def offset_minutes(zone: str, at: dt.datetime) -> int:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta()
    return int(offset.total_seconds() // 60)


def utc_offset(minutes: int) -> str:
    """ "UTC+07:00", "UTC−03:30", "UTC±00:00"."""
    sign = "+" if minutes > 0 else "−" if minutes < 0 else "±"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def zone_label(zone: str, locale: str, at: dt.datetime) -> str:
    """A zone as people read it, "(UTC+07:00) Ho Chi Minh City · Vietnam Time" (the city
    alone when the zone's name repeats it)."""
    found = canonical(zone)
    if found is None:
        return zone
    city, name = _names(locale)[found]
    shown = city if name in (city, "") or city in name else f"{city} · {name}"
    return f"({utc_offset(offset_minutes(found, at))}) {shown}"


def zone_choices(locale: str, at: dt.datetime) -> list[ZoneChoice]:
    """Every offered zone with its label in ``locale``, by offset at ``at`` then label
    (computed once per language and hour: offsets change only at daylight-saving times)."""
    hour = at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return list(_choices(locale, hour))


@lru_cache(maxsize=8)
def _choices(locale: str, at: dt.datetime) -> tuple[ZoneChoice, ...]:
    choices = []
    for zone in canonical_zones():
        minutes = offset_minutes(zone, at)
        label = zone_label(zone, locale, at)
        hours, rest = divmod(abs(minutes), 60)
        sign = "-" if minutes < 0 else "+"
        short = f"utc{sign}{hours}" + (f":{rest:02d}" if rest else "")
        names = [name for language in LOCALES for name in _names(language)[zone]]
        extra = [zone.replace("_", " "), *names, short, *ALSO_KNOWN_AS.get(zone, ())]
        choices.append(ZoneChoice(zone, label, minutes, fold(" ".join(extra))))
    return tuple(sorted(choices, key=lambda c: (c.offset_minutes, c.label)))


def zone_search(choices: list[ZoneChoice]) -> dict[str, str]:
    """{zone: other words it is found by}, for the pages' zone pickers (their options already
    carry the label and the IANA name)."""
    return {c.zone: c.also for c in choices}


def find_zone(text: str, locale: str, at: dt.datetime) -> str | None:
    """The zone someone typed: an IANA name or alias, or the one choice whose search text
    holds every word typed ("Hanoi", "Viêng Chăn"); None when none or several match."""
    exact = canonical(text.strip())
    if exact is not None:
        return exact
    words = fold(text).split()
    if not words:
        return None
    matches = [c.zone for c in zone_choices(locale, at) if all(w in c.search_text for w in words)]
    return matches[0] if len(matches) == 1 else None
