"""Working-day arithmetic for statutory deadlines: weekends and a list of holidays are off.

Pure (no database, no clock): numpy's business-day calendar does the counting.

The conventions, as for administrative time limits:

- the day something is received is not counted; day 1 is the first working day after it, so
  a dossier received on a Saturday or a holiday starts counting on the next working day;
- ``deadline(received, n)`` is the n-th working day after ``received``: a decision taken on or
  before that date is on time;
- ``between(start, end)`` counts the working days after ``start`` up to and including ``end``
  (a decision the same day took 0 working days; negative when ``end`` is before ``start``).

A calendar given the years whose holidays it knows (``known_years``) refuses to count into any
other year (``HolidaysUnknown``) rather than count its holidays as working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from server.errors import Conflict
from server.i18n_strings import N_

ONE_DAY = dt.timedelta(days=1)
SATURDAY_SUNDAY = "1111100"  # numpy's week mask, Monday first


class HolidaysUnknown(Conflict):
    """409: a count of working days reaches a year whose public holidays nobody listed."""

    code = "holidays_unknown"

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            N_(
                "no public holidays are known for %(year)s, so working days cannot be counted"
                " in it: an administrator adds that year's days off to CONCORD_PERMIT_HOLIDAYS"
                " (or to server/permits/holidays_vn.json)"
            ),
            params={"year": str(year)},
        )


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[dt.date] = frozenset()
    week_mask: str = SATURDAY_SUNDAY
    time_zone: str = "UTC"  # the zone whose dates count (the authority's)
    known_years: frozenset[int] | None = None  # None: no year is refused
    _calendar: np.busdaycalendar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        days = np.array(sorted(self.holidays), dtype="datetime64[D]")
        calendar = np.busdaycalendar(weekmask=self.week_mask, holidays=days)
        object.__setattr__(self, "_calendar", calendar)

    @classmethod
    def of(cls, holidays: Iterable[dt.date], time_zone: str = "UTC") -> WorkingCalendar:
        return cls(frozenset(holidays), time_zone=time_zone)

    @classmethod
    def of_years(
        cls, years: Mapping[int, Iterable[dt.date]], time_zone: str = "UTC"
    ) -> WorkingCalendar:
        """A calendar that knows these years' holidays and refuses to count in any other."""
        days = frozenset(day for listed in years.values() for day in listed)
        return cls(days, time_zone=time_zone, known_years=frozenset(years))

    def check_known(self, first: dt.date, last: dt.date) -> None:
        """Raise ``HolidaysUnknown`` for the first year from ``first`` to ``last`` (either
        order) whose holidays this calendar does not know."""
        if self.known_years is None:
            return
        low, high = sorted((first, last))
        for year in range(low.year, high.year + 1):
            if year not in self.known_years:
                raise HolidaysUnknown(year)

    def local_date(self, moment: dt.datetime) -> dt.date:
        """The date of an aware timestamp in this calendar's zone."""
        return moment.astimezone(ZoneInfo(self.time_zone)).date()

    def is_working_day(self, day: dt.date) -> bool:
        self.check_known(day, day)
        return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=self._calendar))

    def deadline(self, received: dt.date, working_days: int) -> dt.date:
        """The ``working_days``-th working day after ``received`` (``received`` itself for 0)."""
        if working_days < 0:
            raise ValueError("a deadline is a number of working days, not less than 0")
        if working_days == 0:
            return received
        # Rolling a day off back to the working day before it does not change which working
        # days come after it.
        found = np.busday_offset(
            np.datetime64(received, "D"), working_days, roll="backward", busdaycal=self._calendar
        )
        due = _date(found)
        self.check_known(received, due)
        return due

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        self.check_known(start + ONE_DAY if start < end else start, end)
        return int(
            np.busday_count(
                np.datetime64(start + ONE_DAY, "D"),
                np.datetime64(end + ONE_DAY, "D"),
                busdaycal=self._calendar,
            )
        )


def _date(value: np.datetime64) -> dt.date:
    converted = value.astype("datetime64[D]").item()
    assert isinstance(converted, dt.date)
    return converted
