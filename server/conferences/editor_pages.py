"""The conference editor for organisers, in steps taken in the order a conference is prepared
(``?step=``): the basics (title and its translations, kind, zone, dates, languages, and the
lifecycle), then its sites, sessions, interpreters and delegations, whose forms are in
``site_pages``, ``session_pages``, ``interpreter_pages`` and ``delegation_pages``. The permit
application follows, on its own page.

Forms post to these handlers, which parse the form into the API's request models, call the
operations, and redirect back to the editor; refused input comes back in the same form with the
problem named next to the field (and, for a scheduling conflict, the colliding sessions).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import lifecycle
from server.conferences import operations as ops
from server.conferences.bookings import SchedulingConflict
from server.conferences.inputs import ConferenceCreate, ConferenceUpdate
from server.conferences.queries import conference_detail
from server.conferences.timing import not_a_status
from server.errors import DomainError, InvalidInput
from server.events import RosterChanged, StatusChanged
from server.i18n import LOCALES
from server.keys import DATABASE, EVENTS, LOCALE
from server.models import Conference, ConferenceKind, ConferenceStatus, Role, utcnow
from server.route_table import RouteTable, conference, roles
from server.templating import likely_zone
from server.time_zones import COMMON_ZONES, common_choices, zone_choices, zone_search
from server.web import (
    identity,
    int_param,
    redirect,
    remote,
    render,
    safe_next,
    validation_errors,
)

M = TypeVar("M", bound=BaseModel)
Form = MultiDictProxy[str | Any]
LANGUAGE_ROWS = 2  # empty language rows offered below the conference's own
#: The editor's steps, in the order a conference is prepared.
STEPS = ("basics", "sites", "sessions", "interpreters", "delegations")
#: The step that shows each form (a refused form comes back on its own step).
FORM_STEPS = {
    "conference": "basics",
    "status": "basics",
    "site": "sites",
    "session": "sessions",
    "interpreter": "interpreters",
    "delegation": "delegations",
}


def editor_step(request: web.Request, problem: Problem | None) -> str:
    """The step to show: a refused form's, else the one of a row being edited (``?site=3``),
    else ``?step=``, else the basics."""
    if problem is not None and problem.form in FORM_STEPS:
        return FORM_STEPS[problem.form]
    for form, step in FORM_STEPS.items():
        if form in request.query:
            return step
    wanted = request.query.get("step", "")
    return wanted if wanted in STEPS else STEPS[0]


def step_url(conference_id: int, form: str, saved: str = "") -> str:
    """The editor on the step of ``form``, with the "saved" note when ``saved`` is given."""
    url = f"/conferences/{conference_id}/edit?step={FORM_STEPS[form]}"
    return f"{url}&saved={saved}" if saved else url


@dataclass
class Problem:
    """A refused form: the message, the fields named, and any scheduling conflicts; ``error``
    says it in the reader's words on the page (``server.error_words``)."""

    message: str
    fields: dict[str, str] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    form: str = ""  # which form on the page it belongs to
    error: DomainError | None = None
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # field: its error

    @classmethod
    def of(cls, error: DomainError, form: str) -> Problem:
        named = {str(e.get("field", "")): str(e.get("message", "")) for e in error.errors}
        details = {str(e.get("field", "")): dict(e) for e in error.errors}
        conflicts = error.conflicts if isinstance(error, SchedulingConflict) else []
        readable = [_readable(c) for c in conflicts]
        return cls(error.message, named, readable, form, error, details)


def _readable(conflict: dict[str, Any]) -> dict[str, Any]:
    """A conflict with its times as instants, for the page to show in the viewer's zone."""
    shown = dict(conflict)
    for side in ("session", "conflicts_with"):
        shown[side] = {
            **conflict[side],
            "starts_at": dt.datetime.fromisoformat(conflict[side]["starts_at"]),
            "ends_at": dt.datetime.fromisoformat(conflict[side]["ends_at"]),
        }
    return shown


def text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def validated(model: type[M], data: dict[str, Any]) -> M:
    """The request model, or the API's 422 naming each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(summary, errors=errors) from None


def local_value(instant: dt.datetime | None, zone: str) -> str:
    """An instant as a ``datetime-local`` input's value in ``zone``."""
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def conference_data(form: Form) -> dict[str, Any]:
    """The conference form as the API's body: translations and language rows gathered."""
    translations = {
        code: {"title": text(form, f"title_{code}")}
        for code in LOCALES
        if text(form, f"title_{code}")
    }
    languages = []
    for index in range(int(text(form, "language_rows") or 0)):
        code = text(form, f"language_{index}")
        if code:
            languages.append(
                {
                    "code": code,
                    "is_floor": f"floor_{index}" in form,
                    "is_interpreted": f"booth_{index}" in form,
                    "is_sign_language": f"sign_{index}" in form,
                }
            )
    return {
        "title": text(form, "title"),
        "description": text(form, "description"),
        "translations": translations,
        "kind": text(form, "kind") or ConferenceKind.ONLINE.value,
        "time_zone": text(form, "time_zone"),
        "starts_at": text(form, "starts_at") or None,
        "ends_at": text(form, "ends_at") or None,
        "languages": languages,
    }


