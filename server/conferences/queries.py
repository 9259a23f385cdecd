"""Reading conferences as a given person may see them."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.accounts.identity import Identity
from server.errors import NotFound
from server.models import Conference, ConferenceMember, Delegation


async def conferences_for(db: AsyncSession, who: Identity) -> list[Conference]:
    """The conferences this person has a part in, newest first (admins see all)."""
    query = select(Conference).order_by(Conference.starts_at.desc(), Conference.id)
    if who.guest is not None:
        query = query.where(Conference.id == who.guest.conference_id)
    elif not who.is_admin:
        member_of = select(ConferenceMember.conference_id).where(
            ConferenceMember.user_id == who.user_id
        )
        query = query.where(
            or_(Conference.organiser_id == who.user_id, Conference.id.in_(member_of))
        )
    return list(await db.scalars(query.options(selectinload(Conference.sites))))


async def conference_detail(db: AsyncSession, conference_id: int) -> Conference:
    conference = await db.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(
            selectinload(Conference.languages),
            selectinload(Conference.sessions),
            selectinload(Conference.sites),
            selectinload(Conference.delegations).selectinload(Delegation.members),
            selectinload(Conference.interpreters),
        )
    )
    if conference is None:
        raise NotFound(f"there is no conference {conference_id}", code="conference_not_found")
    return conference
