"""The bridge room's pages: a site's page, the chair's console and an interpreter's booth."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from server.conferences.access import conference_roles
from server.conferences.queries import conference_detail
from server.errors import Forbidden, InvalidInput
from server.i18n_strings import N_
from server.keys import CONFIG, DATABASE
from server.live.ice import ice_servers
from server.live.namespace import CHAIR_ROLES
from server.models import InterpreterAssignment, Role
from server.route_table import RouteTable, conference
from server.web import identity, int_param, render


async def site_page(request: web.Request) -> web.Response:
    """A site's view of the room: the guest's own site, or any site for a chair (?site=ID)."""
    conference_id = int_param(request, "conference_id")
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        held = await conference_roles(db, who, conference_id)
    sites = {site.id: site for site in found.sites}
    if who.guest is not None:
        site_id = who.guest.site_id
    elif held & CHAIR_ROLES:
        raw = request.query.get("site")
        main_hall = next((s.id for s in found.sites if s.is_main_hall), None)
        if raw is None:
            site_id = main_hall or next(iter(sites), 0)
        elif raw.isdigit():
            site_id = int(raw)
        else:
            raise InvalidInput(
                N_("site must be a number, got %(value)s"),
                code="bad_site",
                params={"value": repr(raw)},
            )
    else:
        raise Forbidden(N_("sites join through their invitation link"), code="not_a_site")
    if site_id not in sites:
        raise InvalidInput(
            N_("conference %(conference)s has no site %(site)s"),
            code="bad_site",
            params={"conference": str(conference_id), "site": str(site_id)},
        )
    join = {"conference_id": conference_id, "as": "site", "site_id": site_id}
    return render(
        request,
        "room_site.html",
        {
            "conference": found,
            "site": sites[site_id],
            "join": join,
            "ice_servers": ice_servers(request.app[CONFIG], identity(request)),
        },
    )


async def console_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
    join = {"conference_id": conference_id, "as": "console", "site_id": None}
    return render(
        request,
        "room_console.html",
        {
            "conference": found,
            "sites": found.sites,
            "join": join,
            "ice_servers": ice_servers(request.app[CONFIG], identity(request)),
        },
    )


async def booth_page(request: web.Request) -> web.Response:
    """An interpreter's console: only the interpreters assigned to this booth may open it."""
    conference_id = int_param(request, "conference_id")
    language = request.match_info["language"]
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        staff = list(
            await db.scalars(
                select(InterpreterAssignment)
                .where(InterpreterAssignment.conference_id == conference_id)
                .order_by(InterpreterAssignment.id)
            )
        )
    mine = [a for a in staff if a.target_language == language and a.user_id == who.user_id]
    if who.user_id is None or not mine:
        raise Forbidden(
            N_("only the interpreters of the %(language)s booth may open it"),
            code="not_in_booth",
            params={"language": repr(language)},
        )
    partners = [a for a in staff if a.target_language == language and a.user_id != who.user_id]
    other_booths = sorted({a.target_language for a in staff} - {language})
    join = {"conference_id": conference_id, "as": "interpreter", "language": language}
    return render(
        request,
        "room_booth.html",
        {
            "conference": found,
            "language": language,
            "assignment": mine[0],
            "partners": partners,
            "other_booths": other_booths,
            "join": join,
            "ice_servers": ice_servers(request.app[CONFIG], identity(request)),
        },
    )


def add_routes(table: RouteTable) -> None:
    table.get(
        "/conferences/{conference_id}/room",
        site_page,
        conference().narrowed(*CHAIR_ROLES, guests=True, why="its chairs, and its sites' guests"),
        name="room",
    )
    table.get(
        "/conferences/{conference_id}/console",
        console_page,
        conference(Role.ORGANISER, Role.TECHNICIAN),
        name="console",
    )
    table.get(
        "/conferences/{conference_id}/booth/{language}",
        booth_page,
        conference(Role.INTERPRETER).narrowed(
            Role.INTERPRETER, admins=False, why="the interpreters assigned to that booth"
        ),
        name="booth",
    )
