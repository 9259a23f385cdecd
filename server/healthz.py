"""``GET /healthz``: the version, and whether the database (and Redis, when configured) answer.

503 when one of them does not.
"""

from __future__ import annotations

import asyncio

import redis.asyncio
from aiohttp import web

from server import __version__
from server.keys import CONFIG, DATABASE
from server.route_table import PUBLIC, RouteTable

PING_TIMEOUT = 3.0


async def healthz(request: web.Request) -> web.Response:
    database = request.app[DATABASE]
    try:
        await asyncio.wait_for(database.ping(), PING_TIMEOUT)
        status, db_state = 200, "ok"
    except Exception as exc:  # any failure to answer means unhealthy
        status, db_state = 503, f"unreachable: {type(exc).__name__}"
    body: dict[str, object] = {
        "version": __version__,
        "database": {"status": db_state, "dialect": database.dialect},
    }
    redis_url = request.app[CONFIG].redis_url
    if redis_url:
        try:
            await asyncio.wait_for(_ping_redis(redis_url), PING_TIMEOUT)
            body["redis"] = {"status": "ok"}
        except Exception as exc:  # socket.io across nodes needs it
            status = 503
            body["redis"] = {"status": f"unreachable: {type(exc).__name__}"}
    body["status"] = "ok" if status == 200 else "degraded"
    return web.json_response(body, status=status)


async def _ping_redis(url: str) -> None:
    client = redis.asyncio.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


def add_routes(table: RouteTable) -> None:
    table.get("/healthz", healthz, PUBLIC, name="healthz")
