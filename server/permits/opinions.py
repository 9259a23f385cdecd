"""Whether the opinions asked before a decision are in (``consultations`` asks and records
them)."""

from __future__ import annotations

import datetime as dt

from server.errors import Conflict
from server.i18n_strings import N_
from server.models import PermitApplication, PermitConsultation


def pending(application: PermitApplication) -> list[PermitConsultation]:
    return [c for c in application.consultations if c.answered_at is None]


def require_opinions(application: PermitApplication) -> None:
    """Before an approval: every opinion asked has come in."""
    waiting = pending(application)
    if waiting:
        raise Conflict(
            N_("the opinion of %(agencies)s has not come in yet; record it before approving"),
            code="opinions_pending",
            params={"agencies": "; ".join(c.agency for c in waiting)},
        )


def state(consultation: PermitConsultation, today: dt.date) -> str:
    if consultation.answered_at is not None:
        return "answered"
    return "overdue" if today > consultation.due_on else "asked"
