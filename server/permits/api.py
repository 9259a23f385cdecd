"""JSON API of the conference permit; the download handlers serve the pages too."""

from __future__ import annotations

import datetime as dt

from aiohttp import web
from aiohttp_jinja2 import render_string

from server.errors import BadRequest, InvalidInput, PayloadTooLarge
from server.i18n_strings import N_
from server.keys import CONFIG, DATABASE, LEDGER_SIGNER, LOCALE
from server.models import PermitStatus, Role, utcnow
from server.permits import attachments as files
from server.permits import consultations as opinions
from server.permits import operations as ops
from server.permits import queries
from server.permits.clock import Procedure
from server.permits.decision import decided_application, decision_context, print_pdf
from server.permits.present import application_out, summary_out
from server.permits.report import permit_report
from server.permits.schemas import (
    ApplicationFields,
    ApplicationOut,
    ApplicationPatch,
    ApplicationSummary,
    AttachmentOut,
    DecisionIn,
    OpinionIn,
    OpinionsAsked,
    Period,
    ReportOut,
    StepComment,
    SubmitIn,
)
from server.route_table import (
    NUMBER_RANGE,
    ApiDoc,
    Query,
    RouteTable,
    conference,
    number_query,
    roles,
)
from server.templating import page_context
from server.web import (
    disposition,
    identity,
    int_param,
    json_body,
    json_response,
    pdf_response,
    query_number,
    remote,
)

PERIODS: tuple[Period, ...] = ("month", "quarter", "year")
CHUNK = 64 * 1024
# One application: ``application_for_viewer`` and ``application_for_applicant`` decide.
READER = roles(Role.ORGANISER, Role.APPROVER).narrowed(
    Role.ORGANISER, Role.APPROVER, why="its conference's organisers; approvers once submitted"
)
APPLICANT = roles(Role.ORGANISER).narrowed(Role.ORGANISER, why="its conference's organisers")
DAY = {"type": "string", "format": "date"}


def procedure(request: web.Request) -> Procedure:
    return Procedure.from_config(request.app[CONFIG])


async def answer(request: web.Request, application_id: int, status: int = 200) -> web.Response:
    """The application as its reader may see it now."""
    async with request.app[DATABASE].session() as db:
        found = await ops.application_for_viewer(db, identity(request), application_id)
        title, applicant = await queries.describe(db, found)
    out = application_out(found, title, applicant, procedure(request), utcnow())
    return json_response(out, status=status)


async def api_list(request: web.Request) -> web.Response:
    statuses = []
    for raw in request.query.getall("status", []):
        try:
            statuses.append(PermitStatus(raw))
        except ValueError:
            names = ", ".join(s.value for s in PermitStatus)
            raise InvalidInput(
                N_("status %(value)s is not one of %(names)s"),
                params={"value": repr(raw), "names": names},
            ) from None
    conference_id = query_number(request, "conference_id", None, *NUMBER_RANGE)
    async with request.app[DATABASE].session() as db:
        rows = await queries.list_applications(
            db,
            identity(request),
            statuses=statuses,
            conference_id=conference_id,
        )
    now, rules = utcnow(), procedure(request)
    return json_response([summary_out(row, rules, now) for row in rows])


async def api_create(request: web.Request) -> web.Response:
    body = await json_body(request, ApplicationFields)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_application(
            db,
            identity(request),
            int_param(request, "conference_id"),
            body,
            remote=remote(request),
        )
    return await answer(request, made.id, 201)


async def api_get(request: web.Request) -> web.Response:
    return await answer(request, int_param(request, "application_id"))


async def api_update(request: web.Request) -> web.Response:
    body = await json_body(request, ApplicationPatch)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.update_application(
            db, identity(request), application_id, body, remote=remote(request)
        )
    return await answer(request, application_id)


async def api_submit(request: web.Request) -> web.Response:
    body = await json_body(request, SubmitIn)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.submit(
            db,
            procedure(request),
            identity(request),
            application_id,
            body.comment,
            late=body.submit_late,
            remote=remote(request),
        )
    return await answer(request, application_id)


async def api_ask_opinions(request: web.Request) -> web.Response:
    body = await json_body(request, OpinionsAsked)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await opinions.ask_opinions(
            db,
            procedure(request),
            identity(request),
            application_id,
            body.agencies,
            remote=remote(request),
        )
    return await answer(request, application_id)


