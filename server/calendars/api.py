"""The calendar API: a conference's ``.ics``, personal feeds, invitations, and import."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.calendars import feeds, importing, invitations
from server.calendars.events import Writer, load_conferences, load_people
from server.calendars.mail import Mailer, SmtpUnavailable
from server.calendars.rendering import render
from server.conferences.access import no_such_conference
from server.conferences.schemas import SessionOut
from server.errors import (
    Conflict,
    InvalidInput,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from server.fields import RecordId
from server.i18n_strings import N_
from server.ical.ics import IcsError, parse
from server.ical.ics_parse import MAX_BYTES
from server.keys import CATALOGUES, CONFIG, DATABASE, FEED_CACHE, RENDERED_EVENTS, SEND_LOCKS
from server.models import Role
from server.route_table import PUBLIC, USERS, ApiDoc, RouteTable, conference
from server.web import identity, int_param, json_body, json_response, remote

ICS = "text/calendar"
IMPORT_TYPES = ("text/calendar", "application/octet-stream")


class BadCalendar(InvalidInput):
    """422 for a broken ``.ics``: the problem names ``line`` and ``property``."""

    code = "bad_ics"

    def __init__(self, error: IcsError) -> None:
        super().__init__(
            N_("the calendar file is refused: %(reason)s"), params={"reason": str(error)}
        )
        self.line, self.property = error.line, error.property

    def problem(self, instance: str) -> dict[str, Any]:
        body = super().problem(instance)
        body["line"], body["property"] = self.line, self.property
        return body


class BadGateway(Unavailable):
    """502: the SMTP server failed (its title is Unavailable's, already translated)."""

    status = 502
    code = "smtp_failed"


class FeedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="Concord", min_length=1, max_length=100)


class FeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class NewFeedOut(FeedOut):
    token: str = Field(description="Shown once; Concord keeps only its SHA-256")
    url: str = Field(description="The address to subscribe to: /calendar/<token>.ics")


class InvitationsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_ids: list[RecordId] | None = Field(
        default=None, max_length=2000, description="Sessions or series; default: all"
    )


class InvitationsOut(BaseModel):
    sent: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    failed: list[dict[str, Any]]


def _ics(body: bytes, filename: str, **headers: str) -> web.Response:
    return web.Response(
        body=body,
        content_type=ICS,
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"', **headers},
    )


