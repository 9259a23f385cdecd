"""``GET /healthz``: the version and whether the database answers (503 when it does not)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from server import __version__
from server.keys import DATABASE
from server.routing import PUBLIC, RouteTable

PING_TIMEOUT = 3.0


async def healthz(request: web.Request) -> web.Response:
    database = request.app[DATABASE]
    try:
        await asyncio.wait_for(database.ping(), PING_TIMEOUT)
        status, db_state = 200, "ok"
    except Exception as exc:  # any failure to answer means unhealthy
        status, db_state = 503, f"unreachable: {type(exc).__name__}"
    body = {
        "status": "ok" if status == 200 else "degraded",
        "version": __version__,
        "database": {"status": db_state, "dialect": database.dialect},
    }
    return web.json_response(body, status=status)


def add_routes(table: RouteTable) -> None:
    table.get("/healthz", healthz, PUBLIC, name="healthz")
