"""Legal hold: while a conference is on hold, retention deletes nothing of it.

Admins, and the conference's organiser or secretary, put a conference on hold or lift it,
always giving a reason; both are written to the audit log with the reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.conferences.access import no_such_conference, require_conference_role
from server.errors import Conflict, Forbidden, InvalidInput
from server.i18n_strings import N_
from server.identity import Identity
from server.models import Conference, Role, utcnow

HOLDERS = frozenset({Role.ORGANISER, Role.SECRETARY})
"""Who may put a conference on legal hold or lift it (admins too: they hold every role)."""
MAX_REASON = 1000


def check_reason(reason: str) -> str:
    """The reason, trimmed; refused when empty or too long."""
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput(N_("reason: say why (a legal hold needs a reason)"), code="hold_reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(
            N_("reason: at most %(max)s characters"),
            code="hold_reason",
            params={"max": str(MAX_REASON)},
        )
    return text


async def set_legal_hold(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    hold: bool,
    reason: str,
    *,
    remote: str = "",
    now: dt.datetime | None = None,
) -> Conference:
    """Put ``conference_id`` on legal hold (``hold``) or lift it, for ``reason``."""
    text = check_reason(reason)
    if who.guest is not None:
        raise Forbidden(N_("guests cannot change a legal hold"), code="wrong_role")
    await require_conference_role(db, who, conference_id, HOLDERS)
    conference = await db.get(Conference, conference_id)
    if conference is None:
        raise no_such_conference(conference_id)
    if hold and conference.legal_hold:
        raise Conflict(N_("this conference is already on legal hold"), code="already_on_hold")
    if not hold and not conference.legal_hold:
        raise Conflict(N_("this conference is not on legal hold"), code="not_on_hold")
    at = now or utcnow()
    if hold:
        conference.legal_hold = True
        conference.legal_hold_reason = text
        conference.legal_hold_by = who.actor
        conference.legal_hold_at = at
    else:
        conference.legal_hold = False
        conference.legal_hold_reason = ""
        conference.legal_hold_by = ""
        conference.legal_hold_at = None
    audit.record(
        db,
        who,
        "conference.legal_hold" if hold else "conference.legal_hold_lifted",
        "conference",
        conference_id,
        conference_id=conference_id,
        detail={"reason": text},
        remote=remote,
    )
    await db.flush()
    return conference
