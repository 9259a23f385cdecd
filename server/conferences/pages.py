"""Browser pages: the home page (your conferences, filtered), one conference, and (through
their own modules) the editor, the sessions' forms, the timetable and the calendar."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import (
    calendar_pages,
    delegation_pages,
    editor_pages,
    interpreter_pages,
    session_pages,
    site_pages,
    timetable_pages,
)
from server.conferences.access import conference_roles
from server.conferences.queries import ConferenceFilter, conference_detail, find_conferences
from server.conferences.timing import not_a_status, parse_instant
from server.conferences.ways_in import HOLDERS, ways_in, ways_into
from server.errors import DomainError
from server.identity import Identity
from server.keys import DATABASE
from server.models import ConferenceStatus, Role, Site
from server.route_table import SIGNED_IN, RouteTable, conference
from server.web import identity, int_param, render

#: The most conferences the home page lists at once.
HOME_LIMIT = 200

ConferencePanel = Callable[
    [AsyncSession, Identity, int, frozenset[Role]], Awaitable[dict[str, Any]]
]
"""What a feature adds to the conference page's context (the invitation links, for example):
given the reader, the conference and the reader's roles in it."""
CONFERENCE_PANELS: web.AppKey[list[ConferencePanel]] = web.AppKey("conference_panels")


def home_filter(query: dict[str, str]) -> tuple[ConferenceFilter, DomainError | None]:
    """The list's filter from the query (status, from, to); a problem with it, named."""
    status = query.get("status", "")
    problem: DomainError | None = None
    statuses: tuple[ConferenceStatus, ...] = ()
    if status:
        try:
            statuses = (ConferenceStatus(status),)
        except ValueError:
            problem = not_a_status(status)
    bounds = {}
    for name in ("from", "to"):
        if query.get(name):
            try:
                bounds[name] = parse_instant(query[name], name)
            except DomainError as error:
                problem = error
    wanted = ConferenceFilter(
        statuses=statuses,
        starts_from=bounds.get("from"),
        until=bounds.get("to"),
        limit=HOME_LIMIT,
    )
    return wanted, problem


async def home(request: web.Request) -> web.Response:
    wanted, problem = home_filter(dict(request.query))
    async with request.app[DATABASE].session() as db:
        rows, total = await find_conferences(db, identity(request), wanted)
        counted = await db.execute(
            select(Site.conference_id, func.count())
            .where(Site.conference_id.in_([c.id for c in rows]))
            .group_by(Site.conference_id)
        )
        site_counts = {conference_id: int(n) for conference_id, n in counted.all()}
        ways = await ways_in(db, identity(request), [c.id for c in rows])
    context = {
        "ways": ways,
        "booth_languages": sorted({lang for way in ways.values() for lang in way.booths}),
        "site_counts": site_counts,
        "conferences": rows,
        "total": total,
        "statuses": [s.value for s in ConferenceStatus],
        "filters": {name: request.query.get(name, "") for name in ("status", "from", "to")},
        "filter_problem": problem,
        "can_create": bool(identity(request).roles & {Role.ORGANISER, Role.ADMIN})
        and identity(request).guest is None,
    }
    return render(request, "home.html", context, 422 if problem else 200)


async def render_conference(
    request: web.Request,
    conference_id: int,
    new_link: str | None = None,
    status: int = 200,
    mailed: str | None = None,
) -> web.Response:
    """The conference page; ``new_link`` shows a just-created invitation link once, with
    ``mailed``: to whom it was e-mailed, or why it was not."""
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        held = await conference_roles(db, who, conference_id)
        can_invite = Role.ORGANISER in held
        way = await ways_into(db, who, conference_id)
        panels: dict[str, Any] = {}
        for panel in request.app.get(CONFERENCE_PANELS, []):
            panels |= await panel(db, who, conference_id, held)
    context = panels | {
        "way": way,
        "can_chair": way.chair,
        "can_hold": bool(held & HOLDERS) and who.guest is None,
        "guest_site": way.site_id,
        "conference": found,
        "can_invite": can_invite,
        "can_edit": can_invite,
        "new_link": new_link,
        "mailed": mailed,
    }
    return render(request, "conference.html", context, status)


async def conference_page(request: web.Request) -> web.Response:
    return await render_conference(request, int_param(request, "conference_id"))


def add_routes(table: RouteTable) -> None:
    editor_pages.add_routes(table)  # before /conferences/{conference_id}: it has /new
    session_pages.add_routes(table)
    site_pages.add_routes(table)
    interpreter_pages.add_routes(table)
    delegation_pages.add_routes(table)
    timetable_pages.add_routes(table)
    calendar_pages.add_routes(table)
    table.get("/", home, SIGNED_IN, name="home")
    table.get("/conferences/{conference_id}", conference_page, conference(), name="conference")
