"""The scheduling benchmark's data: 10,000 conferences over six years, bulk-inserted.

Each conference is built as transient ORM objects and its bookings are computed by the
server's own ``bookings.conference_occurrences`` and ``bookings.holds``, so the ``bookings``
table holds exactly what ``rebook`` would have written. Resources (shared venues, chairs,
interpreters) are drawn at random and drawn again when a hold would overlap one already
given out, so the data passes the conflict check like data created through the API would.
Rows go in with SQLAlchemy core ``insert`` in chunks, ids assigned here (sequences are moved
past them on PostgreSQL).
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.passwords import Passwords
from server.conferences.bookings import conference_occurrences, holds
from server.db import Database
from server.models import (
    AgendaSession,
    Booking,
    Conference,
    ConferenceLanguage,
    ConferenceMember,
    ConferenceStatus,
    InterpreterAssignment,
    Site,
    User,
    UserRole,
    Venue,
)

UTC = dt.UTC
Slot = tuple[dt.datetime, dt.datetime, str | None]  # a session: start, end, RRULE
ZONES = ("Asia/Ho_Chi_Minh", "Asia/Vientiane", "Asia/Bangkok", "Europe/Paris", "UTC")
LANGUAGES = ("vi", "lo", "en", "fr", "km", "th")
FIRST_DAY = dt.datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 6 * 365  # 2024 to 2029
NOW = dt.datetime(2026, 11, 28, tzinfo=UTC)
CHUNK = 2000
FEED_SESSIONS = 1000
FEED_OWNER = "bench-feed@concord.example"
FEED_PASSWORD = "bench-feed-password"
PAST = (ConferenceStatus.ENDED, ConferenceStatus.ARCHIVED)
FUTURE = (
    ConferenceStatus.DRAFT,
    ConferenceStatus.AWAITING_APPROVAL,
    ConferenceStatus.APPROVED,
    ConferenceStatus.SCHEDULED,
)


@dataclass
class Fixture:
    """What the benchmark needs to know about the generated data."""

    conferences: int = 0
    sessions: int = 0
    bookings: int = 0
    sites: int = 0
    seconds: float = 0.0
    typical_id: int = 0  # a few-day conference with a handful of sessions (timetable)
    series_id: int = 0  # a long conference with a weekly series
    feed_id: int = 0  # the 1,000-session conference (ICS feed)
    write_id: int = 0  # a draft the writes go to; its venue is booked by another conference
    collide: tuple[str, str] = ("", "")  # a slot that double-books that venue (409)
    free: tuple[str, str] = ("", "")  # a slot that books nothing else (201)
    organiser_email: str = "organiser@concord.example"
    feed_owner_email: str = FEED_OWNER  # organises only the feed conference (personal feed)
    counts: dict[str, int] = field(default_factory=dict)


class Ids:
    """Explicit ids per table, after what the demo data already holds."""

    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def __call__(self, table: str) -> int:
        self.next[table] += 1
        return self.next[table]


class Ledger:
    """Per resource, the booked intervals (sorted, non-overlapping): bisect finds overlaps."""

    def __init__(self) -> None:
        self.starts: dict[tuple[str, int], list[dt.datetime]] = {}
        self.ends: dict[tuple[str, int], list[dt.datetime]] = {}

    def free(self, key: tuple[str, int], start: dt.datetime, end: dt.datetime) -> bool:
        starts, ends = self.starts.get(key, []), self.ends.get(key, [])
        i = bisect.bisect_left(starts, start)
        if i < len(starts) and starts[i] < end:
            return False
        return not (i > 0 and ends[i - 1] > start)

    def take(self, key: tuple[str, int], start: dt.datetime, end: dt.datetime) -> None:
        starts = self.starts.setdefault(key, [])
        i = bisect.bisect_left(starts, start)
        starts.insert(i, start)
        self.ends.setdefault(key, []).insert(i, end)


class Builder:
    """Builds conferences as transient ORM objects and their rows for bulk insert."""

    def __init__(self, ids: Ids, rng: random.Random, pools: dict[str, list[int]]) -> None:
        self.ids, self.rng, self.pools = ids, rng, pools
        self.ledger = Ledger()
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def conference(
        self,
        start: dt.datetime,
        days: int,
        slots: list[Slot],
        status: ConferenceStatus,
        organiser: int,
        *,
        venue: int | None = None,
        staffed: bool = True,
        title: str = "",
    ) -> Conference:
        """One conference; ``slots`` are its sessions (start, end, rrule). Resources are drawn
        until no hold overlaps the ledger (10 tries), then the conference keeps only its own
        sites (which nobody else books)."""
        rng = self.rng
        cid = self.ids("conferences")
        zone = rng.choice(ZONES)
        conference = Conference(
            id=cid,
            slug=f"bench-{cid}",
            title=title or f"Conference {cid}: {rng.choice(('Trade', 'Health', 'Water'))}",
            description="",
            translations={},
            kind="online",
            status=status.value,
            time_zone=zone,
            starts_at=start,
            ends_at=start + dt.timedelta(days=days) - dt.timedelta(minutes=1),
            organiser_id=organiser,
            created_at=NOW,
            updated_at=NOW,
        )
        languages = rng.sample(LANGUAGES, rng.randint(2, 4))
        site_count = rng.randint(1, 3)
        site_ids = [self.ids("sites") for _ in range(site_count)]
        sessions = [
            AgendaSession(
                id=self.ids("agenda_sessions"),
                conference_id=cid,
                title=f"Session {n + 1}",
                description="",
                starts_at=s,
                ends_at=e,
                time_zone=zone,
                speakers=[],
                interpreted_languages=[],
                uid=f"{uuid.UUID(int=rng.getrandbits(128))}@concord",
                sequence=0,
                status="confirmed",
                rrule=rule,
                exdates=[],
                series_id=None,
                recurrence_id=None,
                updated_at=NOW,
                sites=[],
            )
            for n, (s, e, rule) in enumerate(slots)
        ]
        conference.sessions = sessions
        for attempt in range(11):
            last = attempt == 10 or not staffed
            conference.sites = [
                Site(
                    id=sid,
                    conference_id=cid,
                    name=f"Site {n + 1}",
                    time_zone=zone,
                    is_main_hall=n == 0,
                    venue_id=None
                    if last
                    else venue
                    if venue is not None and n == 0
                    else rng.choice(self.pools["venues"])
                    if rng.random() < (0.8 if n == 0 else 0.3)
                    else None,
                )
                for n, sid in enumerate(site_ids)
            ]
            interpreters = [] if last else rng.sample(self.pools["interpreters"], rng.randint(0, 2))
            conference.interpreters = [
                InterpreterAssignment(
                    id=0,
                    conference_id=cid,
                    user_id=user,
                    interpreter_name=f"Interpreter {user}",
                    target_language=languages[n % len(languages)],
                    source_languages=[languages[0]],
                    shift_starts_at=None,
                    shift_ends_at=None,
                )
                for n, user in enumerate(interpreters)
            ]
            chair = None if last or rng.random() < 0.5 else rng.choice(self.pools["chairs"])
            for session in sessions:
                session.chair_id = chair
            found = [
                (hold, occurrence)
                for occurrence in conference_occurrences(conference)
                for hold in holds(conference, occurrence)
            ]
            if status == ConferenceStatus.CANCELLED or all(
                self.ledger.free((h.kind.value, h.resource_id), h.start, h.end) for h, _ in found
            ):
                break
        if status == ConferenceStatus.CANCELLED:
            found = []
        for hold, occurrence in found:
            self.ledger.take((hold.kind.value, hold.resource_id), hold.start, hold.end)
            self.add(
                "bookings",
                {
                    "id": self.ids("bookings"),
                    "kind": hold.kind.value,
                    "resource_id": hold.resource_id,
                    "starts_at": hold.start,
                    "ends_at": hold.end,
                    "occurrence": occurrence.recurrence_id,
                    "session_id": occurrence.row.id,
                    "conference_id": cid,
                },
            )
        self._rows(conference, languages)
        return conference

    def _rows(self, conference: Conference, languages: list[str]) -> None:
        cid = conference.id
        self.add("conferences", _columns(conference))
        for n, code in enumerate(languages):
            self.add(
                "conference_languages",
                {
                    "id": self.ids("conference_languages"),
                    "conference_id": cid,
                    "code": code,
                    "is_floor": n < 2,
                    "is_interpreted": True,
                    "is_sign_language": False,
                },
            )
        for site in conference.sites:
            self.add("sites", _columns(site))
        for session in conference.sessions:
            self.add("agenda_sessions", _columns(session))
        for assignment in conference.interpreters:
            row = _columns(assignment) | {"id": self.ids("interpreter_assignments")}
            self.add("interpreter_assignments", row)
            self.add(
                "conference_members",
                {
                    "id": self.ids("conference_members"),
                    "conference_id": cid,
                    "user_id": assignment.user_id,
                    "role": "interpreter",
                },
            )


def _columns(obj: Any) -> dict[str, Any]:
    """Every column of a transient row (the same keys in every row, as executemany needs),
    with the column's scalar default where the object left it unset."""
    row = {}
    for column in type(obj).__table__.columns:
        value = getattr(obj, column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        row[column.key] = value
    return row


def day_slots(day: dt.datetime, days: int, per_day: int, rule: str | None = None) -> list[Slot]:
    """Sessions of 1 to 2 hours between 01:00 and 12:00 UTC (morning to evening in Asia)."""
    slots = []
    for d in range(days):
        hour = 1
        for _ in range(per_day):
            start = day + dt.timedelta(days=d, hours=hour)
            length = 1 + (hour % 2)
            slots.append((start, start + dt.timedelta(hours=length), rule))
            hour += length + 1
            if hour > 10:
                break
    return slots


async def _start_ids(db: AsyncSession) -> dict[str, int]:
    tables = (
        User,
        UserRole,
        Venue,
        Conference,
        ConferenceLanguage,
        Site,
        AgendaSession,
        InterpreterAssignment,
        ConferenceMember,
        Booking,
    )
    found = {}
    for model in tables:
        name = str(model.__tablename__)
        found[name] = int(await db.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)
    return found


async def _insert(database: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    order = (
        "users",
        "user_roles",
        "venues",
        "conferences",
        "conference_languages",
        "sites",
        "agenda_sessions",
        "interpreter_assignments",
        "conference_members",
        "bookings",
    )
    tables = {t.name: t for t in Conference.metadata.sorted_tables}
    async with database.engine.begin() as conn:
        for name in order:
            table_rows = rows.get(name, [])
            for i in range(0, len(table_rows), CHUNK):
                await conn.execute(insert(tables[name]), table_rows[i : i + CHUNK])
        if database.dialect == "postgresql":
            for name in order:
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                        f" (SELECT max(id) FROM {name}))"
                    )
                )
        await conn.execute(text("ANALYZE"))


