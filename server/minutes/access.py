"""Who may do what with a conference's minutes.

- Editors: the conference's secretary and organiser (and admins): write drafts, circulate,
  take them back to draft; the organiser finalises (``workflow.TRANSITIONS``).
- Delegation members: users linked to a member of one of the conference's delegations. They
  read the minutes once circulated (and final) and comment for their delegation while
  circulated. A draft is the secretary's working text: not theirs to read yet.
- Everyone else (technicians, interpreters, approvers, guests): no access.

The route rule admits signed-in users; this module decides per conference, before anything
is parsed or read, so a refusal never depends on the request's body.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.access import conference_roles
from server.errors import Forbidden
from server.i18n_strings import N_
from server.identity import Identity
from server.minutes.workflow import EDITORS
from server.models import Delegation, DelegationMember

#: Declared beside the minutes' routes (``Rule.narrowed``): who ``minutes_access`` admits.
READERS = "its secretary and organiser; members of its delegations once circulated"


@dataclass(frozen=True)
class MinutesAccess:
    """One person's part in one conference's minutes."""

    conference_id: int
    roles: frozenset[str]  # workflow roles held: "secretary", "organiser"
    delegations: frozenset[int]  # the delegations (ids) they are a member of

    @property
    def editor(self) -> bool:
        return bool(self.roles & EDITORS)


async def delegations_of(db: AsyncSession, who: Identity, conference_id: int) -> frozenset[int]:
    """The conference's delegations that list this user as a member."""
    if who.user_id is None:
        return frozenset()
    rows = await db.scalars(
        select(Delegation.id)
        .join(DelegationMember, DelegationMember.delegation_id == Delegation.id)
        .where(Delegation.conference_id == conference_id, DelegationMember.user_id == who.user_id)
    )
    return frozenset(rows)


async def minutes_access(db: AsyncSession, who: Identity, conference_id: int) -> MinutesAccess:
    """This person's access; ``Forbidden`` if they have none (``NotFound``: no conference)."""
    held = await conference_roles(db, who, conference_id)
    roles = frozenset(r.value for r in held) & EDITORS
    delegations = await delegations_of(db, who, conference_id) if who.guest is None else frozenset()
    if not roles and not delegations:
        raise Forbidden(
            N_(
                "the minutes of conference %(conference)s are for its secretary, organiser"
                " and delegations"
            ),
            code="not_a_minutes_reader",
            params={"conference": str(conference_id)},
        )
    return MinutesAccess(conference_id, roles, delegations)


def require_editor(access: MinutesAccess) -> None:
    if not access.editor:
        raise Forbidden(
            N_("only the conference's secretary or organiser may write the minutes"),
            code="not_a_minutes_editor",
        )
