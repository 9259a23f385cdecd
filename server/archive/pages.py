"""The legal hold's form on the conference page."""

from __future__ import annotations

from aiohttp import web

from server.archive.hold import HOLDERS, set_legal_hold
from server.archive.schemas import HoldForm
from server.keys import DATABASE
from server.route_table import RouteTable, conference
from server.web import form_body, identity, int_param, redirect, remote


async def set_hold_form(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    form = await form_body(request, HoldForm)
    async with request.app[DATABASE].session() as db, db.begin():
        await set_legal_hold(
            db,
            identity(request),
            conference_id,
            form.hold == "on",
            form.reason,
            remote=remote(request),
        )
    raise redirect(f"/conferences/{conference_id}#legal-hold")


def add_routes(table: RouteTable) -> None:
    table.post("/conferences/{conference_id}/legal-hold", set_hold_form, conference(*HOLDERS))
