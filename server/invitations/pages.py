"""The invitation forms on the conference page and editor, and the link a site opens."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.cookies import set_session_cookie
from server.conferences.editor_pages import Problem, render_editor
from server.conferences.pages import render_conference
from server.errors import DomainError
from server.i18n_strings import N_
from server.identity import Identity
from server.invitations import operations as ops
from server.invitations.api import create, join_url, revoke
from server.invitations.mail import invitation_letter, mail_invitation
from server.invitations.schemas import (
    InvitationForm,
    InvitationOut,
)
from server.keys import CONFIG, DATABASE, LOCALE, SIGNER, TRANSLATIONS
from server.models import Conference, Role, Site
from server.route_table import PUBLIC, RouteTable, conference
from server.web import form_body, identity, int_param, redirect, remote


async def conference_panel(
    db: AsyncSession, who: Identity, conference_id: int, held: frozenset[Role]
) -> dict[str, Any]:
    """The conference page's invitation links (``CONFERENCE_PANELS``): for its organisers."""
    if Role.ORGANISER not in held:
        return {"invitations": [], "invitable_roles": ops.INVITABLE_ROLES}
    invitations = await ops.list_invitations(db, conference_id)
    return {"invitations": invitations, "invitable_roles": ops.INVITABLE_ROLES}


async def form_create(request: web.Request) -> web.Response:
    body = await form_body(request, InvitationForm)
    out, url = await create(request, body)
    mailed = await _mail_to_contact(request, out, url) if body.email_contact else None
    return await render_conference(request, out.conference_id, url, 201, mailed)


async def form_every_site(request: web.Request) -> web.Response:
    """The editor's sites step: a link for each site that has none, e-mailed to each contact
    when asked, then the step again with the links shown once."""
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            made = await ops.invite_every_site(
                db, request.app[SIGNER], identity(request), conference_id, remote=remote(request)
            )
            names = {
                site.id: site.name
                for site in await db.scalars(
                    select(Site).where(Site.conference_id == conference_id)
                )
            }
            links = [
                (InvitationOut.model_validate(m.invitation), join_url(request, m.token))
                for m in made
            ]
    except DomainError as error:
        return await render_editor(
            request, conference_id, Problem.of(error, "site"), status=error.status
        )
    shown = [
        {
            "site": names.get(out.site_id, ""),
            "url": url,
            "mailed": await _mail_to_contact(request, out, url) if "email_contact" in form else "",
        }
        for out, url in links
    ]
    return await render_editor(
        request, conference_id, status=201, shown={"made_links": shown, "step": "sites"}
    )


async def _mail_to_contact(request: web.Request, made: InvitationOut, url: str) -> str:
    """E-mail the new link to its site's contact, in the organiser's language; the page's
    note: to whom it went, or why it did not."""
    translate = request[TRANSLATIONS].gettext
    async with request.app[DATABASE].session() as db:
        site = await db.get(Site, made.site_id)
        conference = await db.get(Conference, made.conference_id)
    assert site is not None and conference is not None
    if not site.contact_email:
        return translate(N_("Not e-mailed: the site has no contact e-mail. Copy the link."))
    config = request.app[CONFIG]
    letter = invitation_letter(
        config.smtp_from or "",
        site.contact_email,
        site.contact_name,
        conference=conference.title,
        site=site.name,
        url=url,
        valid_until=format_datetime(
            made.expires_at.astimezone(ZoneInfo(site.time_zone)),
            "medium",
            tzinfo=ZoneInfo(site.time_zone),
            locale=request[LOCALE],
        ),
        translate=translate,
    )
    problem = await mail_invitation(config, letter)
    if problem is not None:
        return translate(N_("Not e-mailed: %(problem)s")) % {"problem": translate(problem)}
    recipient = (
        f"{site.contact_name} <{site.contact_email}>" if site.contact_name else site.contact_email
    )
    return translate(N_("E-mailed to %(recipient)s.")) % {"recipient": recipient}


async def form_revoke(request: web.Request) -> web.StreamResponse:
    await revoke(request)
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
    organiser = conference(Role.ORGANISER)
    table.post("/conferences/{conference_id}/invitations", form_create, organiser)
    table.post("/conferences/{conference_id}/invitations/every-site", form_every_site, organiser)
    table.post(
        "/conferences/{conference_id}/invitations/{invitation_id}/revoke", form_revoke, organiser
    )
    table.get("/join/{token}", join, PUBLIC, name="join")
