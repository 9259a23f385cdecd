"""JSON API for sessions: the agenda, one session, its occurrences; create, change (the whole
series or ``?occurrence=``), remove."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from pydantic import BaseModel

from server.conferences import queries
from server.conferences import sessions as ops
from server.conferences.inputs import SessionCreate, SessionUpdate
from server.conferences.schemas import OccurrenceOut, SessionOut
from server.conferences.timing import local_iso, parse_instant
from server.keys import DATABASE
from server.models import Role
from server.route_table import ApiDoc, Query, RouteTable, conference, instant_query
from server.web import identity, int_param, json_body, json_response, remote

OCCURRENCE = instant_query("occurrence", "Only this occurrence of a series (its start, UTC)")


def _occurrence(request: web.Request) -> dt.datetime | None:
    raw = request.query.get("occurrence")
    return parse_instant(raw, "occurrence") if raw else None


async def _session_out(request: web.Request, conference_id: int, session_id: int) -> SessionOut:
    async with request.app[DATABASE].session() as db:
        return SessionOut.model_validate(await ops.get_session(db, conference_id, session_id))


async def list_sessions(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await ops.list_sessions(db, int_param(request, "conference_id"))
        return json_response([SessionOut.model_validate(r) for r in rows])


async def get_session(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    return json_response(
        await _session_out(request, conference_id, int_param(request, "session_id"))
    )


async def create_session(request: web.Request) -> web.Response:
    body = await json_body(request, SessionCreate)
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_session(db, identity(request), conference_id, body, remote(request))
    return json_response(await _session_out(request, conference_id, made.id), status=201)


async def update_session(request: web.Request) -> web.Response:
    body = await json_body(request, SessionUpdate)
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        row = await ops.update_session(
            db,
            identity(request),
            conference_id,
            int_param(request, "session_id"),
            body,
            _occurrence(request),
            remote(request),
        )
    return json_response(await _session_out(request, conference_id, row.id))


async def remove_session(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        row = await ops.remove_session(
            db,
            identity(request),
            conference_id,
            int_param(request, "session_id"),
            _occurrence(request),
            remote(request),
        )
    if row is None:
        return web.Response(status=204)
    return json_response(await _session_out(request, conference_id, row.id))


async def list_occurrences(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    start, end = (_bound(request, name) for name in ("from", "to"))
    async with request.app[DATABASE].session() as db:
        found = await queries.occurrences_between(db, conference_id, start, end)
    listed: list[BaseModel] = [
        OccurrenceOut(
            session_id=o.row.id,
            series_id=o.series.id if o.series.rrule else None,
            uid=o.row.uid,
            recurrence_id=o.recurrence_id,
            title=o.row.title,
            starts_at=o.start,
            ends_at=o.end,
            time_zone=o.row.time_zone,
            local_starts_at=local_iso(o.start, o.row.time_zone),
            local_ends_at=local_iso(o.end, o.row.time_zone),
            moved=o.row.series_id is not None,
        )
        for o in found
    ]
    return json_response(listed)


def _bound(request: web.Request, name: str) -> dt.datetime | None:
    raw = request.query.get(name)
    return parse_instant(raw, name) if raw else None


def add_routes(table: RouteTable) -> None:
    tag = "sessions"
    organiser = conference(Role.ORGANISER)
    many = "/api/conferences/{conference_id}/sessions"
    one = many + "/{session_id}"
    table.get(
        many,
        list_sessions,
        conference(),
        doc=ApiDoc(
            "The agenda: every session, series and changed occurrence",
            tag,
            response=SessionOut,
            list_response=True,
        ),
    )
    table.post(
        many,
        create_session,
        organiser,
        doc=ApiDoc(
            "Add a session or a series (409 with the conflicts if it double-books a site,"
            " interpreter or chair)",
            tag,
            SessionCreate,
            SessionOut,
            201,
        ),
    )
    table.get(one, get_session, conference(), doc=ApiDoc("One session", tag, response=SessionOut))
    table.patch(
        one,
        update_session,
        organiser,
        doc=ApiDoc(
            "Change a session or a whole series; with ?occurrence=<its start by the rule,"
            " UTC> only that occurrence (409 with the conflicts if it double-books)",
            tag,
            SessionUpdate,
            SessionOut,
            query=(
                instant_query("occurrence", "Only this occurrence of a series (its start, UTC)"),
            ),
        ),
    )
    table.delete(
        one,
        remove_session,
        organiser,
        doc=ApiDoc(
            "Remove a session: deleted from a draft (204), else cancelled (200); with"
            " ?occurrence= only that occurrence of a series is removed (EXDATE)",
            tag,
            response=SessionOut,
            empty=(204,),
            query=(
                instant_query("occurrence", "Only this occurrence of a series (its start, UTC)"),
            ),
        ),
    )
    table.get(
        "/api/conferences/{conference_id}/occurrences",
        list_occurrences,
        conference(),
        doc=ApiDoc(
            "Concrete occurrences between from and to (ISO; default: the conference's span),"
            " series expanded, with local times in each session's zone",
            tag,
            response=OccurrenceOut,
            list_response=True,
            query=(
                Query("from", description="ISO 8601 date or date-time"),
                Query("to", description="ISO 8601 date or date-time"),
            ),
        ),
    )
