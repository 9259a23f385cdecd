"""JSON API of agreements, the version download, the signing confirmation (an HTTP POST, so
the signer's IP address and user agent come from the request) and the one-time code."""

from __future__ import annotations

import json
from dataclasses import replace

from aiohttp import web

from server.agreements import ceremony, mail, register
from server.agreements.present import agreement_out
from server.agreements.schemas import AgreementIn, AgreementPatch, SignatoryIn, SignIn
from server.errors import BadRequest
from server.events import AgreementSigned, SigningChanged
from server.i18n_strings import N_
from server.keys import (
    CATALOGUES,
    CONFIG,
    DATABASE,
    EVENTS,
    LEDGER_SIGNER,
    LOCALE,
    PASSWORDS,
    REAUTH_LIMIT,
)
from server.models import Role
from server.permits.api import read_limited
from server.permits.attachments import discard
from server.route_table import ApiDoc, Query, RouteTable, conference
from server.web import disposition, identity, int_param, json_body, json_response, remote

TAG = "agreements"
EDITORS = conference(Role.ORGANISER, Role.SECRETARY)
PARTS = conference()
BASE = "/api/conferences/{conference_id}/agreements"
ONE = BASE + "/{agreement_id}"


def _ids(request: web.Request) -> tuple[int, int]:
    return int_param(request, "conference_id"), int_param(request, "agreement_id")


async def answer(request: web.Request, status: int = 200) -> web.Response:
    conference_id, agreement_id = _ids(request)
    async with request.app[DATABASE].session() as db:
        found = await register.load(db, conference_id, agreement_id)
        return json_response(agreement_out(found, request[LOCALE]), status=status)


