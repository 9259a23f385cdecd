"""Reading conferences as a given person may see them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.conferences.access import no_such_conference
from server.conferences.bookings import conference_occurrences
from server.conferences.series import SessionOccurrence
from server.conferences.timing import field_error
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    AgendaSession,
    Conference,
    ConferenceMember,
    ConferenceStatus,
    Delegation,
    Role,
)


async def conferences_for(db: AsyncSession, who: Identity) -> list[Conference]:
    """The conferences this person has a part in, newest first (admins see all)."""
    query = visible_to(select(Conference), who).order_by(Conference.starts_at.desc(), Conference.id)
    return list(await db.scalars(query.options(selectinload(Conference.sites))))


def visible_to(query: Select[Conference], who: Identity) -> Select[Conference]:
    """``query`` narrowed to the conferences ``who`` has a part in (see ``access``): a guest's
    one conference; a user's own and those they are a member of, and for an approver every
    conference past its draft; every conference for an admin."""
    if who.guest is not None:
        return query.where(Conference.id == who.guest.conference_id)
    if who.is_admin:
        return query
    member_of = select(ConferenceMember.conference_id).where(
        ConferenceMember.user_id == who.user_id
    )
    parts = [Conference.organiser_id == who.user_id, Conference.id.in_(member_of)]
    if Role.APPROVER in who.roles:
        parts.append(Conference.status != ConferenceStatus.DRAFT.value)
    return query.where(or_(*parts))


async def conference_detail(db: AsyncSession, conference_id: int) -> Conference:
    conference = await db.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(
            selectinload(Conference.languages),
            selectinload(Conference.sessions).selectinload(AgendaSession.sites),
            selectinload(Conference.sites),
            selectinload(Conference.delegations).selectinload(Delegation.members),
            selectinload(Conference.interpreters),
        )
    )
    if conference is None:
        raise no_such_conference(conference_id)
    return conference


@dataclass(frozen=True)
class ConferenceFilter:
    """``GET /api/conferences``: statuses, and the dates the conference must overlap."""

    statuses: tuple[ConferenceStatus, ...] = ()
    starts_from: dt.datetime | None = None  # the conference ends after this
    until: dt.datetime | None = None  # the conference starts before this
    limit: int = 50
    offset: int = 0


async def find_conferences(
    db: AsyncSession, who: Identity, wanted: ConferenceFilter
) -> tuple[list[Conference], int]:
    """One page of the conferences this person has a part in, by start (newest first), and
    how many match in all. Indexed: status and start, organiser, membership by user."""
    query = visible_to(select(Conference), who)
    if wanted.statuses:
        query = query.where(Conference.status.in_([s.value for s in wanted.statuses]))
    if wanted.starts_from is not None:
        query = query.where(Conference.ends_at > wanted.starts_from)
    if wanted.until is not None:
        query = query.where(Conference.starts_at < wanted.until)
    total = await db.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(Conference.starts_at.desc(), Conference.id.desc())
    rows = await db.scalars(page.limit(wanted.limit).offset(wanted.offset))
    return list(rows), int(total or 0)


#: The longest window of occurrences one request may ask for.
MAX_WINDOW = dt.timedelta(days=400)


async def occurrences_between(
    db: AsyncSession, conference_id: int, start: dt.datetime | None, end: dt.datetime | None
) -> list[SessionOccurrence]:
    """The conference's occurrences overlapping ``[start, end)`` (default: its span)."""
    found = await db.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(selectinload(Conference.sessions).selectinload(AgendaSession.sites))
    )
    if found is None:
        raise no_such_conference(conference_id)
    start = start or found.starts_at
    end = end or found.ends_at
    if end <= start:
        raise field_error("to", N_("the window must end after it starts"), "bad_window")
    if end - start > MAX_WINDOW:
        raise field_error(
            "to",
            N_("ask for at most %(days)s days at a time"),
            "bad_window",
            days=str(MAX_WINDOW.days),
        )
    return conference_occurrences(found, (start, end))