def conference_values(found: Conference | None, form: Form | None) -> dict[str, Any]:
    """What the conference form shows: the posted values again, else the stored ones."""
    if form is not None:
        names = ("title", "description", "kind", "time_zone", "starts_at", "ends_at")
        posted: dict[str, Any] = {name: text(form, name) for name in names}
        posted |= {f"title_{code}": text(form, f"title_{code}") for code in LOCALES}
        posted["languages"] = conference_data(form)["languages"]
        return posted
    if found is None:
        return {"kind": "online", "time_zone": COMMON_ZONES[0], "languages": []}
    values: dict[str, Any] = {
        "title": found.title,
        "description": found.description,
        "kind": found.kind,
        "time_zone": found.time_zone,
        "starts_at": local_value(found.starts_at, found.time_zone),
        "ends_at": local_value(found.ends_at, found.time_zone),
        "languages": [
            {
                "code": lang.code,
                "is_floor": lang.is_floor,
                "is_interpreted": lang.is_interpreted,
                "is_sign_language": lang.is_sign_language,
            }
            for lang in found.languages
        ],
    }
    values |= {
        f"title_{code}": (found.translations.get(code) or {}).get("title", "") for code in LOCALES
    }
    return values


async def render_editor(
    request: web.Request,
    conference_id: int | None,
    problem: Problem | None = None,
    form: Form | None = None,
    status: int = 200,
    shown: dict[str, Any] | None = None,
) -> web.Response:
    """The editor (``conference_id`` None: a new conference), with a refused form shown again;
    ``shown`` adds to what the page shows (the invitation links just made, say)."""
    from server.conferences.delegation_pages import delegation_context
    from server.conferences.interpreter_pages import interpreter_context
    from server.conferences.session_pages import session_context
    from server.conferences.site_pages import site_context

    zones = zone_choices(request[LOCALE], utcnow())
    context: dict[str, Any] = {
        "problem": problem,
        "zones": zones,
        "zone_search_words": zone_search(zones),
        "common_zones": common_choices(zones, COMMON_ZONES),
        "kinds": [k.value for k in ConferenceKind],
        "title_locales": LOCALES,
        "language_rows": LANGUAGE_ROWS,
        "conference": None,
        "blank": defaultdict(str),
    }
    conference_form = form if problem and problem.form == "conference" else None
    if conference_id is None:
        values = conference_values(None, conference_form)
        if conference_form is None:  # proposed: the organiser's zone and language
            values["time_zone"] = likely_zone(request, COMMON_ZONES[0])
            values["languages"] = [
                {"code": request[LOCALE], "is_floor": True, "is_interpreted": True}
            ]
        context["values"] = defaultdict(str, values)
        return render(request, "conference_new.html", context, status)
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        context |= await session_context(request, db, found, problem, form)
        context |= site_context(request, found, problem, form)
        context |= await interpreter_context(request, db, found, problem, form)
        context |= await delegation_context(request, db, found, problem, form)
    context |= {
        "conference": found,
        "values": defaultdict(str, conference_values(found, conference_form)),
        "next_statuses": lifecycle.next_statuses(ConferenceStatus(found.status)),
        "editable": ConferenceStatus(found.status) in lifecycle.EDITABLE,
        "step": editor_step(request, problem),
        "steps": STEPS,
        **(shown or {}),
    }
    return render(request, "conference_edit.html", context, status)


async def new_page(request: web.Request) -> web.Response:
    return await render_editor(request, None)


async def create(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        body = validated(ConferenceCreate, conference_data(form))
        async with request.app[DATABASE].session() as db, db.begin():
            made = await ops.create_conference(db, identity(request), body, remote(request))
            made_id = made.id
    except DomainError as error:
        return await render_editor(
            request, None, Problem.of(error, "conference"), form, error.status
        )
    raise redirect(step_url(made_id, "site", "created"))


async def edit_page(request: web.Request) -> web.Response:
    return await render_editor(request, int_param(request, "conference_id"))


async def update(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    try:
        body = validated(ConferenceUpdate, conference_data(form))
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.update_conference(db, identity(request), conference_id, body, remote(request))
        await request.app[EVENTS].publish(RosterChanged(conference_id))  # languages: booths
    except DomainError as error:
        return await render_editor(
            request, conference_id, Problem.of(error, "conference"), form, error.status
        )
    raise redirect(step_url(conference_id, "conference", "conference"))


async def change_status(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    try:
        wanted = ConferenceStatus(text(form, "status"))
    except ValueError:
        problem = Problem.of(not_a_status(text(form, "status")), form="status")
        return await render_editor(request, conference_id, problem, form, 422)
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.change_status(
                db, identity(request), conference_id, wanted, text(form, "comment"), remote(request)
            )
        await request.app[EVENTS].publish(
            StatusChanged(conference_id, wanted, identity(request).actor)
        )
    except DomainError as error:
        return await render_editor(
            request, conference_id, Problem.of(error, "status"), form, error.status
        )
    raise redirect(safe_next(text(form, "next") or f"/conferences/{conference_id}"))


async def editor_write(
    request: web.Request,
    conference_id: int,
    section: str,
    form: Form | None,
    write: Callable[[AsyncSession], Awaitable[object]],
) -> web.Response:
    """Validate and write in one transaction, then back to the editor's ``section``; a refusal
    shows the editor again with the problem named and the form as it was posted."""
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            await write(db)
    except DomainError as error:
        problem = Problem.of(error, section)
        return await render_editor(request, conference_id, problem, form, error.status)
    await request.app[EVENTS].publish(RosterChanged(conference_id))
    raise redirect(step_url(conference_id, section, section))


def add_routes(table: RouteTable) -> None:
    organiser = conference(Role.ORGANISER)
    edit = "/conferences/{conference_id}/edit"
    table.get("/conferences/new", new_page, roles(Role.ORGANISER), name="conference_new")
    table.post("/conferences/new", create, roles(Role.ORGANISER))
    table.get(edit, edit_page, organiser, name="conference_edit")
    table.post(edit, update, organiser)
    # The step decides who may (see lifecycle); the same rule as the API's.
    stepping = conference(Role.ORGANISER, Role.APPROVER, Role.TECHNICIAN, Role.SECRETARY)
    table.post("/conferences/{conference_id}/status", change_status, stepping)
