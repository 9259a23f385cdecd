"""The minutes' JSON API. Each handler checks access first (before reading the body, so a
refusal never depends on it), parses, calls one operation, and answers JSON."""

from __future__ import annotations

from aiohttp import web

from server.keys import DATABASE, LEDGER_SIGNER
from server.minutes import operations as ops
from server.minutes import steps
from server.minutes.access import READERS, minutes_access
from server.minutes.notify import tell_delegations
from server.minutes.present import change_out, comment_out, minutes_out, revision_out
from server.minutes.schemas import CommentIn, SaveIn
from server.minutes.store import (
    list_comments,
    list_revisions,
    one_revision,
    readable,
    revision_diff,
)
from server.models import Role
from server.route_table import USERS, ApiDoc, RouteTable, conference
from server.web import identity, int_param, json_body, json_response, remote

C = "/api/conferences/{conference_id}/minutes"


async def check_access(request: web.Request) -> int:
    """The conference id, once the caller is known to have a part in its minutes."""
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        await minutes_access(db, identity(request), conference_id)
    return conference_id


async def api_get(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db:
        _, found = await readable(db, identity(request), conference_id)
    return json_response(minutes_out(found))


async def api_create(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await ops.create(db, identity(request), conference_id, remote=remote(request))
    return json_response(minutes_out(found), status=201)


async def api_save(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    body = await json_body(request, SaveIn)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await ops.save(
            db,
            identity(request),
            conference_id,
            body.base_revision,
            body.document,
            remote=remote(request),
        )
    return json_response(minutes_out(found))


async def api_refresh(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await ops.refresh_from_room(
            db, identity(request), conference_id, remote=remote(request)
        )
    return json_response(minutes_out(found))


async def api_circulate(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db, db.begin():
        found, recipients = await steps.circulate_minutes(
            db, identity(request), conference_id, remote=remote(request)
        )
        out = minutes_out(found)
    out["notified"] = await tell_delegations(request, conference_id, recipients)
    return json_response(out)


async def api_draft(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await steps.back_to_draft(
            db, identity(request), conference_id, remote=remote(request)
        )
        out = minutes_out(found)
    return json_response(out)


async def api_final(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db, db.begin():
        found = await steps.finalise(
            db,
            identity(request),
            conference_id,
            request.app[LEDGER_SIGNER],
            remote=remote(request),
        )
        out = minutes_out(found)
    return json_response(out)


async def api_revisions(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db:
        _, rows = await list_revisions(db, identity(request), conference_id)
    return json_response({"revisions": [revision_out(r) for r in rows]})


async def api_revision(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    number = int_param(request, "number")
    async with request.app[DATABASE].session() as db:
        revision, _ = await one_revision(db, identity(request), conference_id, number)
    return json_response(revision_out(revision, document=True))


async def api_diff(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    a, b = int_param(request, "a"), int_param(request, "b")
    async with request.app[DATABASE].session() as db:
        old, new, changes = await revision_diff(db, identity(request), conference_id, a, b)
    return json_response(
        {
            "from": revision_out(old),
            "to": revision_out(new),
            "changes": [change_out(c) for c in changes],
        }
    )


async def api_comments(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    async with request.app[DATABASE].session() as db:
        _, rows = await list_comments(db, identity(request), conference_id)
    return json_response({"comments": [comment_out(c) for c in rows]})


async def api_comment(request: web.Request) -> web.Response:
    conference_id = await check_access(request)
    body = await json_body(request, CommentIn)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await steps.comment(
            db,
            identity(request),
            conference_id,
            body.text,
            path=body.path,
            delegation_id=body.delegation_id,
            remote=remote(request),
        )
        out = comment_out(made)
    return json_response(out, status=201)


def add_routes(table: RouteTable) -> None:
    tag = "minutes"
    editors = conference(Role.SECRETARY, Role.ORGANISER)
    # Readers are the editors and the delegations' members (who need not be conference
    # members): the route admits users, ``minutes_access`` decides per conference.
    readers = USERS.narrowed(Role.SECRETARY, Role.ORGANISER, why=READERS)
    table.get(C, api_get, readers, doc=ApiDoc("The current minutes and their state", tag))
    table.post(
        C, api_create, editors, doc=ApiDoc("Start the minutes from the agenda", tag, status=201)
    )
    table.route(
        "PUT",
        C,
        api_save,
        editors,
        doc=ApiDoc(
            "Save a revision on top of base_revision; 409 stale_revision with the merge",
            tag,
            SaveIn,
        ),
    )
    table.post(
        C + "/attendance",
        api_refresh,
        editors,
        doc=ApiDoc("Refresh attendance and interventions from the room's events", tag),
    )
    table.post(
        C + "/circulate",
        api_circulate,
        editors,
        doc=ApiDoc("Circulate to the delegations (tells their members by e-mail)", tag),
    )
    table.post(C + "/draft", api_draft, editors, doc=ApiDoc("Back to draft", tag))
    table.post(
        C + "/final",
        api_final,
        conference(Role.ORGANISER),
        doc=ApiDoc("Finalise: lock, record the SHA-256, append to the ledger", tag),
    )
    table.get(C + "/revisions", api_revisions, readers, doc=ApiDoc("Every revision", tag))
    table.get(C + "/revisions/{number}", api_revision, readers, doc=ApiDoc("One revision", tag))
    table.get(
        C + "/revisions/{a}/diff/{b}",
        api_diff,
        readers,
        doc=ApiDoc("What changed between two revisions", tag),
    )
    table.get(C + "/comments", api_comments, readers, doc=ApiDoc("The delegations' comments", tag))
    table.post(
        C + "/comments",
        api_comment,
        readers,
        doc=ApiDoc("Comment for your delegation while circulated", tag, CommentIn, status=201),
    )
