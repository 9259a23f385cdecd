"""Applications as the API and the pages show them, with the clock computed for today."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Conference, PermitApplication, User
from server.permits.clock import Procedure
from server.permits.operations import Listed
from server.permits.schemas import (
    ApplicationOut,
    ApplicationSummary,
    AttachmentOut,
    ParticipantsOut,
    StepOut,
)


def summary_out(listed: Listed, procedure: Procedure, now: dt.datetime) -> ApplicationSummary:
    application = listed.application
    return ApplicationSummary(
        id=application.id,
        conference_id=application.conference_id,
        conference_title=listed.conference_title,
        status=application.status,
        applicant=listed.applicant,
        starts_on=application.starts_on,
        ends_on=application.ends_on,
        created_at=application.created_at,
        clock=procedure.clock(application, now),
    )


def application_out(
    application: PermitApplication,
    conference_title: str,
    applicant: str,
    procedure: Procedure,
    now: dt.datetime,
) -> ApplicationOut:
    summary = summary_out(Listed(application, conference_title, applicant), procedure, now)
    return ApplicationOut(
        **summary.model_dump(),
        purpose=application.purpose,
        format=application.format,
        participants=[ParticipantsOut.model_validate(p) for p in application.participants],
        content=application.content,
        funding_source=application.funding_source,
        funding_amount=application.funding_amount,
        funding_currency=application.funding_currency,
        decided_at=application.decided_at,
        decision_number=application.decision_number,
        attachments=[AttachmentOut.model_validate(a) for a in application.attachments],
        steps=[StepOut.model_validate(s) for s in application.steps],
    )


async def describe(db: AsyncSession, application: PermitApplication) -> tuple[str, str]:
    """The conference's title and the applicant's name, for showing one application."""
    title = await db.scalar(
        select(Conference.title).where(Conference.id == application.conference_id)
    )
    applicant = None
    if application.applicant_id is not None:
        user = await db.get(User, application.applicant_id)
        applicant = (user.display_name or user.email) if user else None
    return title or "", applicant or ""
