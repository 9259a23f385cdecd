"""Viet Nam's public holidays: the lists shipped in ``holidays_vn.json`` (2025 to 2027, with
their source), and the operator's ``CONCORD_PERMIT_HOLIDAYS`` over them.

A year is *known* when one of the two lists it; a working day is never counted in a year that
is not (``workdays.HolidaysUnknown``): a missing list would silently make Tết working days.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

SHIPPED = Path(__file__).with_name("holidays_vn.json")


@cache
def shipped() -> Mapping[int, frozenset[dt.date]]:
    """The weekdays off of each year in ``holidays_vn.json``."""
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return {
        int(year): frozenset(dt.date.fromisoformat(day) for day, _why in listed["days"])
        for year, listed in data["years"].items()
    }


def by_year(
    configured: Iterable[dt.date], base: Mapping[int, frozenset[dt.date]] | None = None
) -> dict[int, frozenset[dt.date]]:
    """The holidays per known year: a year the operator lists replaces the shipped one."""
    years = dict(shipped() if base is None else base)
    given: dict[int, set[dt.date]] = {}
    for day in configured:
        given.setdefault(day.year, set()).add(day)
    years.update({year: frozenset(days) for year, days in given.items()})
    return years
