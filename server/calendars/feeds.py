"""Personal subscription feeds: ``/calendar/<token>.ics``, every session a user is part of.

A feed's token is its only credential: shown once, stored as SHA-256 (like API tokens),
revoked by its owner (the next fetch answers 410). A user is part of a session as the
conference's organiser or member (co-organiser, technician, secretary...), as one of its
interpreters or a delegation member with an account (every session of the conference), as a
session's chair (that session), or as a site's technician (the sessions of that site). Each
event's DESCRIPTION ends with the user's own links (``personal``: booths, console, room).

Serialising 1,000 sessions from scratch takes icalendar about 0.4 s. Two caches, both owned by
the app, keep that off the usual path: each event's bytes are reused while the event is
unchanged (``RENDERED_EVENTS``, see ``server.ical.rendered``: a feed rendered again after
one session changed takes ~0.1 s), and the whole feed's bytes are kept per user
(``FeedCache``) under a *version*: the conferences the user has a part
in and, from one indexed aggregate over their sessions, the count, the sum of SEQUENCEs and
the latest change, with the conferences' latest change. Any change to a session moves its
``updated_at``, so the version moves and the feed is rendered again. Changes outside sessions
and conferences (a site renamed, a user's name) show within ``FeedCache.max_age``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.personal_secrets import Made, Secrets
from server.accounts.secrets import digest
from server.calendars.events import Writer, load_conferences, load_people
from server.calendars.personal import personal_links, personalised
from server.calendars.rendering import render
from server.db import Database
from server.errors import Gone, NotFound
from server.i18n_strings import N_
from server.ical.rendered import RenderedEvents
from server.identity import Identity
from server.models import (
    AgendaSession,
    CalendarFeed,
    Conference,
    ConferenceMember,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    Site,
    User,
)

FEED_TOKEN_PREFIX = "cal_"
#: What calendar programs are told about refreshing (REFRESH-INTERVAL, Cache-Control).
REFRESH = dt.timedelta(minutes=15)


FEEDS = Secrets(
    CalendarFeed,
    "calendar_feed",
    FEED_TOKEN_PREFIX,
    unnamed=N_("give the calendar feed a name of 1 to %(max)s characters"),
    missing=N_("you have no calendar feed %(id)s"),
)


async def create_feed(
    db: AsyncSession, actor: Identity, name: str, remote: str = ""
) -> Made[CalendarFeed]:
    return await FEEDS.create(db, actor, name, remote)


async def list_feeds(db: AsyncSession, actor: Identity) -> list[CalendarFeed]:
    return await FEEDS.owned(db, actor)


async def revoke_feed(
    db: AsyncSession, actor: Identity, feed_id: int, remote: str = ""
) -> CalendarFeed:
    return await FEEDS.revoke(db, actor, feed_id, "feed_not_found", remote)


async def feed_owner(db: AsyncSession, token: str) -> User:
    """The active user a feed token belongs to; 404 if unknown, 410 once revoked."""
    found = (
        await db.execute(
            select(CalendarFeed, User)
            .join(User, User.id == CalendarFeed.user_id)
            .where(CalendarFeed.token_hash == digest(token))
        )
    ).first()
    if found is None:
        raise NotFound(N_("there is no such calendar feed"), code="feed_not_found")
    feed, user = found[0], found[1]
    if feed.revoked_at is not None or not user.active:
        raise Gone(N_("this calendar feed was revoked"), code="feed_revoked")
    return user


@dataclass(frozen=True)
class Parts:
    """Where a user has a part: whole conferences, chaired sessions, technician's sites."""

    conferences: frozenset[int]
    chaired: frozenset[int]
    sites: frozenset[int]
    site_conferences: frozenset[int]

    @property
    def every_conference(self) -> frozenset[int]:
        return self.conferences | self.site_conferences

    def sessions_of(self, conference: Conference) -> set[int] | None:
        """The sessions of ``conference`` in the feed (``None``: all of them)."""
        if conference.id in self.conferences:
            return None
        every_site = {s.id for s in conference.sites}
        chosen = set()
        for session in conference.sessions:
            sites = {s.id for s in session.sites} or every_site
            if session.id in self.chaired or sites & self.sites:
                chosen.add(session.series_id or session.id)
        return chosen


async def parts_of(db: AsyncSession, user_id: int) -> Parts:
    whole = union(
        select(Conference.id).where(Conference.organiser_id == user_id),
        select(ConferenceMember.conference_id).where(ConferenceMember.user_id == user_id),
        select(InterpreterAssignment.conference_id).where(InterpreterAssignment.user_id == user_id),
        select(Delegation.conference_id)
        .join(DelegationMember, DelegationMember.delegation_id == Delegation.id)
        .where(DelegationMember.user_id == user_id),
    )
    conferences = frozenset(await db.scalars(select(whole.subquery().c[0])))
    chaired = (
        await db.execute(
            select(AgendaSession.id, AgendaSession.conference_id).where(
                AgendaSession.chair_id == user_id
            )
        )
    ).all()
    sites = (
        await db.execute(select(Site.id, Site.conference_id).where(Site.technician_id == user_id))
    ).all()
    return Parts(
        conferences=conferences,
        chaired=frozenset(r.id for r in chaired),
        sites=frozenset(r.id for r in sites),
        site_conferences=frozenset(r.conference_id for r in (*chaired, *sites)),
    )


async def version_of(db: AsyncSession, user_id: int, parts: Parts) -> str:
    """A cheap fingerprint of everything the user's feed shows (see the module docstring)."""
    ids = sorted(parts.every_conference)
    sessions = (
        await db.execute(
            select(
                func.count(AgendaSession.id),
                func.coalesce(func.sum(AgendaSession.sequence), 0),
                func.max(AgendaSession.updated_at),
            ).where(or_(AgendaSession.conference_id.in_(ids), AgendaSession.chair_id == user_id))
        )
    ).one()
    conferences = await db.scalar(
        select(func.max(Conference.updated_at)).where(Conference.id.in_(ids))
    )
    raw = repr((user_id, ids, sorted(parts.chaired), sorted(parts.sites), *sessions, conferences))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class _Entry:
    version: str
    body: bytes
    made: float


class FeedCache:
    """Rendered feeds per user, valid while their version holds (and at most ``max_age``)."""

    def __init__(self, size: int = 512, max_age: float = 600.0) -> None:
        self.size, self.max_age = size, max_age
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self.renders = 0

    def get(self, user_id: int, version: str) -> bytes | None:
        entry = self._entries.get(user_id)
        if entry is None or entry.version != version:
            return None
        if time.monotonic() - entry.made > self.max_age:
            return None
        self._entries.move_to_end(user_id)
        return entry.body

    def put(self, user_id: int, version: str, body: bytes) -> None:
        self._entries[user_id] = _Entry(version, body, time.monotonic())
        self._entries.move_to_end(user_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


async def render_feed(
    db: AsyncSession,
    database: Database,
    user: User,
    parts: Parts,
    base_url: str,
    cache: RenderedEvents,
) -> bytes:
    """The user's feed, rendered (see ``rendering``: in a worker thread, events reused)."""
    conferences = await load_conferences(db, parts.every_conference)
    writer = Writer(base_url, await load_people(db, conferences), room_sites=parts.sites)
    links = await personal_links(db, [user], conferences, base_url)
    events = [
        personalised(event, links.get((user.id, conference.id), ()))
        for conference in conferences
        for event in writer.events(conference, parts.sessions_of(conference))
    ]
    name = f"Concord: {user.display_name}"
    return await render(database, events, cache, name=name, refresh_interval=REFRESH)
