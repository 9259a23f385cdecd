"""The opinions the authority collects before deciding (Decision 06/2020/QĐ-TTg: those of the
foreign-affairs and public-security agencies, and of any other concerned), each a step with
its own deadline in working days from when it is asked (``settings.PermitRules``).

Approvers ask and record the answers; the application's page shows each one as asked,
answered (agree, disagree, agree with remarks) or overdue. An application is not approved
while an opinion asked has not come in: the approver records it, or rejects, or asks the
organiser for changes. Which agencies to ask depends on the conference, so approving without
asking any is allowed (the page says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.models import ConsultationAnswer, PermitConsultation, utcnow
from server.permits.clock import RUNNING, Procedure
from server.permits.operations import APPROVER, TARGET, _load
from server.permits.opinions import pending, state
from server.permits.schemas import ConsultationOut


def _approver(who: Identity) -> None:
    if not who.has_any(APPROVER):
        raise Forbidden(N_("only approvers ask for and record opinions"), code="wrong_role")


def consultation_out(consultation: PermitConsultation, today: dt.date) -> ConsultationOut:
    out = ConsultationOut.model_validate(consultation)
    return out.model_copy(update={"state": state(consultation, today)})


async def ask_opinions(
    db: AsyncSession,
    procedure: Procedure,
    who: Identity,
    application_id: int,
    agencies: Sequence[str] = (),
    *,
    remote: str = "",
    now: dt.datetime | None = None,
) -> list[PermitConsultation]:
    """Ask these agencies (none given: every agency of the settings) for their opinion; an
    agency already waited for is not asked twice."""
    now = now or utcnow()
    _approver(who)
    application = await _load(db, application_id, lock=True)
    if application.status not in RUNNING:
        raise Conflict(
            N_("opinions are asked while the application awaits a decision"),
            code="wrong_status",
        )
    names = [a.strip() for a in agencies if a.strip()] or list(procedure.rules.consulted_agencies)
    if any(len(name) > 300 for name in names):
        raise InvalidInput(N_("an agency's name is at most 300 characters"), code="agency_name")
    waited = {c.agency for c in pending(application)}
    due = procedure.calendar.deadline(
        procedure.today(now), procedure.rules.consultation_working_days
    )
    asked = []
    for name in dict.fromkeys(names):
        if name in waited:
            continue
        consultation = PermitConsultation(
            agency=name, asked_at=now, due_on=due, asked_by_id=who.user_id, remarks=""
        )
        application.consultations.append(consultation)
        asked.append(consultation)
    await db.flush()
    if asked:
        audit.record(
            db,
            who,
            "permit.opinions_asked",
            TARGET,
            application.id,
            conference_id=application.conference_id,
            detail={"agencies": [c.agency for c in asked], "due_on": due.isoformat()},
            remote=remote,
        )
    return asked


async def record_opinion(
    db: AsyncSession,
    who: Identity,
    application_id: int,
    consultation_id: int,
    answer: ConsultationAnswer,
    remarks: str = "",
    *,
    remote: str = "",
    now: dt.datetime | None = None,
) -> PermitConsultation:
    now = now or utcnow()
    _approver(who)
    application = await _load(db, application_id, lock=True)
    found = next((c for c in application.consultations if c.id == consultation_id), None)
    if found is None:
        raise NotFound(
            N_("application %(application)s asked no opinion no. %(id)s"),
            code="opinion_not_found",
            params={"application": str(application_id), "id": str(consultation_id)},
        )
    if found.answered_at is not None:
        raise Conflict(
            N_("the opinion of %(agency)s is already recorded"),
            code="opinion_recorded",
            params={"agency": found.agency},
        )
    remarks = remarks.strip()
    if answer != ConsultationAnswer.AGREE and not remarks:
        raise InvalidInput(
            N_("write down the agency's remarks or reasons"), code="remarks_required"
        )
    found.answer, found.remarks = answer.value, remarks
    found.answered_at, found.answered_by_id = now, who.user_id
    audit.record(
        db,
        who,
        "permit.opinion_recorded",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        detail={"agency": found.agency, "answer": answer.value, "remarks": remarks},
        remote=remote,
    )
    return found