async def api_list(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await register.list_agreements(db, int_param(request, "conference_id"))
        listed = [agreement_out(a, request[LOCALE]) for a in rows]
    return web.json_response(listed, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def api_create(request: web.Request) -> web.Response:
    body = await json_body(request, AgreementIn)
    conference_id = int_param(request, "conference_id")
    async with request.app[DATABASE].session() as db, db.begin():
        made = await register.create(
            db, identity(request), conference_id, body, remote=remote(request)
        )
        agreement_id = made.id
    request.match_info["agreement_id"] = str(agreement_id)
    return await answer(request, 201)


async def api_get(request: web.Request) -> web.Response:
    return await answer(request)


async def api_edit(request: web.Request) -> web.Response:
    body = await json_body(request, AgreementPatch)
    conference_id, agreement_id = _ids(request)
    async with request.app[DATABASE].session() as db, db.begin():
        await register.edit(
            db, identity(request), conference_id, agreement_id, body, remote=remote(request)
        )
    return await answer(request)


async def api_upload(request: web.Request) -> web.Response:
    language, name = request.query.get("language"), request.query.get("name")
    if not language or not name:
        raise BadRequest(
            N_("name the language and the file in the query: ?language=lo&name=mou-lo.pdf"),
            code="version_query_missing",
        )
    content = await read_limited(request, request.app[CONFIG].permit_attachment_max_bytes)
    await store_version(request, language, name, content)
    return await answer(request, 201)


async def store_version(request: web.Request, language: str, name: str, content: bytes) -> None:
    """Store a language version from the API or the page; the file it replaces goes once the
    new one is committed."""
    config = request.app[CONFIG]
    conference_id, agreement_id = _ids(request)
    async with request.app[DATABASE].session() as db, db.begin():
        _, replaced = await register.upload_version(
            db,
            config.data_dir,
            identity(request),
            conference_id,
            agreement_id,
            language,
            name,
            content,
            limit=config.permit_attachment_max_bytes,
            remote=remote(request),
        )
    if replaced is not None:
        discard(replaced)


async def api_designate(request: web.Request) -> web.Response:
    body = await json_body(request, SignatoryIn)
    conference_id, agreement_id = _ids(request)
    async with request.app[DATABASE].session() as db, db.begin():
        await register.designate(
            db, identity(request), conference_id, agreement_id, body, remote=remote(request)
        )
    return await answer(request, 201)


async def download_version(request: web.Request) -> web.StreamResponse:
    conference_id, agreement_id = _ids(request)
    async with request.app[DATABASE].session() as db:
        version, path = await register.version_file(
            db,
            request.app[CONFIG].data_dir,
            conference_id,
            agreement_id,
            int_param(request, "version_id"),
        )
    headers = {
        "Content-Type": "application/pdf",
        "Content-Disposition": disposition(version.file_name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return web.FileResponse(path, headers=headers)


async def api_send_code(request: web.Request) -> web.Response:
    conference_id, agreement_id = _ids(request)
    config = request.app[CONFIG]
    mail.require_mail(config)
    async with request.app[DATABASE].session() as db, db.begin():
        code, user, agreement = await ceremony.new_code(
            db,
            config.secret_key,
            identity(request),
            conference_id,
            agreement_id,
            int_param(request, "signatory_id"),
            remote=remote(request),
        )
        to, name, title = user.email, user.display_name, agreement.title
        translate = request.app[CATALOGUES].get(user.locale).gettext
    await mail.send_code(config, to, name, title, code, translate)
    return json_response({"sent": True, "expires_in": int(ceremony.CODE_LIFETIME.seconds)})


async def api_sign(request: web.Request) -> web.Response:
    body = await json_body(request, SignIn)
    conference_id, agreement_id = _ids(request)
    app = request.app
    checks = ceremony.Checks(
        app[PASSWORDS], app[REAUTH_LIMIT], app[CONFIG].secret_key, app[LEDGER_SIGNER]
    )
    async with app[DATABASE].session() as db, db.begin():
        outcome = await ceremony.sign(
            db,
            checks,
            identity(request),
            conference_id,
            agreement_id,
            int_param(request, "signatory_id"),
            body,
            ip=remote(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
    if outcome.refused is not None:
        raise outcome.refused
    if outcome.signing is not None:
        signed = outcome.signing
        await app[EVENTS].publish(
            AgreementSigned(
                conference_id, agreement_id, signed.signatory_id, signed.ledger_position
            )
        )
    await app[EVENTS].publish(SigningChanged(conference_id, outcome.state))
    return json_response(outcome.state.wire(), status=201)


def add_routes(table: RouteTable) -> None:
    table.get(BASE, api_list, PARTS, doc=ApiDoc("The conference's agreements", TAG))
    table.post(
        BASE,
        api_create,
        EDITORS,
        doc=ApiDoc("Register an agreement with its parties", TAG, AgreementIn, status=201),
    )
    table.get(ONE, api_get, PARTS, doc=ApiDoc("One agreement", TAG))
    table.patch(
        ONE, api_edit, EDITORS, doc=ApiDoc("Edit an agreement (draft only)", TAG, AgreementPatch)
    )
    table.post(
        ONE + "/versions",
        api_upload,
        replace(EDITORS, uploads=True),
        doc=ApiDoc(
            "Upload a language version: the PDF's bytes as the body, "
            "?language=lo&name=mou-lo.pdf (PDF only, checked by content)",
            TAG,
            status=201,
            query=(
                Query("language", {"type": "string", "minLength": 1}, required=True),
                Query("name", {"type": "string", "minLength": 1}, required=True),
            ),
            raw_body="application/pdf",
        ),
    )
    table.get(
        ONE + "/versions/{version_id}/pdf",
        download_version,
        PARTS,
        doc=ApiDoc("Download a language version (PDF)", TAG),
    )
    table.post(
        ONE + "/signatories",
        api_designate,
        EDITORS,
        doc=ApiDoc("Designate a party's signatory", TAG, SignatoryIn, status=201),
    )
    table.post(
        ONE + "/signatories/{signatory_id}/code",
        api_send_code,
        PARTS,
        doc=ApiDoc(
            "Mail the signatory a one-time code (6 digits, 10 minutes); 503 mail_unavailable"
            " on a server that sends no e-mail, 503 mail_failed if sending fails",
            TAG,
            errors=(503,),
        ),
    )
    table.post(
        ONE + "/signatories/{signatory_id}/sign",
        api_sign,
        PARTS,
        doc=ApiDoc(
            "Sign after re-authenticating (password or one-time code); appends to the ledger",
            TAG,
            SignIn,
            status=201,
            errors=(429,),
        ),
    )
