"""A killed process's room is closed honestly at the next start-up: its sites leave at the
last heartbeat, marked unclean, once; the minutes' attendance ends there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from server.db import Database
from server.live.heartbeat import Heartbeat
from server.minutes.attendance import attendance
from server.minutes.build import room_events
from server.models import RoomEventRecord, RoomHeartbeat, Site

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CRASH = T0 + dt.timedelta(minutes=20)
NOW = CRASH + dt.timedelta(minutes=5)


async def test_a_crashed_room_is_closed_at_its_last_heartbeat_once(demo: Database) -> None:
    async with demo.session() as db, db.begin():
        one, two = list(
            await db.scalars(select(Site.id).where(Site.conference_id == 1).order_by(Site.id))
        )[:2]
        for site, at in ((one, T0), (two, T0 + dt.timedelta(minutes=1))):
            for kind in ("lobby.admitted", "site.connected"):
                db.add(RoomEventRecord(conference_id=1, at=at, type=kind, site_id=site, data={}))
        db.add(RoomHeartbeat(conference_id=1, node="killed", beat_at=CRASH))
        # Conference 2's room is alive on another node (a fresh beat): left alone.
        elsewhere = await db.scalar(select(Site.id).where(Site.conference_id == 2).limit(1))
        db.add(RoomEventRecord(conference_id=2, at=T0, type="site.connected", site_id=elsewhere))
        db.add(RoomHeartbeat(conference_id=2, node="other", beat_at=NOW - dt.timedelta(seconds=1)))
    heartbeat = Heartbeat(demo, "restarted", lambda: [])

    assert await heartbeat.recover(now=NOW) == [1]
    assert await heartbeat.recover(now=NOW) == []

    async with demo.session() as db:
        written = list(
            await db.scalars(
                select(RoomEventRecord)
                .where(RoomEventRecord.type.in_(["site.left", "room.interrupted"]))
                .order_by(RoomEventRecord.id)
            )
        )
        beats = list(await db.scalars(select(RoomHeartbeat.conference_id)))
        events = await room_events(db, 1)
    marked = {"reason": "server stopped", "unclean": True}
    assert [(e.type, e.site_id, e.at, e.data) for e in written] == [
        ("site.left", one, CRASH, marked),
        ("site.left", two, CRASH, marked),
        ("room.interrupted", None, CRASH, marked),
    ]
    assert beats == [2]
    rows = attendance(events, T0, T0 + dt.timedelta(hours=2), session_uid="s")
    assert {r.site_id: [(i.start, i.end) for i in r.intervals] for r in rows} == {
        one: [(T0, CRASH)],
        two: [(T0 + dt.timedelta(minutes=1), CRASH)],
    }
    assert all(r.left_early for r in rows)


async def test_a_graceful_stop_closes_the_rooms_it_held_cleanly(demo: Database) -> None:
    heartbeat = Heartbeat(demo, "this", lambda: [1])
    await heartbeat.start()
    async with demo.session() as db, db.begin():
        site = await db.scalar(select(Site.id).where(Site.conference_id == 1).limit(1))
        db.add(RoomEventRecord(conference_id=1, at=T0, type="site.connected", site_id=site))
    await heartbeat.close()
    async with demo.session() as db:
        written = list(await db.scalars(select(RoomEventRecord).where(RoomEventRecord.at > T0)))
        beats = list(await db.scalars(select(RoomHeartbeat)))
    assert [(e.type, e.site_id) for e in written] == [
        ("site.left", site),
        ("room.interrupted", None),
    ]
    assert all(e.data == {"reason": "server stopped", "unclean": False} for e in written)
    assert beats == []