async def conference_ics(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    base_url = request.app[CONFIG].public_url
    async with request.app[DATABASE].session() as db:
        found = await load_conferences(db, [conference_id])
        if not found:
            raise no_such_conference(conference_id)
        events = Writer(base_url, await load_people(db, found)).events(found[0])
    database, cache = request.app[DATABASE], request.app[RENDERED_EVENTS]
    body = await render(database, events, cache, name=found[0].title)
    return _ics(body, f"conference-{conference_id}.ics")


async def feed(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    cache = request.app[FEED_CACHE]
    async with request.app[DATABASE].session() as db:
        user = await feeds.feed_owner(db, token)
        parts = await feeds.parts_of(db, user.id)
        version = await feeds.version_of(db, user.id, parts)
        etag = f'"{version}"'
        headers = {
            "ETag": etag,
            "Cache-Control": f"private, max-age={int(feeds.REFRESH.total_seconds())}",
        }
        if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
            return web.Response(status=304, headers=headers)
        body = cache.get(user.id, version)
        if body is None:
            base_url, rendered = request.app[CONFIG].public_url, request.app[RENDERED_EVENTS]
            database = request.app[DATABASE]
            body = await feeds.render_feed(db, database, user, parts, base_url, rendered)
            cache.renders += 1
            cache.put(user.id, version, body)
    return _ics(body, "concord.ics", **headers)


async def list_feeds(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await feeds.list_feeds(db, identity(request))
        return json_response([FeedOut.model_validate(r) for r in rows])


async def create_feed(request: web.Request) -> web.Response:
    body = await json_body(request, FeedCreate)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await feeds.create_feed(db, identity(request), body.name, remote(request))
        out = FeedOut.model_validate(made.record).model_dump()
    url = f"{request.app[CONFIG].public_url}/calendar/{made.token}.ics"
    return json_response(NewFeedOut(**out, token=made.token, url=url), status=201)


async def revoke_feed(request: web.Request) -> web.Response:
    feed_id = int_param(request, "feed_id")
    async with request.app[DATABASE].session() as db, db.begin():
        row = await feeds.revoke_feed(db, identity(request), feed_id, remote(request))
        return json_response(FeedOut.model_validate(row))


async def send_invitations(request: web.Request) -> web.Response:
    body = InvitationsIn()
    if request.can_read_body:
        body = await json_body(request, InvitationsIn)
    config = request.app[CONFIG]
    conference_id = int_param(request, "conference_id")
    if config.smtp_host is None:
        raise Conflict(
            N_(
                "no SMTP server is configured (set CONCORD_SMTP_HOST and CONCORD_SMTP_FROM);"
                " download each session's invitation.ics instead"
            ),
            code="no_smtp",
        )
    async with request.app[SEND_LOCKS].holding(conference_id):
        async with request.app[DATABASE].session() as db:
            plan = await invitations.plan(
                db,
                conference_id,
                config.public_url,
                body.session_ids,
                lambda locale: request.app[CATALOGUES].get(locale).gettext,
            )
        outcomes = []
        if plan.letters:
            try:
                outcomes = await Mailer(config).send([p.letter for p in plan.letters])
            except SmtpUnavailable as exc:
                raise BadGateway(
                    N_("%(reason)s; nothing was sent or recorded"), params={"reason": str(exc)}
                ) from None
        async with request.app[DATABASE].session() as db, db.begin():
            who, where = identity(request), remote(request)
            summary = await invitations.record(db, who, plan, outcomes, where)
    return json_response(InvitationsOut(**summary))


async def invitation_ics(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    session_id = int_param(request, "session_id")
    async with request.app[DATABASE].session() as db:
        body = await invitations.invitation(
            db, conference_id, session_id, request.app[CONFIG].public_url
        )
    return _ics(body, f"session-{session_id}.ics")


async def import_sessions(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    if request.content_type not in IMPORT_TYPES:
        raise UnsupportedMediaType(
            N_("send the .ics file as %(types)s, not %(given)s"),
            params={
                "types": " or ".join(IMPORT_TYPES),
                "given": request.content_type or "nothing",
            },
        )
    limit = min(MAX_BYTES, request.app[CONFIG].max_body_bytes)
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(
            N_("the calendar file is larger than %(limit)s bytes"), params={"limit": str(limit)}
        )
    data = await request.read()
    try:
        events = await asyncio.get_running_loop().run_in_executor(
            None, partial(parse, data, max_bytes=limit)
        )
    except IcsError as exc:
        raise BadCalendar(exc) from None
    async with request.app[DATABASE].session() as db, db.begin():
        made = await importing.import_events(
            db, identity(request), conference_id, events, remote(request)
        )
        ids = [row.id for row in made]
    async with request.app[DATABASE].session() as db:
        rows: list[BaseModel] = [
            SessionOut.model_validate(await importing.sessions.get_session(db, conference_id, i))
            for i in dict.fromkeys(ids)
        ]
    return json_response(rows, status=201)


def add_routes(table: RouteTable) -> None:
    tag = "calendars"
    organiser = conference(Role.ORGANISER)
    base = "/api/conferences/{conference_id}"
    table.get(
        base + "/calendar.ics",
        conference_ics,
        conference(),
        doc=ApiDoc("The conference as iCalendar (text/calendar): one VEVENT per session", tag),
    )
    table.get("/calendar/{token}.ics", feed, PUBLIC)
    table.get(
        "/api/me/calendar-feeds",
        list_feeds,
        USERS,
        doc=ApiDoc("Your calendar feeds", tag, response=FeedOut, list_response=True),
    )
    table.post(
        "/api/me/calendar-feeds",
        create_feed,
        USERS,
        doc=ApiDoc(
            "Create a personal calendar feed (its secret URL is shown once)",
            tag,
            FeedCreate,
            NewFeedOut,
            201,
        ),
    )
    table.delete(
        "/api/me/calendar-feeds/{feed_id}",
        revoke_feed,
        USERS,
        doc=ApiDoc(
            "Revoke one of your calendar feeds (its URL answers 410)", tag, response=FeedOut
        ),
    )
    table.post(
        base + "/calendar-invitations",
        send_invitations,
        organiser,
        doc=ApiDoc(
            "E-mail the invitations (REQUEST) of new or changed sessions and the CANCELs of"
            " cancelled ones; 409 no_smtp without an SMTP server, 502 if it fails",
            tag,
            InvitationsIn,
            InvitationsOut,
            errors=(502,),
        ),
    )
    table.get(
        base + "/sessions/{session_id}/invitation.ics",
        invitation_ics,
        organiser,
        doc=ApiDoc("A session's invitation (METHOD:REQUEST, or CANCEL) to download", tag),
    )
    table.post(
        base + "/sessions/import",
        import_sessions,
        organiser,
        doc=ApiDoc(
            "Create sessions from an .ics file (text/calendar), all or nothing: 422 naming"
            " the line and property of a broken file, 409 with the conflicts",
            tag,
            response=SessionOut,
            status=201,
            list_response=True,
            raw_body="text/calendar",
        ),
    )
