"""JSON API for conferences: list (filtered, paginated), read, create, change, delete, and the
lifecycle step (``POST …/status``)."""

from __future__ import annotations

from aiohttp import web

from server.conferences import operations as ops
from server.conferences.inputs import ConferenceCreate, ConferenceUpdate, StatusChange
from server.conferences.queries import ConferenceFilter, conference_detail, find_conferences
from server.conferences.schemas import ConferenceOut, ConferenceSummary
from server.conferences.timing import field_error, not_a_status, parse_instant
from server.events import RosterChanged, StatusChanged
from server.i18n_strings import N_
from server.keys import DATABASE, EVENTS
from server.models import ConferenceStatus, Role
from server.route_table import SIGNED_IN, ApiDoc, Query, RouteTable, conference, number_query, roles
from server.web import identity, int_param, json_body, json_response, remote

MAX_PAGE = 200
MAX_OFFSET = 10**9


def _filter(request: web.Request) -> ConferenceFilter:
    query = request.query
    statuses = []
    for raw in query.getall("status", []):
        for name in filter(None, raw.split(",")):
            try:
                statuses.append(ConferenceStatus(name.strip()))
            except ValueError:
                raise not_a_status(name) from None
    numbers = {}
    for name, default, top in (("limit", 50, MAX_PAGE), ("offset", 0, MAX_OFFSET)):
        low = 0 if name == "offset" else 1
        raw = query.get(name, str(default))
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= top:
            raise field_error(
                name,
                N_("%(name)s must be a whole number from %(low)s to %(top)s"),
                name=name,
                low=str(low),
                top=str(top),
            )
        numbers[name] = int(raw)
    return ConferenceFilter(
        statuses=tuple(statuses),
        starts_from=parse_instant(query["from"], "from") if "from" in query else None,
        until=parse_instant(query["to"], "to") if "to" in query else None,
        limit=numbers["limit"],
        offset=numbers["offset"],
    )


async def list_conferences(request: web.Request) -> web.Response:
    wanted = _filter(request)
    async with request.app[DATABASE].session() as db:
        rows, total = await find_conferences(db, identity(request), wanted)
    response = json_response([ConferenceSummary.model_validate(c) for c in rows])
    response.headers["X-Total-Count"] = str(total)
    if wanted.offset + len(rows) < total:
        following = request.rel_url.update_query(offset=wanted.offset + wanted.limit)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


async def _detail(request: web.Request, conference_id: int, status: int = 200) -> web.Response:
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        return json_response(ConferenceOut.model_validate(found), status=status)


async def get_conference(request: web.Request) -> web.Response:
    return await _detail(request, int_param(request, "conference_id"))


async def create_conference(request: web.Request) -> web.Response:
    body = await json_body(request, ConferenceCreate)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_conference(db, identity(request), body, remote(request))
    return await _detail(request, made.id, 201)


async def update_conference(request: web.Request) -> web.Response:
    body = await json_body(request, ConferenceUpdate)
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.update_conference(db, identity(request), conference_id, body, remote(request))
    await request.app[EVENTS].publish(RosterChanged(conference_id))  # languages: booths
    return await _detail(request, conference_id)


async def delete_conference(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        kept = await ops.delete_conference(db, identity(request), conference_id, remote(request))
    await request.app[EVENTS].publish(
        StatusChanged(conference_id, ConferenceStatus.CANCELLED, identity(request).actor)
    )
    if kept is None:
        return web.Response(status=204)
    return await _detail(request, conference_id)


async def change_status(request: web.Request) -> web.Response:
    body = await json_body(request, StatusChange)
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.change_status(
            db, identity(request), conference_id, body.status, body.comment, remote(request)
        )
    await request.app[EVENTS].publish(
        StatusChanged(conference_id, body.status, identity(request).actor)
    )
    return await _detail(request, conference_id)


def add_routes(table: RouteTable) -> None:
    tag = "conferences"
    organiser = conference(Role.ORGANISER)
    one = "/api/conferences/{conference_id}"
    table.get(
        "/api/conferences",
        list_conferences,
        SIGNED_IN,
        doc=ApiDoc(
            "Conferences you have a part in, newest first. Query: status (repeat or comma"
            " separated), from and to (ISO dates: conferences overlapping them), limit (1-200,"
            " default 50), offset. X-Total-Count gives the number matching; Link the next page",
            tag,
            response=ConferenceSummary,
            list_response=True,
            query=(
                Query("status", description="Statuses, comma separated"),
                Query("from", description="ISO 8601 date or date-time"),
                Query("to", description="ISO 8601 date or date-time"),
                number_query("limit", 1, MAX_PAGE),
                number_query("offset", 0, MAX_OFFSET),
            ),
        ),
    )
    table.post(
        "/api/conferences",
        create_conference,
        roles(Role.ORGANISER),
        doc=ApiDoc(
            "Plan a new conference (a draft; you are its organiser)",
            tag,
            ConferenceCreate,
            ConferenceOut,
            201,
        ),
    )
    table.get(
        one,
        get_conference,
        conference(),
        doc=ApiDoc(
            "One conference with its agenda, sites and delegations", tag, response=ConferenceOut
        ),
    )
    table.patch(
        one,
        update_conference,
        organiser,
        doc=ApiDoc(
            "Change a conference (title, translations, kind, zone, dates, languages)",
            tag,
            ConferenceUpdate,
            ConferenceOut,
        ),
    )
    table.delete(
        one,
        delete_conference,
        organiser,
        doc=ApiDoc(
            "Delete a draft (204); a conference past its draft is cancelled instead (200)",
            tag,
            response=ConferenceOut,
            empty=(204,),
        ),
    )
    table.post(
        one + "/status",
        change_status,
        # A part in the conference first (before the body is read, so an outsider learns
        # nothing of its status); then the step decides who may: organisers, approvers
        # (approve), technicians (live, ended), secretaries (archive); see lifecycle.
        conference(Role.ORGANISER, Role.APPROVER, Role.TECHNICIAN, Role.SECRETARY),
        doc=ApiDoc(
            "Move the conference to its next status (409 lists the allowed ones)",
            tag,
            StatusChange,
            ConferenceOut,
        ),
    )
