"""Invitation endpoints: the API and forms for organisers, and the link a site opens."""

from __future__ import annotations

from aiohttp import web

from server.accounts.cookies import set_session_cookie
from server.conferences.pages import render_conference
from server.invitations import operations as ops
from server.invitations.schemas import InvitationCreate, InvitationOut, NewInvitationOut
from server.keys import CONFIG, DATABASE, GRANTS, SIGNER
from server.models import Role
from server.routing import PUBLIC, ApiDoc, RouteTable, conference
from server.web import form_body, identity, int_param, json_body, json_response, redirect, remote


def join_url(request: web.Request, token: str) -> str:
    return f"{request.app[CONFIG].public_url}/join/{token}"


async def _create(request: web.Request, body: InvitationCreate) -> tuple[NewInvitationOut, str]:
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
    out, _ = await _create(request, await json_body(request, InvitationCreate))
    return json_response(out, status=201)


async def api_list(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await ops.list_invitations(db, int_param(request, "conference_id"))
    return json_response([InvitationOut.model_validate(r) for r in rows])


async def _revoke(request: web.Request) -> InvitationOut:
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
    return json_response(await _revoke(request))


async def form_create(request: web.Request) -> web.Response:
    _, url = await _create(request, await form_body(request, InvitationCreate))
    return await render_conference(request, int_param(request, "conference_id"), url, 201)


async def form_revoke(request: web.Request) -> web.StreamResponse:
    await _revoke(request)
    raise redirect(f"/conferences/{int_param(request, 'conference_id')}#invitations")


async def join(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].session() as db, db.begin():
        guest = await ops.open_invitation(
            db,
            request.app[SIGNER],
            request.match_info["token"],
            hours=request.app[CONFIG].session_hours,
            remote=remote(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    # Straight to the site's page: device check, then the lobby.
    response = redirect(f"/conferences/{guest.invitation.conference_id}/room")
    set_session_cookie(request, response, guest.token)
    raise response


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
    table.post("/conferences/{conference_id}/invitations", form_create, organiser)
    table.post(
        "/conferences/{conference_id}/invitations/{invitation_id}/revoke", form_revoke, organiser
    )
    table.get("/join/{token}", join, PUBLIC, name="join")
