"""Health samples are kept for the retention period, then deleted; nothing else is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.models import Conference, HealthSample, RoomEventRecord
from server.monitoring.hub import HealthHub

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


def sample(at: dt.datetime) -> HealthSample:
    return HealthSample(
        conference_id=1, subject="site:1", name="Hall", at=at, level="good", score=100, data={}
    )


async def test_prune_deletes_only_samples_past_the_retention(demo: Database) -> None:
    async def nothing(*_: Any) -> None:
        return None

    hub = HealthHub(demo, nothing, retention_days=30)
    async with demo.session() as db, db.begin():
        db.add_all(
            [
                sample(NOW - dt.timedelta(days=31)),
                sample(NOW - dt.timedelta(days=30, seconds=1)),
                sample(NOW - dt.timedelta(days=29)),
                sample(NOW),
            ]
        )
        db.add(RoomEventRecord(conference_id=1, at=NOW - dt.timedelta(days=90), type="x"))
    assert await hub.prune(NOW) == 2
    assert await hub.prune(NOW) == 0
    async with demo.session() as db:
        kept = list(await db.scalars(select(HealthSample.at).order_by(HealthSample.at)))
        events = await db.scalar(select(func.count()).select_from(RoomEventRecord))
    assert kept == [NOW - dt.timedelta(days=29), NOW]
    assert events == 1, "the timeline (room events) is the record: never pruned here"


async def test_prune_keeps_the_samples_of_a_conference_on_legal_hold(demo: Database) -> None:
    async def nothing(*_: Any) -> None:
        return None

    hub = HealthHub(demo, nothing, retention_days=30)
    async with demo.session() as db, db.begin():
        db.add_all([sample(NOW - dt.timedelta(days=40)), sample(NOW - dt.timedelta(days=50))])
        conference = await db.get(Conference, 1)
        assert conference is not None
        conference.legal_hold = True
    assert await hub.prune(NOW) == 0, "a conference on hold keeps its samples"
    async with demo.session() as db, db.begin():
        conference = await db.get(Conference, 1)
        assert conference is not None
        conference.legal_hold = False
    assert await hub.prune(NOW) == 2
