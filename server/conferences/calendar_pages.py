"""The month calendar (``/calendar?month=2026-11``) and the week (``/calendar/week?week=
2026-11-02``): the viewer's conferences and their sessions (series expanded), each on the day
it starts in the viewer's zone."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.conferences.bookings import conference_occurrences
from server.conferences.queries import ConferenceFilter, find_conferences
from server.conferences.timing import field_error
from server.i18n_strings import N_
from server.keys import DATABASE, LOCALE
from server.models import AgendaSession, Conference
from server.route_table import SIGNED_IN, RouteTable
from server.web import identity, render

#: The most conferences one month shows.
MONTH_LIMIT = 200


@dataclass(frozen=True)
class CalendarEntry:
    conference: Conference
    title: str
    start: dt.datetime | None  # None: the conference itself (no sessions that day)
    end: dt.datetime | None


@dataclass
class Cell:
    date: dt.date
    in_month: bool
    entries: list[CalendarEntry] = field(default_factory=list)


def parse_month(raw: str | None, today: dt.date) -> dt.date:
    """The first day of ``YYYY-MM`` (default: this month)."""
    if not raw:
        return today.replace(day=1)
    try:
        return dt.datetime.strptime(raw, "%Y-%m").date()
    except ValueError:
        raise field_error(
            "month", N_("%(value)s is not a month (YYYY-MM, e.g. 2026-11)"), value=repr(raw)
        ) from None


def month_grid(first: dt.date) -> list[list[Cell]]:
    """Weeks (Monday first) covering the month."""
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [[Cell(day, day.month == first.month) for day in week] for week in weeks]


def _shift(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


async def fill(request: web.Request, cells: dict[dt.date, Cell], zone: ZoneInfo) -> None:
    """Put the viewer's occurrences (or conferences without any) on the cells' days."""
    first, last = min(cells), max(cells)
    start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    wanted = ConferenceFilter(starts_from=start, until=end, limit=MONTH_LIMIT)
    async with request.app[DATABASE].session() as db:
        found, _ = await find_conferences(db, identity(request), wanted)
        loaded = list(
            await db.scalars(
                select(Conference)
                .where(Conference.id.in_([c.id for c in found]))
                .options(selectinload(Conference.sessions).selectinload(AgendaSession.sites))
            )
        )
    for conf in loaded:
        listed = conference_occurrences(conf, (start, end))
        for occurrence in listed:
            day = occurrence.start.astimezone(zone).date()
            if day in cells:
                cells[day].entries.append(
                    CalendarEntry(conf, occurrence.row.title, occurrence.start, occurrence.end)
                )
        if not listed:
            day = max(conf.starts_at, start).astimezone(zone).date()
            if day in cells:
                cells[day].entries.append(CalendarEntry(conf, conf.title, None, None))
    for cell in cells.values():
        cell.entries.sort(key=lambda e: (e.start is not None, e.start or start))


async def calendar_page(request: web.Request) -> web.Response:
    zone = ZoneInfo(identity(request).time_zone or "UTC")
    first = parse_month(request.query.get("month"), dt.datetime.now(zone).date())
    weeks = month_grid(first)
    await fill(request, {cell.date: cell for week in weeks for cell in week}, zone)
    locale = request.get(LOCALE, "en")
    context = {
        "weeks": weeks,
        "month_label": format_date(first, "LLLL y", locale=locale),
        "weekdays": [format_date(week_day.date, "EEE", locale=locale) for week_day in weeks[0]],
        "previous": f"{_shift(first, -1):%Y-%m}",
        "following": f"{_shift(first, 1):%Y-%m}",
        "first_week": f"{weeks[0][0].date:%Y-%m-%d}",
        "today": dt.datetime.now(zone).date(),
        "zone": zone.key,
    }
    return render(request, "calendar_month.html", context)


def parse_week(raw: str | None, today: dt.date) -> dt.date:
    """The Monday of the week holding ``YYYY-MM-DD`` (default: this week)."""
    day = today
    if raw:
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise field_error(
                "week", N_("%(value)s is not a date (YYYY-MM-DD)"), value=repr(raw)
            ) from None
    return day - dt.timedelta(days=day.weekday())


async def week_page(request: web.Request) -> web.Response:
    zone = ZoneInfo(identity(request).time_zone or "UTC")
    monday = parse_week(request.query.get("week"), dt.datetime.now(zone).date())
    days = [Cell(monday + dt.timedelta(days=n), True) for n in range(7)]
    await fill(request, {cell.date: cell for cell in days}, zone)
    locale = request.get(LOCALE, "en")
    context = {
        "days": [(cell, format_date(cell.date, "EEEE d MMMM", locale=locale)) for cell in days],
        "week_label": format_date(monday, "d MMMM y", locale=locale),
        "previous": f"{monday - dt.timedelta(days=7):%Y-%m-%d}",
        "following": f"{monday + dt.timedelta(days=7):%Y-%m-%d}",
        "month": f"{monday:%Y-%m}",
        "today": dt.datetime.now(zone).date(),
        "zone": zone.key,
    }
    return render(request, "calendar_week.html", context)


def add_routes(table: RouteTable) -> None:
    table.get("/calendar", calendar_page, SIGNED_IN, name="calendar_month")
    table.get("/calendar/week", week_page, SIGNED_IN, name="calendar_week")
