"""Who may act in a conference, and in which roles.

A person's roles *in a conference* are: organiser if they own it, the roles of their
``ConferenceMember`` rows, approver for a user with the approver role once the conference has
left its draft (they review what is submitted to them and can read it from then on), and for a
guest the one role of their invitation. Admins have every role everywhere.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Forbidden, NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.models import Conference, ConferenceMember, ConferenceStatus, Role


def no_such_conference(conference_id: int) -> NotFound:
    """The refusal for a conference id that names none (in the reader's language on pages)."""
    return NotFound(
        N_("there is no conference %(id)s"),
        code="conference_not_found",
        params={"id": str(conference_id)},
    )


def no_part_in(conference_id: int) -> Forbidden:
    """The refusal for someone who has no part in the conference."""
    return Forbidden(
        N_("you have no part in conference %(id)s"),
        code="not_a_participant",
        params={"id": str(conference_id)},
    )


async def conference_roles(
    db: AsyncSession, identity: Identity, conference_id: int
) -> frozenset[Role]:
    """The identity's roles in the conference; raises NotFound if there is no such conference."""
    row = (
        await db.execute(
            select(Conference.organiser_id, Conference.status).where(Conference.id == conference_id)
        )
    ).first()
    if row is None:
        raise no_such_conference(conference_id)
    organiser_id = row.organiser_id
    if identity.is_admin:
        return frozenset(Role)
    if identity.guest is not None:
        invited_here = identity.guest.conference_id == conference_id
        return frozenset({identity.guest.role}) if invited_here else frozenset()
    if identity.user_id is None:
        return frozenset()
    found = set(
        Role(r)
        for r in await db.scalars(
            select(ConferenceMember.role).where(
                ConferenceMember.conference_id == conference_id,
                ConferenceMember.user_id == identity.user_id,
            )
        )
    )
    if organiser_id == identity.user_id:
        found.add(Role.ORGANISER)
    if Role.APPROVER in identity.roles and row.status != ConferenceStatus.DRAFT.value:
        found.add(Role.APPROVER)
    return frozenset(found)


async def require_conference_role(
    db: AsyncSession, identity: Identity, conference_id: int, wanted: frozenset[Role]
) -> frozenset[Role]:
    held = await conference_roles(db, identity, conference_id)
    if not held:
        raise no_part_in(conference_id)
    if wanted and not held & wanted:
        names = ", ".join(sorted(r.value for r in wanted))
        raise Forbidden(
            N_("this needs one of these roles in conference %(id)s: %(roles)s"),
            code="wrong_role",
            params={"id": str(conference_id), "roles": names},
        )
    return held