async def populate(
    database: Database, passwords: Passwords, count: int = 10_000, seed: int = 5
) -> Fixture:
    """Add ``count`` conferences (and one of 1,000 sessions) to a database holding the demo."""
    started = dt.datetime.now(UTC)
    rng = random.Random(seed)
    async with database.session() as db:
        ids = Ids(await _start_ids(db))
        organiser = await db.scalar(select(User.id).where(User.email == Fixture.organiser_email))
    assert organiser is not None
    user_rows: list[dict[str, Any]] = []
    role_rows: list[dict[str, Any]] = []
    pools: dict[str, list[int]] = {"interpreters": [], "chairs": [], "organisers": []}
    for pool, role, size in (
        ("interpreters", "interpreter", 200),
        ("chairs", "delegate", 100),
        ("organisers", "organiser", 20),
    ):
        for _ in range(size):
            uid = ids("users")
            user_rows.append(
                {"id": uid, "email": f"bench-{uid}@concord.example", "display_name": f"U{uid}"}
                | {"locale": "en", "time_zone": "UTC", "active": True, "created_at": NOW}
                | {"password_hash": None}
            )
            role_rows.append({"id": ids("user_roles"), "user_id": uid, "role": role})
            pools[pool].append(uid)
    feed_owner = pools["organisers"][0]
    user_rows[-20] |= {"email": FEED_OWNER, "password_hash": passwords.hash(FEED_PASSWORD)}
    venue_rows: list[dict[str, Any]] = [
        {"id": ids("venues"), "name": f"Hall {n}", "location": "", "time_zone": "Asia/Bangkok"}
        | {"created_at": NOW}
        for n in range(60)
    ]
    pools["venues"] = [v["id"] for v in venue_rows]
    build = Builder(ids, rng, pools)
    build.rows.update({"users": user_rows, "user_roles": role_rows, "venues": venue_rows})
    fixture = Fixture()
    made: list[Conference] = []
    for _ in range(count):
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        long = rng.random() < 0.05
        days = rng.randint(7 * 8, 7 * 16) if long else rng.randint(1, 3)
        slots: list[Slot]
        if long:
            weeks = days // 7
            slots = [(day + dt.timedelta(hours=2), day + dt.timedelta(hours=4), None)]
            slots.append(
                (
                    day + dt.timedelta(hours=6),
                    day + dt.timedelta(hours=7),
                    f"FREQ=WEEKLY;COUNT={weeks}",
                )
            )
        else:
            slots = day_slots(day, days, rng.randint(1, 3))
        end = day + dt.timedelta(days=days)
        if rng.random() < 0.04:
            status = ConferenceStatus.CANCELLED
        else:
            status = rng.choice(PAST if end < NOW else FUTURE)
        owner = organiser if rng.random() < 0.1 else rng.choice(pools["organisers"][1:])
        made.append(build.conference(day, days, slots, status, owner))
        if long and not fixture.series_id:
            fixture.series_id = made[-1].id
        if not long and days == 3 and len(slots) >= 6 and owner == organiser:
            fixture.typical_id = fixture.typical_id or made[-1].id
    # The write target: a draft sharing the main-hall venue of a future scheduled conference.
    other = next(
        c
        for c in made
        if c.status == ConferenceStatus.SCHEDULED
        and c.sites[0].venue_id is not None
        and len(c.sessions) >= 2
        and not c.sessions[0].rrule
    )
    first_day = other.starts_at
    target = build.conference(
        first_day,
        (other.ends_at - other.starts_at).days + 1,
        [
            (first_day + dt.timedelta(hours=h), first_day + dt.timedelta(hours=h + 1), None)
            for h in (13, 15, 17)
        ],
        ConferenceStatus.DRAFT,
        organiser,
        venue=other.sites[0].venue_id,
        staffed=False,
        title="Bench write target",
    )
    # staffed=False drops the venue; give the main hall the shared venue back (its sessions
    # are at 13-18 UTC, when no generated session books anything).
    for row in build.rows["sites"]:
        if row["id"] == target.sites[0].id:
            row["venue_id"] = other.sites[0].venue_id
    for row in build.rows["bookings"]:
        if row["conference_id"] == target.id and row["kind"] == "site":
            if row["resource_id"] == target.sites[0].id:
                row["kind"], row["resource_id"] = "venue", other.sites[0].venue_id
    fixture.write_id = target.id
    clash = other.sessions[0]
    fixture.collide = (_z(clash.starts_at), _z(clash.ends_at))
    fixture.free = (_z(first_day + dt.timedelta(hours=20)), _z(first_day + dt.timedelta(hours=21)))
    # The feed: one draft of 1,000 sessions (weekdays, 4 a day) in 2031, its own sites only.
    feed_start = dt.datetime(2031, 1, 6, tzinfo=UTC)
    feed_slots: list[Slot] = []
    day = feed_start
    while len(feed_slots) < FEED_SESSIONS:
        if day.weekday() < 5:
            feed_slots += day_slots(day, 1, 4)
        day += dt.timedelta(days=1)
    feed = build.conference(
        feed_start,
        (day - feed_start).days + 1,
        feed_slots[:FEED_SESSIONS],
        ConferenceStatus.DRAFT,
        feed_owner,
        staffed=False,
        title="Bench feed: 1,000 sessions",
    )
    fixture.feed_id = feed.id
    await _insert(database, build.rows)
    fixture.counts = {name: len(rows) for name, rows in build.rows.items()}
    fixture.conferences = fixture.counts["conferences"]
    fixture.sessions = fixture.counts["agenda_sessions"]
    fixture.bookings = fixture.counts["bookings"]
    fixture.sites = fixture.counts["sites"]
    fixture.seconds = (dt.datetime.now(UTC) - started).total_seconds()
    return fixture


def _z(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
