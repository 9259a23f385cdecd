"""JSON API for reading conferences."""

from __future__ import annotations

from aiohttp import web

from server.conferences.queries import conference_detail, conferences_for
from server.conferences.schemas import ConferenceOut, ConferenceSummary
from server.keys import DATABASE
from server.routing import SIGNED_IN, ApiDoc, RouteTable, conference
from server.web import identity, int_param, json_response


async def list_conferences(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await conferences_for(db, identity(request))
        return json_response([ConferenceSummary.model_validate(c) for c in rows])


async def get_conference(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, int_param(request, "conference_id"))
        return json_response(ConferenceOut.model_validate(found))


def add_routes(table: RouteTable) -> None:
    tag = "conferences"
    table.get(
        "/api/conferences",
        list_conferences,
        SIGNED_IN,
        doc=ApiDoc(
            "Conferences you have a part in", tag, response=ConferenceSummary, list_response=True
        ),
    )
    table.get(
        "/api/conferences/{conference_id}",
        get_conference,
        conference(),
        doc=ApiDoc(
            "One conference with its agenda, sites and delegations", tag, response=ConferenceOut
        ),
    )
