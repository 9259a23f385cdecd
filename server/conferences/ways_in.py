"""Each person's own ways into a conference: the pages their part lets them open.

The home page, the conference page and the calendar invitations show these links, and only
these: each follows the access rule of the route it names (``server.route_table``), so nobody is
shown a link that answers 403.

- an interpreter: "Open my booth" for every booth (target language) they are assigned to
  (``/conferences/{id}/booth/{language}``: only its assigned interpreters, not admins);
- the chair (organisers and technicians, admins): the console and the health dashboard;
- a site's guest (an invitation): the bridge room and the device check for their own site;
- the minutes for their secretary and organiser and the members of their delegations, the
  recordings for organisers, secretaries and technicians.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.identity import Identity
from server.models import (
    Conference,
    ConferenceMember,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    Role,
)

#: Who opens the console and the health dashboard (their routes' rule).
CHAIRS = frozenset({Role.ORGANISER, Role.TECHNICIAN})
#: Who writes the minutes; members of the conference's delegations read them too.
MINUTES_EDITORS = frozenset({Role.ORGANISER, Role.SECRETARY})
#: Who puts the conference on legal hold (``server.archive.hold.HOLDERS``).
HOLDERS = frozenset({Role.ORGANISER, Role.SECRETARY})
#: Who opens the recordings (``server.room_recording.pages.RECORDING_ROLES``).
RECORDING_ROLES = frozenset({Role.ORGANISER, Role.SECRETARY, Role.TECHNICIAN})


@dataclass(frozen=True)
class WaysIn:
    """What one person may open in one conference, beyond its pages for every participant."""

    conference_id: int
    booths: tuple[str, ...] = ()  # target languages of their booths
    chair: bool = False  # the console and the health dashboard
    site_id: int | None = None  # a guest's own site: the bridge room and the device check
    minutes: bool = False
    recordings: bool = False

    @property
    def any(self) -> bool:
        return bool(self.booths or self.chair or self.site_id is not None)

    def links(self, base_url: str) -> list[tuple[str, str]]:
        """(what, absolute URL) of the live pages, for a text such as an invitation's.
        The labels are English: a calendar entry is read by whoever its file reaches."""
        root = f"{base_url.rstrip('/')}/conferences/{self.conference_id}"
        found = [(f"Your booth ({lang})", f"{root}/booth/{lang}") for lang in self.booths]
        if self.chair:
            found += [("Chair console", f"{root}/console"), ("Connection health", f"{root}/health")]
        if self.site_id is not None:
            found += [("Bridge room", f"{root}/room"), ("Device check", f"{root}/check")]
        return found


async def ways_in(
    db: AsyncSession, who: Identity, conference_ids: Collection[int]
) -> dict[int, WaysIn]:
    """Each of ``conference_ids``'s ways in for ``who`` (in a few queries, however many)."""
    ids = list(conference_ids)
    if not ids:
        return {}
    if who.guest is not None:
        mine = who.guest.conference_id
        return {
            cid: WaysIn(cid, site_id=who.guest.site_id) if cid == mine else WaysIn(cid)
            for cid in ids
        }
    if who.user_id is None:
        return {cid: WaysIn(cid) for cid in ids}
    return await user_ways_in(db, who.user_id, who.is_admin, ids)


async def user_ways_in(
    db: AsyncSession, uid: int, is_admin: bool, conference_ids: Collection[int]
) -> dict[int, WaysIn]:
    """A user's ways in (by account: the calendars, which have no request to ask)."""
    ids = list(conference_ids)
    if not ids:
        return {}
    held: dict[int, set[Role]] = defaultdict(set)
    booths: dict[int, list[str]] = defaultdict(list)
    delegations: set[int] = set()
    for cid in await db.scalars(
        select(Conference.id).where(Conference.id.in_(ids), Conference.organiser_id == uid)
    ):
        held[cid].add(Role.ORGANISER)
    members = await db.execute(
        select(ConferenceMember.conference_id, ConferenceMember.role).where(
            ConferenceMember.conference_id.in_(ids), ConferenceMember.user_id == uid
        )
    )
    for cid, role in members.all():
        held[cid].add(Role(role))
    assigned = await db.execute(
        select(InterpreterAssignment.conference_id, InterpreterAssignment.target_language)
        .where(InterpreterAssignment.conference_id.in_(ids), InterpreterAssignment.user_id == uid)
        .order_by(InterpreterAssignment.target_language)
    )
    for cid, language in assigned.all():
        booth_rule = Role.INTERPRETER in held[cid] or is_admin
        if booth_rule and language not in booths[cid]:
            booths[cid].append(language)
    delegations.update(
        await db.scalars(
            select(Delegation.conference_id)
            .join(DelegationMember, DelegationMember.delegation_id == Delegation.id)
            .where(Delegation.conference_id.in_(ids), DelegationMember.user_id == uid)
        )
    )
    found = {}
    for cid in ids:
        roles = frozenset(Role) if is_admin else frozenset(held[cid])
        found[cid] = WaysIn(
            cid,
            booths=tuple(booths[cid]),
            chair=bool(roles & CHAIRS),
            minutes=bool(roles & MINUTES_EDITORS) or cid in delegations,
            recordings=bool(roles & RECORDING_ROLES),
        )
    return found


async def ways_into(db: AsyncSession, who: Identity, conference_id: int) -> WaysIn:
    return (await ways_in(db, who, [conference_id]))[conference_id]
