"""The permit procedure: applying, submitting, deciding; every step is stored and audited.

Who may do what:

- the *applicant's side* (the conference's organisers) write and submit the application,
  answer a request for changes, withdraw it, and read it at any stage;
- *approvers* read every application once submitted, and decide it: approve, reject or ask
  for changes, with comments (required for the last two). Nobody decides an application of a
  conference they organise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from recordings.ledger.tree_head import TreeHeadSigner
from server import audit
from server.conferences import lifecycle
from server.conferences.operations import change_status
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.ledger import operations as ledger
from server.models import (
    Conference,
    ConferenceMember,
    ConferenceStatus,
    PermitApplication,
    PermitParticipant,
    PermitStatus,
    PermitStep,
    Role,
    utcnow,
)
from server.permits.clock import DECIDED, RUNNING, Procedure
from server.permits.level import confirm_level
from server.permits.opinions import require_opinions
from server.permits.plan import current_plan
from server.permits.schemas import ApplicationFields, ApplicationPatch, Outcome
from server.web import validation_errors

EDITABLE = frozenset({PermitStatus.DRAFT, PermitStatus.CHANGES_REQUESTED})
CLOSED = frozenset({PermitStatus.APPROVED, PermitStatus.REJECTED, PermitStatus.WITHDRAWN})
OUTCOMES: dict[str, PermitStatus] = {
    "approve": PermitStatus.APPROVED,
    "reject": PermitStatus.REJECTED,
    "request_changes": PermitStatus.CHANGES_REQUESTED,
}
APPROVER = frozenset({Role.APPROVER})
TARGET = "permit_application"


async def organises(db: AsyncSession, who: Identity, conference_id: int) -> bool:
    """Whether this user is an organiser of the conference (its owner or a co-organiser)."""
    if who.user_id is None or who.guest is not None:
        return False
    owner = await db.scalar(select(Conference.organiser_id).where(Conference.id == conference_id))
    if owner == who.user_id:
        return True
    member = await db.scalar(
        select(ConferenceMember.id).where(
            ConferenceMember.conference_id == conference_id,
            ConferenceMember.user_id == who.user_id,
            ConferenceMember.role == Role.ORGANISER.value,
        )
    )
    return member is not None


async def _load(db: AsyncSession, application_id: int, *, lock: bool = False) -> PermitApplication:
    query = (
        select(PermitApplication)
        .where(PermitApplication.id == application_id)
        .options(
            selectinload(PermitApplication.participants),
            selectinload(PermitApplication.attachments),
            selectinload(PermitApplication.steps),
            selectinload(PermitApplication.consultations),
        )
    )
    if lock:  # two approvers deciding at once: the second waits, then sees the new status
        query = query.with_for_update()
    found = await db.scalar(query)
    if found is None:
        raise NotFound(
            N_("there is no permit application %(id)s"),
            code="permit_not_found",
            params={"id": str(application_id)},
        )
    return found


async def application_for_viewer(
    db: AsyncSession, who: Identity, application_id: int
) -> PermitApplication:
    """The application, if this person may read it (its applicant side, or an approver)."""
    found = await _load(db, application_id)
    if await organises(db, who, found.conference_id) or who.is_admin:
        return found
    if who.has_any(APPROVER) and found.status != PermitStatus.DRAFT:
        return found
    raise Forbidden(
        N_("permit application %(application)s is for its conference's organisers and approvers"),
        code="not_your_application",
        params={"application": str(application_id)},
    )


async def application_for_applicant(
    db: AsyncSession, who: Identity, application_id: int, *, lock: bool = False
) -> PermitApplication:
    found = await _load(db, application_id, lock=lock)
    if not (who.is_admin or await organises(db, who, found.conference_id)):
        raise Forbidden(
            N_("only the organisers of conference %(conference)s act for this application"),
            code="not_your_application",
            params={"conference": str(found.conference_id)},
        )
    return found


#: ``_require_status``'s refusal for each thing done to an application.
WRONG_STATUS = {
    "change": N_("cannot change an application that is %(status)s (only when %(names)s)"),
    "submit": N_("cannot submit an application that is %(status)s (only when %(names)s)"),
    "withdraw": N_("cannot withdraw an application that is %(status)s (only when %(names)s)"),
    "decide": N_("cannot decide an application that is %(status)s (only when %(names)s)"),
}


def _require_status(
    application: PermitApplication, allowed: frozenset[PermitStatus], doing: str
) -> None:
    if application.status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed))
        raise Conflict(
            WRONG_STATUS[doing],
            code="wrong_status",
            params={"status": application.status, "names": names},
        )


def _step(
    application: PermitApplication,
    who: Identity,
    action: str,
    to_status: PermitStatus,
    now: dt.datetime,
    comment: str = "",
) -> PermitStep:
    step = PermitStep(
        at=now,
        action=action,
        from_status=application.status,
        to_status=to_status.value,
        actor_id=who.user_id,
        actor=who.actor,
        comment=comment,
    )
    application.steps.append(step)
    application.status = to_status.value
    return step


def _fields(application: PermitApplication, fields: ApplicationFields) -> None:
    application.purpose = fields.purpose
    application.format = fields.format.value
    application.starts_on = fields.starts_on
    application.ends_on = fields.ends_on
    application.content = fields.content
    application.funding_source = fields.funding_source
    application.funding_amount = fields.funding_amount
    application.funding_currency = fields.funding_currency
    application.participants = [
        PermitParticipant(country=p.country, organisation=p.organisation, number=p.number)
        for p in fields.participants
    ]
    application.ministerial_participants = fields.ministerial_participants
    application.sensitive_topics = list(fields.sensitive_topics)
    application.deciding_level = fields.deciding_level.value if fields.deciding_level else None


def current_fields(application: PermitApplication) -> dict[str, Any]:
    return {
        "purpose": application.purpose,
        "format": application.format,
        "starts_on": application.starts_on,
        "ends_on": application.ends_on,
        "participants": [
            {"country": p.country, "organisation": p.organisation, "number": p.number}
            for p in application.participants
        ],
        "content": application.content,
        "funding_source": application.funding_source,
        "funding_amount": application.funding_amount,
        "funding_currency": application.funding_currency,
        "ministerial_participants": application.ministerial_participants,
        "sensitive_topics": list(application.sensitive_topics or []),
        "deciding_level": application.deciding_level,
    }


async def create_application(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    fields: ApplicationFields,
    *,
    remote: str = "",
    now: dt.datetime | None = None,
) -> PermitApplication:
    """A new draft. A conference has at most one application that is not closed."""
    now = now or utcnow()
    if not (who.is_admin or await organises(db, who, conference_id)):
        raise Forbidden(
            N_("only the organisers of conference %(conference)s apply for its permit"),
            code="not_your_application",
            params={"conference": str(conference_id)},
        )
    open_one = await db.scalar(
        select(PermitApplication).where(
            PermitApplication.conference_id == conference_id,
            PermitApplication.status.not_in([s.value for s in CLOSED]),
        )
    )
    if open_one is not None:
        raise Conflict(
            N_("this conference already has an open permit application (no. %(id)s); continue it"),
            code="permit_already_open",
            params={"id": str(open_one.id)},
        )
    application = PermitApplication(
        conference_id=conference_id,
        applicant_id=who.user_id,
        status=PermitStatus.DRAFT.value,
        created_at=now,
        updated_at=now,
        participants=[],
        attachments=[],
        steps=[],
        consultations=[],
    )
    _fields(application, fields)
    application.steps.append(
        PermitStep(
            at=now,
            action="created",
            from_status=None,
            to_status=PermitStatus.DRAFT.value,
            actor_id=who.user_id,
            actor=who.actor,
        )
    )
    db.add(application)
    await db.flush()
    audit.record(
        db,
        who,
        "permit.created",
        TARGET,
        application.id,
        conference_id=conference_id,
        remote=remote,
    )
    return application


async def update_application(
    db: AsyncSession,
    who: Identity,
    application_id: int,
    patch: ApplicationPatch | ApplicationFields,
    *,
    remote: str = "",
) -> PermitApplication:
    application = await application_for_applicant(db, who, application_id, lock=True)
    _require_status(application, EDITABLE, "change")
    changes = patch.model_dump(exclude_unset=True)
    try:
        merged = ApplicationFields.model_validate({**current_fields(application), **changes})
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"the application is invalid: {summary}", errors=errors) from None
    _fields(application, merged)
    audit.record(
        db,
        who,
        "permit.updated",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        detail={"fields": sorted(changes)},
        remote=remote,
    )
    return application


async def submit(
    db: AsyncSession,
    procedure: Procedure,
    who: Identity,
    application_id: int,
    comment: str = "",
    *,
    late: bool = False,
    remote: str = "",
    now: dt.datetime | None = None,
) -> PermitApplication:
    """Send a draft, or the answer to a request for changes; the clock starts from zero. The
    deciding level is confirmed and its lead time checked (``level.confirm_level``): missed,
    the submission needs ``late``."""
    now = now or utcnow()
    application = await application_for_applicant(db, who, application_id, lock=True)
    _require_status(application, EDITABLE, "submit")
    if not application.participants:
        raise InvalidInput(
            N_("an international conference needs at least one group of foreign participants"),
            code="no_foreign_participants",
        )
    if application.starts_on < procedure.today(now):
        raise InvalidInput(
            N_("the conference starts on %(day)s, which has passed; correct the dates first"),
            code="dates_passed",
            params={"day": application.starts_on.isoformat()},
        )
    lead = confirm_level(
        application, procedure.rules, who.user_id, procedure.today(now), now, late=late
    )
    again = application.status == PermitStatus.CHANGES_REQUESTED
    action = "resubmitted" if again else "submitted"
    _step(application, who, action, PermitStatus(action), now, comment)
    application.clock_started_at = now
    application.due_on = procedure.due_on(now)
    await _conference_follows(db, who, application, ConferenceStatus.AWAITING_APPROVAL, remote)
    audit.record(
        db,
        who,
        f"permit.{action}",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        detail={
            "due_on": application.due_on.isoformat(),
            "deciding_level": lead.level.value,
            "lead_days": lead.lead_days,
            "days_before_start": lead.days_before_start,
            "late": lead.missed,
        },
        remote=remote,
    )
    return application


async def withdraw(
    db: AsyncSession,
    who: Identity,
    application_id: int,
    comment: str = "",
    *,
    remote: str = "",
    now: dt.datetime | None = None,
) -> PermitApplication:
    now = now or utcnow()
    application = await application_for_applicant(db, who, application_id, lock=True)
    _require_status(application, EDITABLE | RUNNING, "withdraw")
    _step(application, who, "withdrawn", PermitStatus.WITHDRAWN, now, comment)
    application.due_on = None
    await _conference_follows(db, who, application, ConferenceStatus.DRAFT, remote)
    audit.record(
        db,
        who,
        "permit.withdrawn",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        remote=remote,
    )
    return application


async def decide(
    db: AsyncSession,
    procedure: Procedure,
    who: Identity,
    application_id: int,
    outcome: Outcome,
    comment: str = "",
    *,
    remote: str = "",
    now: dt.datetime | None = None,
    signer: TreeHeadSigner | None = None,
) -> PermitApplication:
    """Record an approver's decision; with ``signer`` (the web layer always passes the app's)
    an approval or rejection is attested in the ledger in the same transaction."""
    now = now or utcnow()
    if not who.has_any(APPROVER):
        raise Forbidden(N_("only approvers decide permit applications"), code="wrong_role")
    comment = comment.strip()
    if outcome != "approve" and not comment:
        raise InvalidInput(
            N_("give the reasons in the comment when rejecting or asking for changes"),
            code="comment_required",
        )
    application = await _load(db, application_id, lock=True)
    if who.user_id == application.applicant_id or await organises(
        db, who, application.conference_id
    ):
        raise Forbidden(
            N_("you organise this conference, so another approver must decide its permit"),
            code="own_application",
        )
    _require_status(application, RUNNING, "decide")
    if outcome == "approve":
        require_opinions(application)
        application.approved_plan = await current_plan(db, application.conference_id)
    to_status = OUTCOMES[outcome]
    _step(application, who, to_status.value, to_status, now, comment)
    if to_status in DECIDED:
        application.decided_at = now
        application.decided_by_id = who.user_id
        year = procedure.today(now).year
        application.decision_number = f"{application.id:04d}/{year}/QĐ"
        if signer is not None:
            await ledger.attest_permit_decision(db, signer, application, to_status.value, comment)
    else:  # sent back: the clock stops and restarts from zero on resubmission
        application.clock_started_at = None
        application.due_on = None
    approved = to_status == PermitStatus.APPROVED
    wanted = ConferenceStatus.APPROVED if approved else ConferenceStatus.DRAFT
    await _conference_follows(db, who, application, wanted, remote)
    audit.record(
        db,
        who,
        f"permit.{to_status.value}",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        detail={"comment": comment},
        remote=remote,
    )
    return application


async def _conference_follows(
    db: AsyncSession,
    who: Identity,
    application: PermitApplication,
    wanted: ConferenceStatus,
    remote: str,
) -> None:
    """The permit is the conference's approval: submitting it puts a draft conference in
    "awaiting approval", the decision approves it or sends it back to draft. A conference
    already further along (or cancelled) keeps its status."""
    conference = await db.get(Conference, application.conference_id)
    if conference is None:
        return
    current = ConferenceStatus(conference.status)
    if current != wanted and lifecycle.is_allowed(current, wanted):
        await change_status(db, who, conference.id, wanted, "permit", remote)
