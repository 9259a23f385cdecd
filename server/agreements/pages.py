"""The agreement register's pages: the list with its form, one agreement (versions, hashes,
parties, signatories, signings), and the signing certificate as HTML and PDF."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp import web
from aiohttp_jinja2 import render_string
from pydantic import ValidationError
from sqlalchemy import select

from server.agreements import register
from server.agreements.api import EDITORS, PARTS, store_version
from server.agreements.certificate import certificate_context
from server.agreements.present import agreement_out
from server.agreements.schemas import AgreementIn, SignatoryIn
from server.conferences.access import conference_roles
from server.conferences.queries import conference_detail
from server.errors import DomainError, InvalidInput, PayloadTooLarge
from server.i18n_strings import N_
from server.keys import CONFIG, DATABASE, LOCALE
from server.locale_numbers import read_amount
from server.models import Delegation
from server.permits.decision import print_pdf
from server.route_table import RouteTable
from server.templating import page_context
from server.web import (
    identity,
    int_param,
    pdf_response,
    redirect,
    remote,
    render,
    validation_errors,
)

PAGE = "/conferences/{conference_id}/agreements"
ONE = PAGE + "/{agreement_id}"


def _invalid(exc: ValidationError) -> InvalidInput:
    errors = validation_errors(exc)
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return InvalidInput(f"the form is invalid: {summary}", errors=errors)


async def _can_edit(request: web.Request, conference_id: int) -> bool:
    async with request.app[DATABASE].session() as db:
        held = await conference_roles(db, identity(request), conference_id)
    return identity(request).is_admin or bool(held & register.EDITORS)


async def list_page(
    request: web.Request, error: DomainError | None = None, status: int = 200
) -> web.Response:
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        rows = [
            agreement_out(a, request[LOCALE])
            for a in await register.list_agreements(db, conference_id)
        ]
    context = {
        "conference": found,
        "agreements": rows,
        "can_edit": await _can_edit(request, conference_id),
        "error": error,
    }
    return render(request, "agreements.html", context, status=status)


def _or_none(value: Any) -> Any:
    return value if value not in ("", None) else None


async def create_from_form(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    form = await request.post()
    field = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        async with request.app[DATABASE].session() as db:
            rows = await db.scalars(
                select(Delegation).where(Delegation.conference_id == conference_id)
            )
            # A party named like one of the conference's delegations is linked to it.
            delegations = {d.organisation.casefold(): d.id for d in rows}
        names = [line.strip() for line in field.get("parties", "").splitlines() if line.strip()]
        try:
            body = AgreementIn.model_validate(
                {
                    "title": field.get("title", ""),
                    "kind": field.get("kind", "other"),
                    "donor": field.get("donor", ""),
                    "programme": field.get("programme", ""),
                    "amount": _or_none(read_amount(field.get("amount", ""), request[LOCALE])),
                    "currency": _or_none(field.get("currency", "").strip().upper()),
                    "period_starts_on": _or_none(field.get("period_starts_on")),
                    "period_ends_on": _or_none(field.get("period_ends_on")),
                    "parties": [
                        {"name": n, "delegation_id": delegations.get(n.casefold())} for n in names
                    ],
                }
            )
        except ValidationError as exc:
            raise _invalid(exc) from None
        async with request.app[DATABASE].session() as db, db.begin():
            made = await register.create(
                db, identity(request), conference_id, body, remote=remote(request)
            )
            agreement_id = made.id
    except DomainError as error:
        return await list_page(request, error, error.status)
    raise redirect(f"/conferences/{conference_id}/agreements/{agreement_id}")


async def agreement_page(
    request: web.Request, error: DomainError | None = None, status: int = 200
) -> web.Response:
    conference_id = int_param(request, "conference_id")
    agreement_id = int_param(request, "agreement_id")
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        agreement = agreement_out(
            await register.load(db, conference_id, agreement_id), request[LOCALE]
        )
    context = {
        "conference": found,
        "agreement": agreement,
        "can_edit": await _can_edit(request, conference_id),
        "error": error,
        "upload_limit_mb": round(request.app[CONFIG].permit_attachment_max_bytes / 1024**2, 1),
    }
    return render(request, "agreement.html", context, status=status)


async def upload_from_form(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    agreement_id = int_param(request, "agreement_id")
    config = request.app[CONFIG]
    limit = config.permit_attachment_max_bytes
    form = await request.post()
    upload, language = form.get("file"), form.get("language")
    try:
        if not isinstance(upload, web.FileField):
            raise InvalidInput(N_("choose the PDF of a language version"), code="no_file")
        if not isinstance(language, str) or not language.strip():
            raise InvalidInput(
                N_("name the version's language (vi, lo, en...)"), code="bad_language"
            )
        content = upload.file.read(limit + 1)
        if len(content) > limit:
            raise PayloadTooLarge(
                N_("%(file)s is larger than %(limit)s bytes"),
                code="attachment_too_large",
                params={"file": upload.filename, "limit": str(limit)},
            )
        await store_version(request, language, upload.filename, content)
    except DomainError as error:
        return await agreement_page(request, error, error.status)
    raise redirect(f"/conferences/{conference_id}/agreements/{agreement_id}#versions")


async def designate_from_form(request: web.Request) -> web.StreamResponse:
    conference_id = int_param(request, "conference_id")
    agreement_id = int_param(request, "agreement_id")
    form = await request.post()
    field = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        try:
            body = SignatoryIn.model_validate({**field, "site_id": _or_none(field.get("site_id"))})
        except ValidationError as exc:
            raise _invalid(exc) from None
        async with request.app[DATABASE].session() as db, db.begin():
            await register.designate(
                db, identity(request), conference_id, agreement_id, body, remote=remote(request)
            )
    except DomainError as error:
        return await agreement_page(request, error, error.status)
    raise redirect(f"/conferences/{conference_id}/agreements/{agreement_id}#signatories")


async def certificate_html(request: web.Request) -> str:
    config = request.app[CONFIG]
    async with request.app[DATABASE].session() as db:
        context = await certificate_context(
            db,
            identity(request),
            int_param(request, "conference_id"),
            int_param(request, "agreement_id"),
            request[LOCALE],
            config.public_url,
        )
    html = render_string(
        "agreement_certificate.html", request, {**page_context(request), **context}
    )
    assert isinstance(html, str)
    return html


async def certificate_page(request: web.Request) -> web.Response:
    return web.Response(text=await certificate_html(request), content_type="text/html")


async def certificate_pdf(request: web.Request) -> web.Response:
    pdf = await print_pdf(await certificate_html(request))
    agreement_id = int_param(request, "agreement_id")
    return pdf_response(pdf, f"signing-certificate-{agreement_id}.pdf")


def add_routes(table: RouteTable) -> None:
    table.get(PAGE, list_page, PARTS)
    table.post(PAGE, create_from_form, EDITORS)
    table.get(ONE, agreement_page, PARTS)
    table.post(ONE + "/versions", upload_from_form, replace(EDITORS, uploads=True))
    table.post(ONE + "/signatories", designate_from_form, EDITORS)
    table.get(ONE + "/certificate", certificate_page, PARTS)
    table.get(ONE + "/certificate.pdf", certificate_pdf, PARTS)
