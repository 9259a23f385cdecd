"""``GET /api/search``: full-text search for signed-in people, within what they may see."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from pydantic import BaseModel

from server.errors import InvalidInput
from server.keys import DATABASE
from server.routing import SIGNED_IN, ApiDoc, RouteTable
from server.search.queries import search
from server.web import identity, json_response


class HitOut(BaseModel):
    kind: str
    ref: int
    conference_id: int
    conference_title: str
    conference_starts_at: dt.datetime
    conference_time_zone: str
    year: int
    title: str
    snippet: str


class SearchOut(BaseModel):
    q: str
    results: list[HitOut]


def _int(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            f"{name}: a whole number, got {raw[:40]!r}", code=f"invalid_{name}"
        ) from None


async def search_api(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    year = _int(request, "year", None)
    limit = _int(request, "limit", 20) or 20
    offset = _int(request, "offset", 0) or 0
    kind = request.query.get("kind") or None
    party = request.query.get("party") or None
    async with request.app[DATABASE].session() as db:
        hits = await search(
            db, identity(request), q, year=year, party=party, kind=kind, limit=limit, offset=offset
        )
    return json_response(SearchOut(q=q, results=[HitOut(**vars(hit)) for hit in hits]))


def add_routes(table: RouteTable) -> None:
    table.get(
        "/api/search",
        search_api,
        SIGNED_IN,
        doc=ApiDoc(
            "Full-text search over conferences, sessions, delegations, minutes and "
            "agreements (diacritics ignored), filtered by year, party and kind",
            "search",
            response=SearchOut,
        ),
    )
