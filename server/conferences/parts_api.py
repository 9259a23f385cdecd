"""JSON API for the rest of the plan: sites (and known venues), delegations, interpreters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from server.conferences import interpreters
from server.conferences import parts as ops
from server.conferences.inputs import (
    DelegationIn,
    DelegationUpdate,
    InterpreterIn,
    InterpreterUpdate,
    SiteIn,
    SiteUpdate,
)
from server.conferences.schemas import DelegationOut, InterpreterOut, SiteOut, VenueOut
from server.events import RosterChanged
from server.keys import DATABASE, EVENTS
from server.models import Role
from server.route_table import ApiDoc, RouteTable, conference, roles
from server.web import identity, int_param, json_body, json_response, remote

C = "/api/conferences/{conference_id}"


async def list_venues(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        return json_response([VenueOut.model_validate(v) for v in await ops.list_venues(db)])


def _creator(
    body_model: type[BaseModel],
    out: type[BaseModel],
    operation: Callable[..., Awaitable[Any]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def create(request: web.Request) -> web.Response:
        body = await json_body(request, body_model)
        async with request.app[DATABASE].session() as db, db.begin():
            made = await operation(
                db, identity(request), int_param(request, "conference_id"), body, remote(request)
            )
            result = out.model_validate(made)
        await request.app[EVENTS].publish(RosterChanged(int_param(request, "conference_id")))
        return json_response(result, status=201)

    create.__name__ = operation.__name__
    return create


def _updater(
    body_model: type[BaseModel],
    out: type[BaseModel],
    operation: Callable[..., Awaitable[Any]],
    key: str,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def update(request: web.Request) -> web.Response:
        body = await json_body(request, body_model)
        async with request.app[DATABASE].session() as db, db.begin():
            changed = await operation(
                db,
                identity(request),
                int_param(request, "conference_id"),
                int_param(request, key),
                body,
                remote(request),
            )
            result = out.model_validate(changed)
        await request.app[EVENTS].publish(RosterChanged(int_param(request, "conference_id")))
        return json_response(result)

    update.__name__ = operation.__name__
    return update


def _deleter(
    operation: Callable[..., Awaitable[None]], key: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def remove(request: web.Request) -> web.Response:
        async with request.app[DATABASE].session() as db, db.begin():
            await operation(
                db,
                identity(request),
                int_param(request, "conference_id"),
                int_param(request, key),
                remote(request),
            )
        await request.app[EVENTS].publish(RosterChanged(int_param(request, "conference_id")))
        return web.Response(status=204)

    remove.__name__ = operation.__name__
    return remove


def add_routes(table: RouteTable) -> None:
    organiser = conference(Role.ORGANISER)
    table.get(
        "/api/venues",
        list_venues,
        roles(Role.ORGANISER),
        doc=ApiDoc(
            "Halls already used as sites: give a site their venue_id to reuse one (the same"
            " venue cannot be in two overlapping sessions)",
            "sites",
            response=VenueOut,
            list_response=True,
        ),
    )
    parts: list[tuple[str, str, str, Any, Any, Any, Any, Any, Any]] = [
        (
            "sites",
            "site_id",
            "a site (bridge point)",
            SiteIn,
            SiteUpdate,
            SiteOut,
            ops.create_site,
            ops.update_site,
            ops.delete_site,
        ),
        (
            "delegations",
            "delegation_id",
            "a delegation with its members (in precedence order)",
            DelegationIn,
            DelegationUpdate,
            DelegationOut,
            ops.create_delegation,
            ops.update_delegation,
            ops.delete_delegation,
        ),
        (
            "interpreters",
            "assignment_id",
            "an interpreter in a booth, with an optional shift",
            InterpreterIn,
            InterpreterUpdate,
            InterpreterOut,
            interpreters.create_interpreter,
            interpreters.update_interpreter,
            interpreters.delete_interpreter,
        ),
    ]
    for noun, key, what, body, patch, out, create, update, delete in parts:
        many = f"{C}/{noun}"
        one = f"{many}/{{{key}}}"
        table.post(
            many,
            _creator(body, out, create),
            organiser,
            doc=ApiDoc(f"Add {what}", noun, body, out, 201),
        )
        table.patch(
            one,
            _updater(patch, out, update, key),
            organiser,
            doc=ApiDoc(f"Change {what}; only the fields given change", noun, patch, out),
        )
        table.delete(
            one, _deleter(delete, key), organiser, doc=ApiDoc(f"Remove {what}", noun, status=204)
        )
