"""The decision document: HTML from a Jinja2 template, and the same HTML printed to PDF.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0, libpangoft2-1.0-0; the
Makefile installs them). It is imported on first use, so a server without them still runs
and answers the PDF with a clear 503.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, Unavailable
from server.i18n_strings import N_
from server.identity import Identity
from server.ledger.operations import entry_head, shown_head
from server.ledger.references import entry_for_permit
from server.models import PermitApplication, PermitStatus, User
from server.permits.clock import DECIDED, Procedure
from server.permits.operations import application_for_viewer
from server.permits.queries import describe


async def decided_application(
    db: AsyncSession, who: Identity, application_id: int
) -> PermitApplication:
    application = await application_for_viewer(db, who, application_id)
    if application.status not in DECIDED:
        raise Conflict(
            N_("permit application %(application)s has no decision yet (%(status)s)"),
            code="no_decision",
            params={"application": str(application_id), "status": application.status},
        )
    return application


async def decision_context(
    db: AsyncSession,
    application: PermitApplication,
    procedure: Procedure,
    locale: str,
    verify_url: str,
) -> dict[str, Any]:
    """What the template shows, formatted for the reader's language."""
    title, applicant = await describe(db, application)
    approver = await db.get(User, application.decided_by_id) if application.decided_by_id else None
    names = Locale.parse(locale).territories
    decided_at = application.decided_at or dt.datetime.now(dt.UTC)
    comment = next(
        (s.comment for s in reversed(application.steps) if s.action == application.status), ""
    )
    entry = await entry_for_permit(db, application.id)
    head = await entry_head(db, entry.position) if entry is not None else None
    return {
        "application": application,
        "approved": application.status == PermitStatus.APPROVED,
        "authority": procedure.authority,
        "conference_title": title,
        "applicant": applicant,
        "approver": (approver.display_name or approver.email) if approver else "",
        "decided_on": format_date(procedure.calendar.local_date(decided_at), "long", locale),
        "dates": " – ".join(
            format_date(day, "long", locale)
            for day in dict.fromkeys((application.starts_on, application.ends_on))
        ),
        "participants": [
            (names.get(p.country, p.country), p.organisation, p.number)
            for p in application.participants
        ],
        "total_participants": sum(p.number for p in application.participants),
        "funding": format_currency(
            application.funding_amount, application.funding_currency, locale=locale
        ),
        "comment": comment,
        "verify_url": verify_url,
        "ledger_position": entry.position if entry is not None else None,
        "head": shown_head(head) if head is not None else None,
    }


def _print(html: str) -> bytes:
    try:
        import weasyprint  # type: ignore[import-untyped]
    except OSError as exc:  # Pango missing from the system
        raise Unavailable(
            N_("PDF printing is not available on this server (%(reason)s); use the HTML decision"),
            code="pdf_unavailable",
            params={"reason": str(exc)},
        ) from None
    # Self-contained document: nothing is fetched (no files, no network).
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


async def print_pdf(html: str) -> bytes:
    """Lay out the decision as PDF in a worker thread (it takes a CPU for a moment)."""
    return await asyncio.to_thread(_print, html)
