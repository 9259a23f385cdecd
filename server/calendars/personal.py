"""Each person's own links in the calendar entries that only they receive.

Who receives which calendar, and what it carries:

- an e-mailed invitation (iTIP REQUEST) goes to one attendee: if the attendee has an account,
  its DESCRIPTION ends with their own ways in (``server.conferences.ways_in``): their booths,
  the chair's console and health dashboard, the bridge room of a site they are the technician
  of; the letter's text repeats them;
- a personal feed (``/calendar/<token>.ics``) belongs to one user: the same links;
- the conference's ``.ics`` download and a session's ``.ics`` are shared files (an organiser
  forwards them, a calendar server may publish them): only the conference page, nobody's links.

Every link is a page that asks its reader to sign in; none carries a secret. A site's
invitation link (a bearer token, shown once to the organiser) is never written into a
calendar: a site contact without an account gets the conference page and their joining link
from the organiser, through a channel the organiser chooses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.ways_in import user_ways_in
from server.ical.ics import CalendarEvent
from server.models import Conference, Role, User, UserRole

#: (what, absolute URL)
Link = tuple[str, str]
#: Heads the links in a DESCRIPTION (after ``events.MARK``: an import drops them).
HEADING = "Your links:"


async def personal_links(
    db: AsyncSession, users: Collection[User], conferences: Collection[Conference], base_url: str
) -> dict[tuple[int, int], tuple[Link, ...]]:
    """(user id, conference id) → that user's own links into that conference."""
    ids = [c.id for c in conferences]
    admins = set(
        await db.scalars(
            select(UserRole.user_id).where(
                UserRole.user_id.in_([u.id for u in users]), UserRole.role == Role.ADMIN.value
            )
        )
    )
    root = base_url.rstrip("/")
    found: dict[tuple[int, int], tuple[Link, ...]] = {}
    for user in users:
        ways = await user_ways_in(db, user.id, user.id in admins, ids)
        for conference in conferences:
            way = ways[conference.id]
            links = way.links(root)
            if way.chair:
                links += [
                    (f"Bridge room as {site.name}", f"{root}/{_room(conference.id, site.id)}")
                    for site in conference.sites
                    if site.technician_id == user.id
                ]
            if links:
                found[user.id, conference.id] = tuple(links)
    return found


def _room(conference_id: int, site_id: int) -> str:
    return f"conferences/{conference_id}/room?site={site_id}"


def personalised(event: CalendarEvent, links: Collection[Link]) -> CalendarEvent:
    """The event (and its changed occurrences) with ``links`` at the end of its DESCRIPTION."""
    if not links:
        return event
    added = "\n".join(["", HEADING, *(f"  {what}: {url}" for what, url in links)])
    return dataclasses.replace(
        event,
        description=f"{event.description}\n{added}" if event.description else added.lstrip(),
        overrides=tuple(personalised(o, links) for o in event.overrides),
    )
