"""``/search``: the search page (words, year, party, kind), results grouped by kind.

It reads the same index, with the same visibility, as ``GET /api/search``. A problem with
the form (a year that is not one, an unknown kind, an overlong query) is shown on the page
with status 422, and nothing is searched.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.errors import DomainError, InvalidInput
from server.i18n_strings import N_
from server.keys import DATABASE
from server.models import SEARCH_KINDS
from server.route_table import SIGNED_IN, RouteTable
from server.search.queries import Hit, highlight, query_terms, search
from server.web import identity, render

PAGE_LIMIT = 100
FIELDS = ("q", "year", "party", "kind")
# Where a hit leads, best first: the first route the app has (features may come later).
LINKS: dict[str, tuple[str, ...]] = {
    "conference": ("/conferences/{conference_id}",),
    "session": ("/conferences/{conference_id}/timetable", "/conferences/{conference_id}"),
    "delegation": ("/conferences/{conference_id}",),
    "minutes": ("/conferences/{conference_id}/minutes", "/conferences/{conference_id}"),
    "agreement": (
        "/conferences/{conference_id}/agreements/{agreement_id}",
        "/agreements/{agreement_id}",
        "/conferences/{conference_id}/agreements",
        "/conferences/{conference_id}",
    ),
}


def _routes(app: web.Application) -> set[str]:
    return {
        route.resource.canonical
        for route in app.router.routes()
        if route.resource is not None and route.method == "GET"
    }


def link(hit: Hit, routes: set[str]) -> str:
    """The page a hit leads to (the conference page when nothing closer exists)."""
    for pattern in LINKS.get(hit.kind, ()):
        if pattern in routes:
            return pattern.format(conference_id=hit.conference_id, agreement_id=hit.ref)
    return f"/conferences/{hit.conference_id}"


def _year(raw: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            N_("year: a whole number, got %(value)s"),
            code="invalid_year",
            params={"value": repr(raw[:40])},
        ) from None


def grouped(hits: list[Hit], terms: list[str], routes: set[str]) -> list[dict[str, Any]]:
    """The hits by kind, in the order of ``SEARCH_KINDS``, ready for the template."""
    groups: list[dict[str, Any]] = []
    for kind in SEARCH_KINDS:
        rows = [
            {
                "hit": hit,
                "href": link(hit, routes),
                "title": highlight(hit.title, terms),
                "snippet": highlight(hit.snippet, terms),
            }
            for hit in hits
            if hit.kind == kind
        ]
        if rows:
            groups.append({"kind": kind, "rows": rows})
    return groups


async def search_page(request: web.Request) -> web.Response:
    values = {name: request.query.get(name, "").strip() for name in FIELDS}
    context: dict[str, Any] = {"values": values, "kinds": SEARCH_KINDS, "groups": [], "error": None}
    if not values["q"]:
        return render(request, "search.html", {**context, "searched": False})
    try:
        year = _year(values["year"])
        async with request.app[DATABASE].session() as db:
            hits = await search(
                db,
                identity(request),
                values["q"],
                year=year,
                party=values["party"] or None,
                kind=values["kind"] or None,
                limit=PAGE_LIMIT,
            )
    except DomainError as error:
        return render(request, "search.html", {**context, "searched": False, "error": error}, 422)
    groups = grouped(hits, query_terms(values["q"]), _routes(request.app))
    return render(
        request,
        "search.html",
        {**context, "searched": True, "groups": groups, "count": len(hits)},
    )


def add_routes(table: RouteTable) -> None:
    table.get("/search", search_page, SIGNED_IN, name="search")