async def api_record_opinion(request: web.Request) -> web.Response:
    body = await json_body(request, OpinionIn)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await opinions.record_opinion(
            db,
            identity(request),
            application_id,
            int_param(request, "consultation_id"),
            body.answer,
            body.remarks,
            remote=remote(request),
        )
    return await answer(request, application_id)


async def api_withdraw(request: web.Request) -> web.Response:
    body = await json_body(request, StepComment)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.withdraw(
            db, identity(request), application_id, body.comment, remote=remote(request)
        )
    return await answer(request, application_id)


async def api_decide(request: web.Request) -> web.Response:
    body = await json_body(request, DecisionIn)
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.decide(
            db,
            procedure(request),
            identity(request),
            application_id,
            body.outcome,
            body.comment,
            remote=remote(request),
            signer=request.app[LEDGER_SIGNER],
        )
    return await answer(request, application_id)


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` bytes (nothing is kept)."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            N_("the file is %(size)s bytes; attachments may be up to %(limit)s bytes"),
            code="attachment_too_large",
            params={"size": str(request.content_length), "limit": str(limit)},
        )
    data = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(
                N_("the file is larger than %(limit)s bytes, the limit for attachments"),
                code="attachment_too_large",
                params={"limit": str(limit)},
            )
    return bytes(data)


async def api_upload(request: web.Request) -> web.Response:
    application_id = int_param(request, "application_id")
    async with request.app[DATABASE].session() as db:
        # Before the body is read or named: a refusal must not depend on the request.
        await ops.application_for_applicant(db, identity(request), application_id)
    name = request.query.get("name")
    if not name:
        raise BadRequest(
            N_("name the file in the query: ?name=letter.pdf"), code="attachment_name_missing"
        )
    config = request.app[CONFIG]
    content = await read_limited(request, config.permit_attachment_max_bytes)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await files.add_attachment(
            db,
            config.data_dir,
            identity(request),
            application_id,
            name,
            content,
            limit=config.permit_attachment_max_bytes,
            remote=remote(request),
        )
        out = AttachmentOut.model_validate(made)
    return json_response(out, status=201)


async def api_remove_attachment(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db, db.begin():
        path = await files.remove_attachment(
            db,
            request.app[CONFIG].data_dir,
            identity(request),
            int_param(request, "application_id"),
            int_param(request, "attachment_id"),
            remote=remote(request),
        )
    files.discard(path)
    return web.Response(status=204)


async def download_attachment(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].session() as db:
        attachment, path = await files.attachment_file(
            db,
            request.app[CONFIG].data_dir,
            identity(request),
            int_param(request, "application_id"),
            int_param(request, "attachment_id"),
        )
    headers = {
        "Content-Type": attachment.content_type,
        "Content-Disposition": disposition(attachment.file_name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return web.FileResponse(path, headers=headers)


async def decision_html(request: web.Request) -> str:
    """The decision document for this reader (their language), as HTML."""
    application_id = int_param(request, "application_id")
    config = request.app[CONFIG]
    async with request.app[DATABASE].session() as db:
        application = await decided_application(db, identity(request), application_id)
        context = await decision_context(
            db,
            application,
            procedure(request),
            request[LOCALE],
            f"{config.public_url}/permits/{application_id}/decision",
        )
    html = render_string("permit_decision.html", request, {**page_context(request), **context})
    assert isinstance(html, str)
    return html


async def decision_pdf(request: web.Request) -> web.Response:
    pdf = await print_pdf(await decision_html(request))
    application_id = int_param(request, "application_id")
    return pdf_response(pdf, f"decision-{application_id}.pdf")


def report_range(request: web.Request, today: dt.date) -> tuple[Period, dt.date, dt.date]:
    raw = request.query.get("period", "month")
    period = next((p for p in PERIODS if p == raw), None)
    if period is None:
        raise InvalidInput(
            N_("period %(value)s is not one of month, quarter, year"),
            code="bad_period",
            params={"value": repr(raw)},
        )
    try:
        start = dt.date.fromisoformat(request.query.get("from") or f"{today.year}-01-01")
        end = dt.date.fromisoformat(request.query.get("to") or f"{today.year}-12-31")
    except ValueError as exc:
        raise InvalidInput(
            N_("from and to are dates (YYYY-MM-DD): %(reason)s"),
            code="bad_range",
            params={"reason": str(exc)},
        ) from None
    return period, start, end


async def api_report(request: web.Request) -> web.Response:
    rules = procedure(request)
    period, start, end = report_range(request, rules.today(utcnow()))
    async with request.app[DATABASE].session() as db:
        report = await permit_report(db, rules, period, start, end)
    return json_response(report)


def add_routes(table: RouteTable) -> None:
    tag = "permits"
    both = roles(Role.ORGANISER, Role.APPROVER)
    reader, applicant = READER, APPLICANT
    one = "/api/permits/{application_id}"
    table.get(
        "/api/permits",
        api_list,
        both,
        doc=ApiDoc(
            "Permit applications you may see (approvers: all submitted; organisers: your own);"
            " filter with ?status=…&conference_id=…",
            tag,
            response=ApplicationSummary,
            list_response=True,
            query=(
                Query(
                    "status",
                    {"type": "array", "items": {"enum": [s.value for s in PermitStatus]}},
                    "Repeat for several",
                ),
                number_query("conference_id", *NUMBER_RANGE),
            ),
        ),
    )
    table.get(
        "/api/permits/report",
        api_report,
        both,
        doc=ApiDoc(
            "Processing report per period: ?period=month|quarter|year&from=YYYY-MM-DD&to=…",
            tag,
            response=ReportOut,
            query=(
                Query("period", {"type": "string", "enum": list(PERIODS)}),
                Query("from", DAY, "Default: 1 January; years 1900 to 2200"),
                Query("to", DAY, "Default: 31 December; years 1900 to 2200"),
            ),
        ),
    )
    table.post(
        "/api/conferences/{conference_id}/permits",
        api_create,
        conference(Role.ORGANISER),
        doc=ApiDoc(
            "Apply for the conference's permit (a draft)",
            tag,
            ApplicationFields,
            ApplicationOut,
            201,
        ),
    )
    table.get(one, api_get, reader, doc=ApiDoc("One application", tag, response=ApplicationOut))
    table.patch(
        one,
        api_update,
        applicant,
        doc=ApiDoc(
            "Change a draft or an application sent back", tag, ApplicationPatch, ApplicationOut
        ),
    )
    table.post(
        one + "/submit",
        api_submit,
        applicant,
        doc=ApiDoc(
            "Submit (or resubmit after changes): the deadline starts, the deciding level is "
            "confirmed; a missed lead time needs submit_late",
            tag,
            SubmitIn,
            ApplicationOut,
        ),
    )
    table.post(
        one + "/withdraw",
        api_withdraw,
        applicant,
        doc=ApiDoc("Withdraw the application", tag, StepComment, ApplicationOut),
    )
    table.post(
        one + "/decision",
        api_decide,
        roles(Role.APPROVER),
        doc=ApiDoc(
            "Approve, reject or ask for changes (approvers)", tag, DecisionIn, ApplicationOut
        ),
    )
    table.post(
        one + "/opinions",
        api_ask_opinions,
        roles(Role.APPROVER),
        doc=ApiDoc(
            "Ask agencies for their opinion before deciding (approvers)",
            tag,
            OpinionsAsked,
            ApplicationOut,
        ),
    )
    table.post(
        one + "/opinions/{consultation_id}",
        api_record_opinion,
        roles(Role.APPROVER),
        doc=ApiDoc("Record an agency's opinion (approvers)", tag, OpinionIn, ApplicationOut),
    )
    table.post(
        one + "/attachments",
        api_upload,
        applicant,
        doc=ApiDoc(
            "Attach a file: the raw bytes as the body, its name in ?name= (PDF, DOCX, PNG, JPEG, "
            "WebP; the type is read from the content)",
            tag,
            response=AttachmentOut,
            status=201,
            query=(Query("name", {"type": "string", "minLength": 1}, required=True),),
            raw_body="application/octet-stream",
        ),
    )
    table.get(
        one + "/attachments/{attachment_id}",
        download_attachment,
        reader,
        doc=ApiDoc("Download an attachment", tag),
    )
    table.delete(
        one + "/attachments/{attachment_id}",
        api_remove_attachment,
        applicant,
        doc=ApiDoc("Remove an attachment", tag, status=204),
    )
    table.get(
        one + "/decision.pdf",
        decision_pdf,
        reader,
        doc=ApiDoc(
            "The decision as PDF; 503 pdf_unavailable where the server cannot print",
            tag,
            errors=(503,),
        ),
    )
