"""Lists of applications as their readers may see them, and what a page shows beside one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.identity import Identity
from server.models import Conference, ConferenceMember, PermitApplication, PermitStatus, Role, User
from server.permits.operations import APPROVER


@dataclass(frozen=True)
class Listed:
    """An application in a list, with what the list shows beside it."""

    application: PermitApplication
    conference_title: str
    applicant: str


def _visible_to(who: Identity) -> ColumnElement[bool]:
    organised = or_(
        Conference.organiser_id == who.user_id,
        Conference.id.in_(
            select(ConferenceMember.conference_id).where(
                ConferenceMember.user_id == who.user_id,
                ConferenceMember.role == Role.ORGANISER.value,
            )
        ),
    )
    if who.is_admin:
        return PermitApplication.id.is_not(None)
    if who.has_any(APPROVER):
        return or_(organised, PermitApplication.status != PermitStatus.DRAFT.value)
    return organised


async def list_applications(
    db: AsyncSession,
    who: Identity,
    *,
    statuses: Sequence[PermitStatus] = (),
    conference_id: int | None = None,
) -> list[Listed]:
    """What this person may see: approvers everything submitted, organisers their own."""
    query = (
        select(PermitApplication, Conference.title, User.display_name, User.email)
        .join(Conference, Conference.id == PermitApplication.conference_id)
        .outerjoin(User, User.id == PermitApplication.applicant_id)
        .where(_visible_to(who))
        .order_by(
            PermitApplication.due_on.is_(None),
            PermitApplication.due_on,
            PermitApplication.id.desc(),
        )
    )
    if statuses:
        query = query.where(PermitApplication.status.in_([s.value for s in statuses]))
    if conference_id is not None:
        query = query.where(PermitApplication.conference_id == conference_id)
    rows = (await db.execute(query)).all()
    return [Listed(row[0], row[1], row[2] or row[3] or "") for row in rows]


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
