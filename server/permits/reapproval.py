"""Re-approval after a material change: a conference approved (or scheduled) whose dates,
format, sites or foreign delegations then change goes back to awaiting approval.

The conference's editor and API publish ``RosterChanged`` after each change they commit; this
subscriber compares the conference's plan with the plan its last approval saw
(``PermitApplication.approved_plan``, ``plan.changes``). A material difference opens a new
round: a copy of the approved application, its dates and format taken from the conference and
its foreign participants following the delegations added or removed, submitted at once (the
statutory clock starts) with the changes in its history; the approved round and its decision
stay as they were (an application approved before Concord kept the approved plan has none to
compare with, and is not re-checked). The conference's status goes back to awaiting approval
through the lifecycle's automatic step. Edits that change none of these (titles and their
translations, the description, sessions, interpreters, a delegation's members) change nothing.

It runs after the edit committed, in a transaction of its own, and is idempotent: another
node receiving the same event (cluster/event_relay.py) finds the conference awaiting approval
already and does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.conferences.operations import load_conference, return_for_approval
from server.conferences.queries import conference_detail
from server.db import Database
from server.models import (
    ConferenceStatus,
    PermitApplication,
    PermitParticipant,
    PermitStatus,
    PermitStep,
    utcnow,
)
from server.permits.clock import Procedure
from server.permits.level import Lead, lead_days, level_of
from server.permits.operations import TARGET, _load
from server.permits.plan import changes, plan_of, summary

log = logging.getLogger(__name__)
WATCHED = frozenset({ConferenceStatus.APPROVED, ConferenceStatus.SCHEDULED})
ACTOR = "concord"  # the history's name for a step no person took


async def plan_changed(database: Database, procedure: Procedure, conference_id: int) -> None:
    """The subscriber of ``RosterChanged``: a new round if the change is material."""
    async with database.session() as db, db.begin():
        await reopen_if_changed(db, procedure, conference_id)


async def reopen_if_changed(
    db: AsyncSession, procedure: Procedure, conference_id: int, now: dt.datetime | None = None
) -> PermitApplication | None:
    now = now or utcnow()
    conference = await load_conference(db, conference_id, lock=True)
    if ConferenceStatus(conference.status) not in WATCHED:
        return None
    latest_id = await db.scalar(
        select(PermitApplication.id)
        .where(PermitApplication.conference_id == conference_id)
        .order_by(PermitApplication.id.desc())
        .limit(1)
    )
    if latest_id is None:
        return None
    approved = await _load(db, latest_id)
    if approved.status != PermitStatus.APPROVED or approved.approved_plan is None:
        return None
    plan = plan_of(await conference_detail(db, conference_id))
    found = changes(approved.approved_plan, plan)
    if not found:
        return None
    again = _next_round(approved, plan, procedure, now)
    again.steps.append(
        PermitStep(
            at=now,
            action="reopened",
            from_status=None,
            to_status=PermitStatus.SUBMITTED.value,
            actor_id=None,
            actor=ACTOR,
            comment=f"Re-approval of application {approved.id} after a material change:\n"
            + summary(found),
        )
    )
    db.add(again)
    await db.flush()
    detail = {"previous": approved.id, "changes": found, "due_on": str(again.due_on)}
    audit.record(
        db, None, "permit.reopened", TARGET, again.id, conference_id=conference_id, detail=detail
    )
    await return_for_approval(db, conference_id, {"permit": again.id, "changes": sorted(found)})
    log.info("conference %s sent back for approval (application %s)", conference_id, again.id)
    return again


def _next_round(
    approved: PermitApplication, plan: dict[str, object], procedure: Procedure, now: dt.datetime
) -> PermitApplication:
    dates = plan["dates"]
    assert isinstance(dates, list)
    starts_on, ends_on = (dt.date.fromisoformat(day) for day in dates)
    before = set(approved.approved_plan.get("foreign", []) if approved.approved_plan else [])
    after = plan["foreign"]
    assert isinstance(after, list)
    removed = set(before) - set(after)
    rows = [
        PermitParticipant(country=p.country, organisation=p.organisation, number=p.number)
        for p in approved.participants
        if f"{p.country}: {p.organisation}" not in removed
    ]
    for added in sorted(set(after) - before):
        country, _, organisation = added.partition(": ")
        rows.append(PermitParticipant(country=country, organisation=organisation, number=1))
    level = level_of(approved)
    today = procedure.today(now)
    days = (
        approved.lead_days if approved.lead_days is not None else lead_days(procedure.rules, level)
    )
    lead = Lead.of(level, days, starts_on, today)
    return PermitApplication(
        conference_id=approved.conference_id,
        applicant_id=approved.applicant_id,
        status=PermitStatus.SUBMITTED.value,
        purpose=approved.purpose,
        format=str(plan["format"]),
        starts_on=starts_on,
        ends_on=ends_on,
        content=approved.content,
        funding_source=approved.funding_source,
        funding_amount=approved.funding_amount,
        funding_currency=approved.funding_currency,
        created_at=now,
        updated_at=now,
        clock_started_at=now,
        due_on=procedure.due_on(now),
        ministerial_participants=approved.ministerial_participants,
        sensitive_topics=list(approved.sensitive_topics or []),
        deciding_level=level.value,
        level_confirmed_by_id=approved.level_confirmed_by_id,
        level_confirmed_at=approved.level_confirmed_at,
        lead_days=days,
        submitted_late=lead.missed,
        previous_id=approved.id,
        participants=rows,
        attachments=[],
        steps=[],
        consultations=[],
    )
