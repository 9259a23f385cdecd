"""The technicians' connection-health dashboard: one live row per site and interpreter.

The page itself is static; static/js/health_dashboard.js joins the room as a console with no
media, calls ``health.watch`` and follows the ``health.report`` pushes (docs/signalling.md,
"Connection health").
"""

from __future__ import annotations

from aiohttp import web

from server.conferences.queries import conference_detail
from server.keys import DATABASE
from server.models import Role
from server.route_table import RouteTable, conference
from server.web import int_param, render


async def dashboard_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
    join = {"conference_id": conference_id, "as": "console", "site_id": None}
    return render(request, "health_dashboard.html", {"conference": found, "join": join})


def add_routes(table: RouteTable) -> None:
    table.get(
        "/conferences/{conference_id}/health",
        dashboard_page,
        conference(Role.ORGANISER, Role.TECHNICIAN),
        name="health_dashboard",
    )
