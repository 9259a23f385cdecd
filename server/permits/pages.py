"""Browser pages of the permit: the application form, the application, the queue, the report.

A refused form is shown again with the problem named and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web
from babel import Locale
from babel.numbers import format_currency
from multidict import MultiDictProxy
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.queries import conference_detail
from server.countries import COUNTRIES
from server.errors import DomainError, InvalidInput, PayloadTooLarge
from server.i18n_strings import N_
from server.keys import CONFIG, DATABASE, LEDGER_SIGNER, LOCALE
from server.locale_numbers import read_amount
from server.models import Conference, PermitStatus, Role, utcnow
from server.permits import attachments as files
from server.permits import operations as ops
from server.permits.api import (
    APPLICANT,
    READER,
    decision_html,
    decision_pdf,
    download_attachment,
    procedure,
    report_range,
)
from server.permits.clock import DECIDED, RUNNING
from server.permits.present import application_out, describe, summary_out
from server.permits.report import permit_report
from server.permits.schemas import (
    MAX_PARTICIPANT_ROWS,
    ApplicationFields,
    DecisionIn,
)
from server.route_table import RouteTable, conference, roles
from server.time_zones import zone_country
from server.web import identity, int_param, redirect, remote, render, validation_errors

SIMPLE_FIELDS = (
    "purpose",
    "format",
    "starts_on",
    "ends_on",
    "content",
    "funding_source",
    "funding_amount",
    "funding_currency",
)
BLANK_ROWS = 3
M = TypeVar("M", bound=BaseModel)


def form_values(form: MultiDictProxy[Any], locale: str) -> dict[str, Any]:
    """The application form as typed: simple fields (the amount read as ``locale`` writes
    numbers), and the filled participant rows."""
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in SIMPLE_FIELDS}
    values["funding_amount"] = read_amount(values["funding_amount"], locale)
    rows = []
    for index in range(MAX_PARTICIPANT_ROWS + BLANK_ROWS):
        row = {
            key: str(form.get(f"{key}_{index}", "")).strip()
            for key in ("country", "organisation", "number")
        }
        if any(row.values()):
            rows.append(row)
    values["participants"] = rows
    return values


def validated(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"the form is invalid: {summary}", errors=errors) from None


def foreign_sites(conference: Conference, known: set[str]) -> list[dict[str, Any]]:
    """Participants' rows for the sites in another country than the conference's (by their
    time zones), except countries in ``known``; how many people come is left to the
    organiser."""
    home = zone_country(conference.time_zone)
    rows = []
    for site in conference.sites:
        country = zone_country(site.time_zone)
        if country and country != home and country in COUNTRIES and country not in known:
            rows.append({"country": country, "organisation": site.name, "number": ""})
    return rows


def prefill(conference: Conference) -> dict[str, Any]:
    """A new application starts from what the conference already says: its dates, sessions,
    foreign delegations, or else the sites abroad."""
    zone = ZoneInfo(conference.time_zone)
    hosts = {d.country for d in conference.delegations if d.is_host}
    delegations = [
        {"country": d.country, "organisation": d.organisation, "number": len(d.members) or 1}
        for d in conference.delegations
        if d.country not in hosts
    ]
    known = hosts | {d.country for d in conference.delegations}
    return {
        "purpose": "",
        "format": conference.kind,
        "starts_on": conference.starts_at.astimezone(zone).date().isoformat(),
        "ends_on": conference.ends_at.astimezone(zone).date().isoformat(),
        "content": "\n".join(s.title for s in conference.sessions),
        "funding_source": "",
        "funding_amount": "",
        "funding_currency": "VND",
        "participants": delegations + foreign_sites(conference, known),
    }


def form_context(request: web.Request) -> dict[str, Any]:
    names = Locale.parse(request[LOCALE]).territories
    config = request.app[CONFIG]
    country_names = {code: str(names.get(code, code)) for code in COUNTRIES}
    return {
        "countries": sorted(country_names.items(), key=lambda item: item[1]),
        "country_names": country_names,
        "blank_rows": BLANK_ROWS,
        # A browser's form is read whole, so the request's limit applies as well.
        "upload_limit_mb": round(config.permit_attachment_max_bytes / 1024 / 1024, 1),
        "kinds": files.KINDS,
        "accept": ",".join(ext for exts in files.ALLOWED.values() for ext in exts),
    }


async def render_conference_permit(
    request: web.Request,
    conference_id: int,
    values: dict[str, Any] | None = None,
    error: DomainError | None = None,
    status: int = 200,
) -> web.Response:
    rules, now = procedure(request), utcnow()
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        rows = await ops.list_applications(db, identity(request), conference_id=conference_id)
    open_one = next((r for r in rows if r.application.status not in ops.CLOSED), None)
    context = {
        **form_context(request),
        "conference": found,
        "applications": [summary_out(r, rules, now) for r in rows],
        "open_application": open_one.application.id if open_one else None,
        "values": values or prefill(found),
        "error": error,
        "deadline_days": rules.deadline_days,
        "permit_today": rules.today(now),
        "due_if_submitted_today": rules.calendar.deadline(rules.today(now), rules.deadline_days),
        "conference_first_day": found.starts_at.astimezone(ZoneInfo(found.time_zone)).date(),
    }
    return render(request, "permit_conference.html", context, status)


async def conference_permit(request: web.Request) -> web.Response:
    return await render_conference_permit(request, int_param(request, "conference_id"))


async def apply(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    values = form_values(await request.post(), request[LOCALE])
    submit_now = (await request.post()).get("then") == "submit"
    try:
        fields = validated(ApplicationFields, values)
        who, where = identity(request), remote(request)
        async with request.app[DATABASE].session() as db, db.begin():
            made = await ops.create_application(db, who, conference_id, fields, remote=where)
            if submit_now:  # both or neither: a refused submission leaves no draft behind
                await ops.submit(db, procedure(request), who, made.id, remote=where)
    except DomainError as error:
        return await render_conference_permit(request, conference_id, values, error, error.status)
    raise redirect(f"/permits/{made.id}")


async def render_application(
    request: web.Request,
    application_id: int,
    error: DomainError | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    who, rules, now = identity(request), procedure(request), utcnow()
    async with request.app[DATABASE].session() as db:
        found = await ops.application_for_viewer(db, who, application_id)
        title, applicant = await describe(db, found)
        applicant_side = who.is_admin or await ops.organises(db, who, found.conference_id)
        own = applicant_side or who.user_id == found.applicant_id
    out = application_out(found, title, applicant, rules, now)
    state = PermitStatus(found.status)
    context = {
        **form_context(request),
        "application": out,
        "error": error,
        "values": values or ops.current_fields(found),
        "can_edit": applicant_side and state in ops.EDITABLE,
        "can_withdraw": applicant_side and state in ops.EDITABLE | RUNNING,
        "can_decide": who.has_any(ops.APPROVER) and state in RUNNING and not own,
        "decided": state in DECIDED,
        "zone": rules.calendar.time_zone,
        "funding": format_currency(
            out.funding_amount, out.funding_currency, locale=request[LOCALE]
        ),
    }
    return render(request, "permit_application.html", context, status)


async def application_page(request: web.Request) -> web.Response:
    return await render_application(request, int_param(request, "application_id"))


Work = Callable[[AsyncSession], Awaitable[object]]


async def _then_show(
    request: web.Request, work: Work, values: dict[str, Any] | None = None
) -> web.StreamResponse:
    """Run one operation for a form of the application page, then show the page again; a
    refusal shows it with the reason (and what was typed)."""
    application_id = int_param(request, "application_id")
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            await work(db)
    except DomainError as error:
        return await render_application(request, application_id, error, values, error.status)
    raise redirect(f"/permits/{application_id}")


async def update(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    values = form_values(await request.post(), request[LOCALE])

    async def work(db: AsyncSession) -> object:
        fields = validated(ApplicationFields, values)
        who, where = identity(request), remote(request)
        return await ops.update_application(db, who, application_id, fields, remote=where)

    return await _then_show(request, work, values)


async def submit(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    comment = str((await request.post()).get("comment", ""))
    rules, who, where = procedure(request), identity(request), remote(request)
    return await _then_show(
        request, lambda db: ops.submit(db, rules, who, application_id, comment, remote=where)
    )


async def withdraw(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    comment = str((await request.post()).get("comment", ""))
    who, where = identity(request), remote(request)
    return await _then_show(
        request, lambda db: ops.withdraw(db, who, application_id, comment, remote=where)
    )


async def decide(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    form = await request.post()
    data = {"outcome": str(form.get("outcome", "")), "comment": str(form.get("comment", ""))}
    rules, who, where = procedure(request), identity(request), remote(request)
    signer = request.app[LEDGER_SIGNER]

    async def work(db: AsyncSession) -> object:
        body = validated(DecisionIn, data)
        return await ops.decide(
            db, rules, who, application_id, body.outcome, body.comment, remote=where, signer=signer
        )

    return await _then_show(request, work)


async def upload(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db:
        # Before the form is read: a refusal must not depend on what was sent.
        await ops.application_for_applicant(db, identity(request), application_id)
    config = request.app[CONFIG]
    limit = config.permit_attachment_max_bytes
    form = await request.post()
    field = form.get("file")
    try:
        if not isinstance(field, web.FileField):
            raise InvalidInput(N_("choose a file to attach"), code="no_file")
        content = field.file.read(limit + 1)
        if len(content) > limit:
            raise PayloadTooLarge(
                N_("%(file)s is larger than %(limit)s bytes, the limit for attachments"),
                code="attachment_too_large",
                params={"file": field.filename, "limit": str(limit)},
            )
        async with request.app[DATABASE].session() as db, db.begin():
            await files.add_attachment(
                db,
                config.data_dir,
                identity(request),
                application_id,
                field.filename,
                content,
                limit=limit,
                remote=remote(request),
            )
    except DomainError as error:
        return await render_application(request, application_id, error, status=error.status)
    raise redirect(f"/permits/{application_id}#attachments")


async def remove_attachment(request: web.Request) -> web.StreamResponse:
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        path = await files.remove_attachment(
            db,
            request.app[CONFIG].data_dir,
            identity(request),
            application_id,
            int_param(request, "attachment_id"),
            remote=remote(request),
        )
    files.discard(path)
    raise redirect(f"/permits/{application_id}#attachments")


async def decision_page(request: web.Request) -> web.Response:
    return web.Response(text=await decision_html(request), content_type="text/html")


async def queue(request: web.Request) -> web.Response:
    who, rules, now = identity(request), procedure(request), utcnow()
    async with request.app[DATABASE].session() as db:
        rows = await ops.list_applications(db, who)
    listed = [summary_out(r, rules, now) for r in rows]
    context = {
        "waiting": [a for a in listed if a.status in RUNNING],
        "others": [a for a in listed if a.status not in RUNNING],
        "overdue": sum(1 for a in listed if a.clock.overdue),
        "deadline_days": rules.deadline_days,
        "is_approver": who.has_any(ops.APPROVER),
    }
    return render(request, "permit_queue.html", context)


async def report_page(request: web.Request) -> web.Response:
    rules = procedure(request)
    period, start, end = report_range(request, rules.today(utcnow()))
    async with request.app[DATABASE].session() as db:
        report = await permit_report(db, rules, period, start, end)
    return render(request, "permit_report.html", {"report": report})


def add_routes(table: RouteTable) -> None:
    both = roles(Role.ORGANISER, Role.APPROVER)
    reader, applicant = READER, APPLICANT
    one = "/permits/{application_id}"
    table.get("/conferences/{conference_id}/permit", conference_permit, conference(Role.ORGANISER))
    table.post("/conferences/{conference_id}/permit", apply, conference(Role.ORGANISER))
    table.get("/permits", queue, both, name="permits")
    table.get("/permits/report", report_page, both)
    table.get(one, application_page, reader)
    table.post(one, update, applicant)
    table.post(one + "/submit", submit, applicant)
    table.post(one + "/withdraw", withdraw, applicant)
    table.post(one + "/decision", decide, roles(Role.APPROVER))
    table.post(one + "/attachments", upload, replace(applicant, uploads=True))
    table.get(one + "/attachments/{attachment_id}", download_attachment, reader)
    table.post(one + "/attachments/{attachment_id}/remove", remove_attachment, applicant)
    table.get(one + "/decision", decision_page, reader)
    table.get(one + "/decision.pdf", decision_pdf, reader)
