"""Browser pages: the home page (your conferences) and one conference."""

from __future__ import annotations

from aiohttp import web

from server.conferences.access import conference_roles
from server.conferences.queries import conference_detail, conferences_for
from server.invitations.operations import INVITABLE_ROLES, list_invitations
from server.keys import DATABASE
from server.models import Role
from server.routing import SIGNED_IN, RouteTable, conference
from server.web import identity, int_param, render


async def home(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await conferences_for(db, identity(request))
    return render(request, "home.html", {"conferences": rows})


async def render_conference(
    request: web.Request, conference_id: int, new_link: str | None = None, status: int = 200
) -> web.Response:
    """The conference page; ``new_link`` shows a just-created invitation link once."""
    who = identity(request)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        held = await conference_roles(db, who, conference_id)
        can_invite = Role.ORGANISER in held
        invitations = await list_invitations(db, conference_id) if can_invite else []
    context = {
        "can_chair": bool(held & {Role.ORGANISER, Role.TECHNICIAN}) and who.guest is None,
        "guest_site": who.guest.site_id if who.guest else None,
        "conference": found,
        "can_invite": can_invite,
        "invitations": invitations,
        "new_link": new_link,
        "invitable_roles": INVITABLE_ROLES,
    }
    return render(request, "conference.html", context, status)


async def conference_page(request: web.Request) -> web.Response:
    return await render_conference(request, int_param(request, "conference_id"))


def add_routes(table: RouteTable) -> None:
    table.get("/", home, SIGNED_IN, name="home")
    table.get("/conferences/{conference_id}", conference_page, conference(), name="conference")
