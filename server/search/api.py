"""``GET /api/search``: full-text search for signed-in people, within what they may see."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from pydantic import BaseModel

from server.errors import InvalidInput
from server.i18n_strings import N_
from server.keys import DATABASE
from server.models.search import SEARCH_KINDS
from server.route_table import SIGNED_IN, ApiDoc, Query, RouteTable, number_query
from server.search.queries import MAX_QUERY, search
from server.web import identity, json_response, query_number

MAX_LIMIT = 100  # the most hits a page shows (search() clamps to it too)
MAX_OFFSET = 100_000


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
            N_("%(name)s: a whole number, got %(value)s"),
            code=f"invalid_{name}",
            params={"name": name, "value": repr(raw[:40])},
        ) from None


async def search_api(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    year = _int(request, "year", None)
    limit = query_number(request, "limit", 20, 1, MAX_LIMIT) or 20
    offset = query_number(request, "offset", 0, 0, MAX_OFFSET) or 0
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
            query=(
                Query(
                    "q",
                    {"type": "string", "minLength": 1, "maxLength": MAX_QUERY, "pattern": r"\S"},
                    required=True,
                ),
                number_query("year", 1900, 2200),
                number_query("limit", 1, MAX_LIMIT),
                number_query("offset", 0, MAX_OFFSET),
                Query("kind", {"type": "string", "enum": list(SEARCH_KINDS)}),
                Query("party", description="A party's name, or part of it"),
            ),
        ),
    )
