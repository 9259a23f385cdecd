"""The editor's sessions: add, change (the whole series or one occurrence) and remove, through
forms that call ``server.conferences.sessions``. A refused change comes back in the form with
the field named; a scheduling conflict (409) lists the colliding sessions above it."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import sessions as ops
from server.conferences.editor_pages import (
    Form,
    Problem,
    local_value,
    render_editor,
    step_url,
    text,
    validated,
)
from server.conferences.inputs import SessionCreate, SessionUpdate
from server.conferences.series import occurrences
from server.conferences.timing import check_zone, field_error, parse_instant
from server.errors import DomainError
from server.i18n_strings import N_
from server.keys import DATABASE
from server.models import AgendaSession, Conference, ConferenceMember, Role, User
from server.route_table import RouteTable, conference
from server.web import identity, int_param, redirect, remote

UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6}Z)")


def weekly_rule(form: Form, zone_name: str) -> str | None:
    """``FREQ=WEEKLY;UNTIL=…``: until the end of the chosen day in the session's zone."""
    if "repeat_weekly" not in form:
        return None
    raw = text(form, "repeat_until")
    if not raw:
        return "FREQ=WEEKLY"  # refused by the operation: a series needs an end
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise field_error("repeat_until", N_("%(value)s is not a date"), value=repr(raw)) from None
    zone = check_zone(zone_name or "UTC")
    last = dt.datetime.combine(day, dt.time(23, 59, 59), zone).astimezone(dt.UTC)
    return f"FREQ=WEEKLY;UNTIL={last:%Y%m%dT%H%M%SZ}"


def session_data(form: Form, conference_zone: str, whole: bool) -> dict[str, Any]:
    """The session form as the API's body; ``whole``: the series' rule too."""
    zone = text(form, "time_zone") or conference_zone
    chair = text(form, "chair_id")
    data: dict[str, Any] = {
        "title": text(form, "title"),
        "description": text(form, "description"),
        "starts_at": text(form, "starts_at") or None,
        "ends_at": text(form, "ends_at") or None,
        "time_zone": zone,
        "speakers": [line.strip() for line in text(form, "speakers").splitlines() if line.strip()],
        "site_ids": [v for v in form.getall("site_ids", []) if isinstance(v, str)],
        "interpreted_languages": [
            v for v in form.getall("interpreted_languages", []) if isinstance(v, str)
        ],
        "chair_id": chair or None,
    }
    if whole:
        data["rrule"] = weekly_rule(form, zone)
    return data


def session_values(row: AgendaSession | None, form: Form | None, start: dt.datetime | None) -> Any:
    """What the session form shows: the posted values again, else the stored ones."""
    if form is not None:
        values: dict[str, Any] = {name: text(form, name) for name in form}
        values["site_ids"] = [str(v) for v in form.getall("site_ids", [])]
        values["interpreted_languages"] = [str(v) for v in form.getall("interpreted_languages", [])]
        values["repeat_weekly"] = "repeat_weekly" in form
        return values
    if row is None:
        return {"site_ids": [], "interpreted_languages": []}
    zone = row.time_zone
    begin = start or row.starts_at
    until = UNTIL.search(row.rrule or "")
    return {
        "title": row.title,
        "description": row.description,
        "starts_at": local_value(begin, zone),
        "ends_at": local_value(begin + (row.ends_at - row.starts_at), zone),
        "time_zone": zone,
        "speakers": "\n".join(row.speakers),
        "site_ids": [str(site.id) for site in row.sites],
        "interpreted_languages": list(row.interpreted_languages),
        "chair_id": str(row.chair_id or ""),
        "repeat_weekly": bool(row.rrule),
        "repeat_until": (
            dt.datetime.strptime(until.group(1), "%Y%m%dT%H%M%SZ")
            .replace(tzinfo=dt.UTC)
            .astimezone(ZoneInfo(zone))
            .date()
            .isoformat()
            if until
            else ""
        ),
        "scope": "occurrence" if start else "series",
        "occurrence": start.isoformat() if start else "",
    }


