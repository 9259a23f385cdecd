"""Bookings and conflicts: who and what each occurrence of each session holds, and overlaps.

Every operation that changes what a conference books (its sessions, sites, interpreters,
status) calls ``rebook`` inside its transaction: the conference's bookings are deleted and
written again from its sessions, expanded occurrence by occurrence (series included: they end
inside their conference, see ``series``), then one indexed self-join on ``bookings`` looks for
an overlap with anything else booked. A conflict raises ``SchedulingConflict`` (409, with the
list), and the transaction rolls back, so nothing is written.

Resources: the venue of each taking-part site (or the site itself when it has no venue), the
chair, and each interpreter (a user) within their shift, for the booths the session uses.
Cancelled conferences and sessions book nothing, so they never conflict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from server.conferences.series import SessionOccurrence, occurrences
from server.errors import Conflict
from server.i18n_strings import N_
from server.models import (
    AgendaSession,
    Booking,
    BookingKind,
    Conference,
    ConferenceStatus,
    SessionStatus,
    Site,
    User,
    Venue,
)

#: The advisory lock key that serialises scheduling changes on PostgreSQL ("CNCD").
SCHEDULING_LOCK = 0x434E4344
#: The most conflicts listed in one refusal.
MAX_LISTED = 50
#: The longest a session may last: it bounds the index range the conflict check reads.
MAX_SESSION = dt.timedelta(hours=24)


class SchedulingConflict(Conflict):
    """409 with the conflicting bookings (an RFC 9457 extension member, ``conflicts``)."""

    code = "schedule_conflict"
    title = "Scheduling conflict"

    def __init__(self, conflicts: list[dict[str, Any]]) -> None:
        what = sorted({c["resource"]["kind"] for c in conflicts})
        super().__init__(
            N_(
                "%(count)s overlapping booking(s) of the same %(what)s:"
                " see conflicts for the sessions that collide"
            ),
            params={"count": str(len(conflicts)), "what": ", ".join(what)},
        )
        self.conflicts = conflicts

    def problem(self, instance: str) -> dict[str, Any]:
        body = super().problem(instance)
        body["conflicts"] = self.conflicts
        return body


@dataclass(frozen=True)
class Hold:
    kind: BookingKind
    resource_id: int
    start: dt.datetime
    end: dt.datetime


async def rebook(db: AsyncSession, conference_id: int) -> None:
    """Write the conference's bookings again and refuse the change if any overlaps.

    On PostgreSQL the transaction first takes one advisory lock held until it ends, so two
    changes that would collide are checked one after the other (at READ COMMITTED the second
    sees the first's bookings) instead of both passing. SQLite has one writer at a time.
    """
    await db.flush()
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEDULING_LOCK})
    await db.execute(delete(Booking).where(Booking.conference_id == conference_id))
    conference = await db.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(
            selectinload(Conference.sessions).selectinload(AgendaSession.sites),
            selectinload(Conference.sites),
            selectinload(Conference.interpreters),
        )
        .execution_options(populate_existing=True)
    )
    assert conference is not None
    if conference.status == ConferenceStatus.CANCELLED:
        return
    rows = [
        {
            "kind": hold.kind.value,
            "resource_id": hold.resource_id,
            "starts_at": hold.start,
            "ends_at": hold.end,
            "occurrence": occurrence.recurrence_id,
            "session_id": occurrence.row.id,
            "conference_id": conference_id,
        }
        for occurrence in conference_occurrences(conference)
        for hold in holds(conference, occurrence)
    ]
    if rows:
        await db.execute(insert(Booking), rows)
    found = await conflicts(db, conference)
    if found:
        raise SchedulingConflict(found)


def conference_occurrences(
    conference: Conference, window: tuple[dt.datetime, dt.datetime] | None = None
) -> list[SessionOccurrence]:
    """Every occurrence of every session of a conference (sessions loaded), by start."""
    overrides: dict[int, list[AgendaSession]] = {}
    for session in conference.sessions:
        if session.series_id is not None:
            overrides.setdefault(session.series_id, []).append(session)
    found = [
        occurrence
        for session in conference.sessions
        if session.series_id is None
        for occurrence in occurrences(conference, session, overrides.get(session.id, []), window)
    ]
    found.sort(key=lambda o: (o.start, o.row.id))
    return found


def holds(conference: Conference, occurrence: SessionOccurrence) -> set[Hold]:
    """What one occurrence books."""
    row, start, end = occurrence.row, occurrence.start, occurrence.end
    if row.status == SessionStatus.CANCELLED:
        return set()
    found: set[Hold] = set()
    for site in row.sites or conference.sites:
        if site.venue_id is not None:
            found.add(Hold(BookingKind.VENUE, site.venue_id, start, end))
        else:
            found.add(Hold(BookingKind.SITE, site.id, start, end))
    if row.chair_id is not None:
        found.add(Hold(BookingKind.CHAIR, row.chair_id, start, end))
    languages = set(row.interpreted_languages)
    for assignment in conference.interpreters:
        if assignment.user_id is None:
            continue
        if languages and assignment.target_language not in languages:
            continue
        shift_start = max(start, assignment.shift_starts_at or start)
        shift_end = min(end, assignment.shift_ends_at or end)
        if shift_start < shift_end:
            found.add(Hold(BookingKind.INTERPRETER, assignment.user_id, shift_start, shift_end))
    return found


async def conflicts(db: AsyncSession, conference: Conference) -> list[dict[str, Any]]:
    """Overlaps between this conference's bookings and any others (indexed self-join).

    Every booking lies inside its conference and lasts at most ``MAX_SESSION``, so a booking
    that overlaps one of this conference's starts after its start minus ``MAX_SESSION`` and
    before its end: the lookup on ``(kind, resource_id, starts_at)`` reads only that range.
    """
    conference_id = conference.id
    earliest = conference.starts_at - MAX_SESSION
    mine, other = aliased(Booking), aliased(Booking)
    other_session, other_conference = aliased(AgendaSession), aliased(Conference)
    my_session = aliased(AgendaSession)
    query = (
        select(mine, other, my_session, other_session, other_conference)
        .join(
            other,
            and_(
                other.kind == mine.kind,
                other.resource_id == mine.resource_id,
                other.starts_at < mine.ends_at,
                other.starts_at > earliest,
                other.starts_at < conference.ends_at,
                other.ends_at > mine.starts_at,
                or_(other.session_id != mine.session_id, other.occurrence != mine.occurrence),
            ),
        )
        .join(my_session, my_session.id == mine.session_id)
        .join(other_session, other_session.id == other.session_id)
        .join(other_conference, other_conference.id == other.conference_id)
        .where(mine.conference_id == conference_id)
        .order_by(mine.starts_at, mine.id, other.id)
        .limit(MAX_LISTED * 2)
    )
    seen: set[frozenset[int]] = set()
    listed = []
    for booking, clash, session, clash_session, clash_conference in (await db.execute(query)).all():
        pair = frozenset({booking.id, clash.id})
        if pair in seen:
            continue
        seen.add(pair)
        listed.append(
            {
                "resource": {
                    "kind": booking.kind,
                    "id": booking.resource_id,
                    "name": await _resource_name(db, booking.kind, booking.resource_id),
                },
                "session": _side(booking, session),
                "conflicts_with": {
                    **_side(clash, clash_session),
                    "conference_id": clash_conference.id,
                    "conference_title": clash_conference.title,
                },
            }
        )
    return listed[:MAX_LISTED]


def _side(booking: Booking, session: AgendaSession) -> dict[str, Any]:
    return {
        "conference_id": booking.conference_id,
        "session_id": session.id,
        "session_title": session.title,
        "occurrence": _utc(booking.occurrence),
        "starts_at": _utc(booking.starts_at),
        "ends_at": _utc(booking.ends_at),
    }


def _utc(instant: dt.datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as the rest of the API writes times."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


async def _resource_name(db: AsyncSession, kind: str, resource_id: int) -> str:
    if kind == BookingKind.VENUE:
        venue = await db.get(Venue, resource_id)
        return venue.name if venue else ""
    if kind == BookingKind.SITE:
        site = await db.get(Site, resource_id)
        return site.name if site else ""
    user = await db.get(User, resource_id)
    return user.display_name if user else ""
