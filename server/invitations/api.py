"""The invitations API for organisers: invite a site (the link is shown once), list, withdraw."""

from __future__ import annotations

from aiohttp import web

from server.invitations import operations as ops
from server.invitations.schemas import (
    InvitationCreate,
    InvitationOut,
    NewInvitationOut,
)
from server.keys import CONFIG, DATABASE, GRANTS, SIGNER
from server.models import Role
from server.route_table import ApiDoc, RouteTable, conference
from server.web import identity, int_param, json_body, json_response, remote


def join_url(request: web.Request, token: str) -> str:
    return f"{request.app[CONFIG].public_url}/join/{token}"


async def create(request: web.Request, body: InvitationCreate) -> tuple[NewInvitationOut, str]:
    """Make the invitation (the API's and the form's): what the API answers, and its link."""
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_invitation(
            db,
            request.app[SIGNER],
            identity(request),
            conference_id=int_param(request, "conference_id"),
            site_id=body.site_id,
            role=body.role,
            valid_hours=body.valid_hours,
            label=body.label,
            remote=remote(request),
        )
    url = join_url(request, made.token)
    out = NewInvitationOut.model_validate(
        {**InvitationOut.model_validate(made.invitation).model_dump(), "url": url}
    )
    return out, url


async def api_create(request: web.Request) -> web.Response:
    out, _ = await create(request, await json_body(request, InvitationCreate))
    return json_response(out, status=201)


async def api_list(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await ops.list_invitations(db, int_param(request, "conference_id"))
    return json_response([InvitationOut.model_validate(r) for r in rows])


async def revoke(request: web.Request) -> InvitationOut:
    """Withdraw the invitation of the path and end its guests' live connections."""
    async with request.app[DATABASE].session() as db, db.begin():
        row = await ops.revoke_invitation(
            db,
            identity(request),
            int_param(request, "conference_id"),
            int_param(request, "invitation_id"),
            remote(request),
        )
        out = InvitationOut.model_validate(row)
    request.app[GRANTS].withdrawn()
    return out


async def api_revoke(request: web.Request) -> web.Response:
    return json_response(await revoke(request))


def add_routes(table: RouteTable) -> None:
    tag = "invitations"
    organiser = conference(Role.ORGANISER)
    base = "/api/conferences/{conference_id}/invitations"
    table.get(
        base,
        api_list,
        organiser,
        doc=ApiDoc("Invitations of a conference", tag, response=InvitationOut, list_response=True),
    )
    table.post(
        base,
        api_create,
        organiser,
        doc=ApiDoc(
            "Invite a site (the link is shown once)", tag, InvitationCreate, NewInvitationOut, 201
        ),
    )
    table.delete(
        base + "/{invitation_id}",
        api_revoke,
        organiser,
        doc=ApiDoc(
            "Withdraw an invitation and end its guest sessions", tag, response=InvitationOut
        ),
    )
