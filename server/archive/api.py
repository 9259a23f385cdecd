"""The legal hold's API: whether a conference is on hold, and putting it on or off."""

from __future__ import annotations

from aiohttp import web

from server.archive.hold import HOLDERS, set_legal_hold
from server.archive.schemas import HoldIn, HoldOut
from server.conferences.access import no_such_conference
from server.keys import DATABASE
from server.models import Conference
from server.route_table import ApiDoc, RouteTable, conference
from server.web import identity, int_param, json_body, json_response, remote


def hold_out(found: Conference) -> HoldOut:
    return HoldOut(
        conference_id=found.id,
        legal_hold=found.legal_hold,
        reason=found.legal_hold_reason,
        by=found.legal_hold_by,
        at=found.legal_hold_at,
    )


async def hold_api(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        found = await db.get(Conference, conference_id)
    if found is None:
        raise no_such_conference(conference_id)
    return json_response(hold_out(found))


async def set_hold_api(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    body = await json_body(request, HoldIn)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await set_legal_hold(
            db, identity(request), conference_id, body.hold, body.reason, remote=remote(request)
        )
        out = hold_out(found)
    return json_response(out)


def add_routes(table: RouteTable) -> None:
    path = "/api/conferences/{conference_id}/legal-hold"
    table.get(
        path,
        hold_api,
        conference(),
        doc=ApiDoc(
            "Whether the conference is on legal hold, since when, by whom and why",
            "archive",
            response=HoldOut,
        ),
    )
    table.post(
        path,
        set_hold_api,
        conference(*HOLDERS),
        doc=ApiDoc(
            "Put the conference on legal hold (retention deletes nothing of it) or lift the "
            "hold; a reason is required either way and written to the audit log",
            "archive",
            body=HoldIn,
            response=HoldOut,
        ),
    )
