"""The timetable page: a conference's occurrences by day, each time shown in the viewer's zone,
the zone it was planned in and every participating site's zone side by side.

Series are expanded by the conferences code (``bookings.conference_occurrences``); removed
occurrences (EXDATEs) and cancelled sessions are listed too, struck through. Offsets are those
of each occurrence's own instant, so a DST change inside the conference shows per day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_date

from server.conferences.access import conference_roles
from server.conferences.bookings import conference_occurrences
from server.conferences.queries import conference_detail
from server.conferences.timing import from_iso_list
from server.keys import DATABASE, LOCALE
from server.models import AgendaSession, Conference, Role, SessionStatus, Site
from server.route_table import RouteTable, conference
from server.web import identity, int_param, render


@dataclass(frozen=True)
class LocalTime:
    """One occurrence seen from one zone."""

    zone: str
    start: dt.datetime
    end: dt.datetime

    @property
    def offset(self) -> str:
        """``UTC+07:00``, ``UTC+01:00``: the offset at the start (the one that applies)."""
        delta = self.start.utcoffset() or dt.timedelta()
        sign = "-" if delta < dt.timedelta() else "+"
        minutes = abs(int(delta.total_seconds())) // 60
        return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"

    @property
    def abbreviation(self) -> str:
        """The zone's letters (CET, CEST) when it has some; numeric names (+07) add nothing."""
        name = self.start.tzname() or ""
        return name if name.isalpha() and name != "UTC" else ""

    @property
    def other_day(self) -> bool:
        return self.start.date() != self.end.date()


@dataclass(frozen=True)
class Row:
    session: AgendaSession
    start: dt.datetime
    end: dt.datetime
    cancelled: bool
    moved: bool
    in_series: bool
    times: list[LocalTime]  # viewer, planned zone, then each site zone
    taking_part: list[bool]  # per site zone: whether one of its sites takes part
    edit_query: str  # the editor's query for this session (or this occurrence)


@dataclass(frozen=True)
class Day:
    date: dt.date
    label: str
    rows: list[Row]


def site_zones(sites: list[Site]) -> list[tuple[str, list[Site]]]:
    """The distinct zones of the sites, main hall's first, with the sites in each."""
    ordered = sorted(sites, key=lambda s: (not s.is_main_hall, s.id))
    zones: dict[str, list[Site]] = {}
    for site in ordered:
        zones.setdefault(site.time_zone, []).append(site)
    return list(zones.items())


def _times(
    start: dt.datetime, end: dt.datetime, planned: str, viewer: str, zones: list[str]
) -> list[LocalTime]:
    return [
        LocalTime(name, start.astimezone(ZoneInfo(name)), end.astimezone(ZoneInfo(name)))
        for name in [viewer, planned, *zones]
    ]


def _takes_part(session: AgendaSession, sites: list[Site]) -> bool:
    """A session with no sites listed is held at every site."""
    held_at = {site.id for site in session.sites}
    return not held_at or any(site.id in held_at for site in sites)


def timetable_rows(found: Conference, viewer: str) -> list[Row]:
    """Every occurrence (series expanded), removed occurrences and cancelled sessions."""
    grouped = site_zones(list(found.sites))
    zones = [zone for zone, _ in grouped]

    def row(
        session: AgendaSession,
        start: dt.datetime,
        end: dt.datetime,
        cancelled: bool,
        moved: bool,
        series: AgendaSession,
        recurrence_id: dt.datetime | None = None,
    ) -> Row:
        query = f"session={series.id}"
        if series.rrule and recurrence_id is not None:
            query += "&" + urlencode({"occurrence": recurrence_id.isoformat()})
        return Row(
            session,
            start,
            end,
            cancelled,
            moved,
            bool(series.rrule),
            _times(start, end, session.time_zone, viewer, zones),
            [_takes_part(session, sites) for _, sites in grouped],
            query,
        )

    rows = [
        row(o.row, o.start, o.end, False, o.row.series_id is not None, o.series, o.recurrence_id)
        for o in conference_occurrences(found)
    ]
    for session in found.sessions:
        if session.series_id is not None:
            continue
        length = session.ends_at - session.starts_at
        if session.status == SessionStatus.CANCELLED:
            rows.append(row(session, session.starts_at, session.ends_at, True, False, session))
            continue
        for removed in from_iso_list(session.exdates):
            rows.append(row(session, removed, removed + length, True, False, session))
    rows.sort(key=lambda r: (r.start, r.session.id))
    return rows


def by_day(rows: list[Row], viewer: str, locale: str) -> list[Day]:
    """Rows grouped by the day they start on in the viewer's zone."""
    days: dict[dt.date, list[Row]] = {}
    for item in rows:
        days.setdefault(item.start.astimezone(ZoneInfo(viewer)).date(), []).append(item)
    return [
        Day(date, format_date(date, "full", locale=locale), items) for date, items in days.items()
    ]


async def timetable_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    viewer = identity(request).time_zone or "UTC"
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        rows = timetable_rows(found, viewer)
        held = await conference_roles(db, identity(request), conference_id)
    context = {
        "conference": found,
        "zones": site_zones(list(found.sites)),
        "days": by_day(rows, viewer, request.get(LOCALE, "en")),
        "viewer": viewer,
        "can_edit": Role.ORGANISER in held and identity(request).guest is None,
    }
    return render(request, "timetable.html", context)


def add_routes(table: RouteTable) -> None:
    table.get(
        "/conferences/{conference_id}/timetable",
        timetable_page,
        conference(),
        name="timetable",
    )
