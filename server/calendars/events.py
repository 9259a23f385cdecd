"""Conferences as calendar events: one ``CalendarEvent`` per session (a series with its
changed occurrences), with organiser, attendees, place, link, agenda and reminders.

Attendees (RFC 5545 ROLE; PARTSTAT is NEEDS-ACTION, as Concord does not read replies):

- the session's chair: CHAIR;
- members of a delegation with an account, whose delegation sits at a taking-part site (or
  has no site): REQ-PARTICIPANT;
- the contact person of each taking-part site, and its technician: REQ-PARTICIPANT (the
  site cannot join without them);
- interpreters (with an account) of the booths the session uses: REQ-PARTICIPANT when
  their shift covers the session (or they have no shift), NON-PARTICIPANT (copied for
  information) when it does not.

Each person is listed once (the first role above wins). The URL is the conference's page;
in the personal feed of a site's technician it is their site's room page. Invitation links
(secrets) are never written into a calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.conferences.timing import from_iso_list
from server.ical.ics import (
    Attendee,
    AttendeeRole,
    CalendarEvent,
    PartStat,
    Person,
    Recurrence,
    Status,
)
from server.models import AgendaSession, Conference, Delegation, SessionStatus, Site, User

#: Reminders: a day and a quarter of an hour before each session.
ALARMS = (24 * 60, 15)


async def load_conferences(db: AsyncSession, ids: Iterable[int]) -> list[Conference]:
    """The conferences with everything a calendar shows, in a few queries."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    rows = await db.scalars(
        select(Conference)
        .where(Conference.id.in_(wanted))
        .options(
            selectinload(Conference.sessions).selectinload(AgendaSession.sites),
            selectinload(Conference.sites),
            selectinload(Conference.delegations).selectinload(Delegation.members),
            selectinload(Conference.interpreters),
        )
        .order_by(Conference.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def load_people(db: AsyncSession, conferences: Iterable[Conference]) -> dict[int, User]:
    """The users the conferences name (organisers, chairs, members, interpreters, technicians)."""
    ids: set[int | None] = set()
    for conference in conferences:
        ids.add(conference.organiser_id)
        ids.update(s.chair_id for s in conference.sessions)
        ids.update(s.technician_id for s in conference.sites)
        ids.update(i.user_id for i in conference.interpreters)
        ids.update(m.user_id for d in conference.delegations for m in d.members)
    found = [i for i in ids if i is not None]
    if not found:
        return {}
    return {u.id: u for u in await db.scalars(select(User).where(User.id.in_(found)))}


@dataclass
class Writer:
    """Maps one conference's sessions to events; ``room_sites`` get the room's URL."""

    base_url: str
    people: dict[int, User]
    room_sites: frozenset[int] = frozenset()
    alarms: tuple[int, ...] = ALARMS

    def events(self, conference: Conference, only: set[int] | None = None) -> list[CalendarEvent]:
        """One event per session or series (``only``: those session ids)."""
        overrides: dict[int, list[AgendaSession]] = {}
        for session in conference.sessions:
            if session.series_id is not None and session.status != SessionStatus.CANCELLED:
                overrides.setdefault(session.series_id, []).append(session)
        return [
            self.event(conference, session, overrides.get(session.id, []))
            for session in conference.sessions
            if session.series_id is None and (only is None or session.id in only)
        ]

    def event(
        self, conference: Conference, series: AgendaSession, overrides: list[AgendaSession]
    ) -> CalendarEvent:
        recurrence = None
        if series.rrule:
            recurrence = Recurrence(series.rrule, tuple(from_iso_list(series.exdates)))
        return self._one(
            conference,
            series,
            recurrence=recurrence,
            overrides=tuple(
                self._one(conference, o, recurrence_id=o.recurrence_id) for o in overrides
            )
            if recurrence
            else (),
        )

    def _one(
        self,
        conference: Conference,
        row: AgendaSession,
        *,
        recurrence: Recurrence | None = None,
        recurrence_id: dt.datetime | None = None,
        overrides: tuple[CalendarEvent, ...] = (),
    ) -> CalendarEvent:
        sites = taking_part(conference, row)
        organiser = self.people.get(conference.organiser_id or 0)
        return CalendarEvent(
            uid=row.uid,
            summary=row.title,
            start=row.starts_at,
            end=row.ends_at,
            time_zone=row.time_zone,
            sequence=row.sequence,
            description=agenda(conference, row, sites),
            location="; ".join(_place(s) for s in sites),
            url=self._url(conference, sites),
            organizer=Person(organiser.display_name, organiser.email) if organiser else None,
            attendees=self.attendees(conference, row, sites),
            status=Status.CANCELLED if row.status == SessionStatus.CANCELLED else Status.CONFIRMED,
            alarms=self.alarms,
            recurrence=recurrence,
            recurrence_id=recurrence_id,
            overrides=overrides,
            dtstamp=row.updated_at,
            last_modified=row.updated_at,
        )

    def _url(self, conference: Conference, sites: list[Site]) -> str:
        if any(s.id in self.room_sites for s in sites):
            return f"{self.base_url}/conferences/{conference.id}/room"
        return f"{self.base_url}/conferences/{conference.id}"

    def attendees(
        self, conference: Conference, row: AgendaSession, sites: list[Site]
    ) -> tuple[Attendee, ...]:
        listed: dict[str, Attendee] = {}

        def add(name: str, email: str, role: AttendeeRole) -> None:
            key = email.strip().lower()
            if not key or key in listed:
                return
            try:
                listed[key] = Attendee(name, email.strip(), role, PartStat.NEEDS_ACTION)
            except ValueError:
                return  # an address a calendar cannot use: left out

        def add_user(user_id: int | None, role: AttendeeRole) -> None:
            user = self.people.get(user_id or 0)
            if user is not None and user.active:
                add(user.display_name, user.email, role)

        add_user(row.chair_id, AttendeeRole.CHAIR)
        site_ids = {s.id for s in sites}
        for delegation in conference.delegations:
            if delegation.site_id is None or delegation.site_id in site_ids:
                for member in delegation.members:
                    add_user(member.user_id, AttendeeRole.REQ_PARTICIPANT)
        for site in sites:
            if site.contact_email:
                add(site.contact_name, site.contact_email, AttendeeRole.REQ_PARTICIPANT)
            add_user(site.technician_id, AttendeeRole.REQ_PARTICIPANT)
        booths = set(row.interpreted_languages)
        for interpreter in conference.interpreters:
            if booths and interpreter.target_language not in booths:
                continue
            on_shift = (
                interpreter.shift_starts_at is None
                or interpreter.shift_ends_at is None
                or (
                    interpreter.shift_starts_at < row.ends_at
                    and row.starts_at < interpreter.shift_ends_at
                )
            )
            add_user(
                interpreter.user_id,
                AttendeeRole.REQ_PARTICIPANT if on_shift else AttendeeRole.NON_PARTICIPANT,
            )
        return tuple(listed.values())


def taking_part(conference: Conference, row: AgendaSession) -> list[Site]:
    """The sites of a session: those listed, or every site of the conference."""
    return list(row.sites) if row.sites else list(conference.sites)


def _place(site: Site) -> str:
    return f"{site.name} ({site.location})" if site.location else site.name


#: Separates a session's own description from what Concord adds to the DESCRIPTION (so that
#: importing an exported calendar gives the session's description back).
MARK = "-- Concord --"


def own_description(text: str) -> str:
    """A DESCRIPTION without what Concord added to it."""
    return text.split(MARK, 1)[0].rstrip()


def agenda(conference: Conference, row: AgendaSession, sites: list[Site]) -> str:
    """The DESCRIPTION: the item's own description, then the conference, its speakers and
    booths, and its local time at each site."""
    lines = [row.description, ""] if row.description else []
    lines += [MARK, conference.title]
    if row.speakers:
        lines += ["", "Speakers: " + ", ".join(row.speakers)]
    if row.interpreted_languages:
        lines.append("Interpretation: " + ", ".join(row.interpreted_languages))
    zones = {row.time_zone: row.time_zone}
    zones.update({s.time_zone: s.name for s in sites})
    lines += ["", "Local times:"]
    for zone_name, label in zones.items():
        zone = ZoneInfo(zone_name)
        start, end = row.starts_at.astimezone(zone), row.ends_at.astimezone(zone)
        lines.append(f"  {start:%Y-%m-%d %H:%M}–{end:%H:%M} {zone_name} ({label})")
    return "\n".join(lines)