async def chairs(db: AsyncSession, found: Conference) -> list[User]:
    """Who may chair: the organiser and the conference's members."""
    members = select(ConferenceMember.user_id).where(ConferenceMember.conference_id == found.id)
    rows = await db.scalars(
        select(User)
        .where(User.active.is_(True), or_(User.id == found.organiser_id, User.id.in_(members)))
        .order_by(User.display_name)
    )
    return list(rows)


async def session_context(
    request: web.Request,
    db: AsyncSession,
    found: Conference,
    problem: Problem | None,
    form: Form | None,
) -> dict[str, Any]:
    """The editor's session list and session form (``?session=`` edits one)."""
    series = [s for s in found.sessions if s.series_id is None]
    overrides = {s.id: [o for o in found.sessions if o.series_id == s.id] for s in series}
    editing: AgendaSession | None = None
    raw_id = request.query.get("session") or (text(form, "session_id") if form else "")
    if raw_id.isdigit():
        editing = next((s for s in found.sessions if s.id == int(raw_id)), None)
    start = None
    if editing is not None and request.query.get("occurrence"):
        start = parse_instant(request.query["occurrence"], "occurrence")
    posted = form if problem and problem.form == "session" else None
    values = session_values(editing, posted, start)
    if editing is None and posted is None and not found.sessions:
        # The first session proposes the whole conference (a signing is often one session).
        values |= {
            "title": found.title,
            "starts_at": local_value(found.starts_at, found.time_zone),
            "ends_at": local_value(found.ends_at, found.time_zone),
        }
    moved = (
        [o for o in overrides.get(editing.id, []) if o.recurrence_id == start] if editing else []
    )
    if moved and posted is None:  # a moved occurrence: its own times and details
        values = session_values(moved[0], None, moved[0].starts_at)
        values["occurrence"] = start.isoformat() if start else ""
    choices = []
    if editing is not None and editing.rrule:
        choices = [
            (o.recurrence_id.isoformat(), o.start)
            for o in occurrences(found, editing, overrides[editing.id])
        ]
    return {
        "series": series,
        "overrides": overrides,
        "editing": editing,
        "session_values": defaultdict(str, values),
        "occurrence_choices": choices,
        "chairs": await chairs(db, found),
        "booths": [lang.code for lang in found.languages if lang.is_interpreted],
    }


async def _refused(
    request: web.Request, conference_id: int, error: DomainError, form: Form
) -> web.Response:
    return await render_editor(
        request, conference_id, Problem.of(error, "session"), form, error.status
    )


async def _zone(request: web.Request, conference_id: int) -> str:
    async with request.app[DATABASE].session() as db:
        found = await db.get(Conference, conference_id)
        return found.time_zone if found else "UTC"


async def add_session(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    try:
        data = session_data(form, await _zone(request, conference_id), whole=True)
        body = validated(SessionCreate, data)
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.create_session(db, identity(request), conference_id, body, remote(request))
    except DomainError as error:
        return await _refused(request, conference_id, error, form)
    raise redirect(step_url(conference_id, "session", "session"))


async def change_session(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    one = text(form, "scope") == "occurrence"
    try:
        occurrence = parse_instant(text(form, "occurrence"), "occurrence") if one else None
        data = session_data(form, await _zone(request, conference_id), whole=not one)
        body = validated(SessionUpdate, data)
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.update_session(
                db,
                identity(request),
                conference_id,
                int_param(request, "session_id"),
                body,
                occurrence,
                remote(request),
            )
    except DomainError as error:
        return await _refused(request, conference_id, error, form)
    raise redirect(step_url(conference_id, "session", "session"))


async def remove_session(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    try:
        raw = text(form, "occurrence")
        occurrence = parse_instant(raw, "occurrence") if raw else None
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.remove_session(
                db,
                identity(request),
                conference_id,
                int_param(request, "session_id"),
                occurrence,
                remote(request),
            )
    except DomainError as error:
        return await _refused(request, conference_id, error, form)
    raise redirect(step_url(conference_id, "session", "session"))


def add_routes(table: RouteTable) -> None:
    organiser = conference(Role.ORGANISER)
    many = "/conferences/{conference_id}/sessions"
    table.post(many, add_session, organiser)
    table.post(many + "/{session_id}", change_session, organiser)
    table.post(many + "/{session_id}/remove", remove_session, organiser)
