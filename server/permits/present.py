"""Applications as the API and the pages show them, with the clock and the lead time computed
for today."""

from __future__ import annotations

import datetime as dt

from server.models import PermitApplication
from server.permits.clock import DECIDED, NOT_SUBMITTED, RUNNING, Procedure
from server.permits.consultations import consultation_out
from server.permits.level import AT_RISK_DAYS, Lead, lead_days, level_of, suggestion_for
from server.permits.queries import Listed
from server.permits.schemas import (
    ApplicationOut,
    ApplicationSummary,
    AttachmentOut,
    LeadOut,
    ParticipantsOut,
    StepOut,
)


def lead_out(application: PermitApplication, procedure: Procedure, now: dt.datetime) -> LeadOut:
    """The lead time against the first day: from the receipt once submitted (the days then
    applied), before that from today with the level as chosen or suggested."""
    level = level_of(application)
    confirmed = application.level_confirmed_at is not None
    days = application.lead_days
    if days is None or not confirmed:
        days = lead_days(procedure.rules, level)
    today = procedure.today(now)
    started = application.clock_started_at
    submitted = application.status in RUNNING | DECIDED and started is not None
    received = procedure.calendar.local_date(started) if submitted and started else today
    lead = Lead.of(level, days, application.starts_on, received)
    not_yet = application.status in NOT_SUBMITTED
    return LeadOut(
        level=level,
        confirmed=confirmed,
        lead_days=days,
        latest_on=lead.latest_on,
        days_before_start=lead.days_before_start,
        missed=lead.missed,
        at_risk=not_yet and not lead.missed and (lead.latest_on - today).days <= AT_RISK_DAYS,
        submitted_late=application.submitted_late,
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
        lead=lead_out(application, procedure, now),
        previous_id=application.previous_id,
    )


def application_out(
    application: PermitApplication,
    conference_title: str,
    applicant: str,
    procedure: Procedure,
    now: dt.datetime,
) -> ApplicationOut:
    summary = summary_out(Listed(application, conference_title, applicant), procedure, now)
    suggestion = suggestion_for(application)
    today = procedure.today(now)
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
        ministerial_participants=application.ministerial_participants,
        sensitive_topics=list(application.sensitive_topics or []),
        deciding_level=application.deciding_level,
        suggested_level=suggestion.level,
        suggestion_reasons=list(suggestion.reasons),
        level_confirmed_at=application.level_confirmed_at,
        consultations=[consultation_out(c, today) for c in application.consultations],
    )
