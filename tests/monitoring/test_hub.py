"""The hub's memory of a room follows the room: a report queued before the room ended is
handled, and the room's rows leave memory after it (a dashboard never shows an ended room);
a room that moves to another node keeps its last 5 minutes of sparklines there."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from rooms.health import Health
from rooms.link_stats import Direction, LinkSample
from rooms.monitor import HealthReport
from server.db import Database
from server.models import Conference
from server.monitoring.hub import HealthHub
from server.sent import Sent


def report(subject: str, at: float = 1.0, score: int = 100) -> HealthReport:
    figures = Direction(0.0, 0.002, 500_000.0, 400)
    sample = LinkSample(at, "connected", 0.05, figures, figures, 25.0, 0, 0, 0.02, 40)
    health = Health(subject, "good", score, "good", "good", None, (), at, sample)
    row = health.public() | {"name": subject, "kind": "site", "booth": None, "browser": None}
    return HealthReport(at=at, rows=[row], changes=[], alerts=[])


async def first_conference(database: Database) -> int:
    async with database.session() as db:
        conference = await db.scalar(select(Conference.id).order_by(Conference.id))
    assert conference is not None
    return conference


async def nowhere(payload: Sent, room: str) -> None:
    return None


async def test_a_report_queued_before_the_end_does_not_bring_the_room_back(
    demo: Database,
) -> None:
    emitted: list[tuple[str, Any]] = []

    async def emit(payload: Sent, room: str) -> None:
        emitted.append((payload.event, payload.wire()))

    conference = await first_conference(demo)
    hub = HealthHub(demo, emit)
    hub.report(conference, report("site:1"))  # sent by the monitor just before the room closed
    hub.forget(conference)  # the room ended
    hub.start()
    try:
        for _ in range(100):
            if emitted and hub._queue.empty():
                break
            await asyncio.sleep(0.02)
        await hub._queue.join()
        assert [e for e, _ in emitted] == ["health.report"], "the late report was still shown"
        assert (await hub.snapshot(conference))["rows"] == [], "the ended room is gone from memory"
        assert conference not in hub.latest()
        hub.report(conference, report("site:2"))  # the conference's room opened again
        await hub._queue.join()
        assert [r["subject"] for r in (await hub.snapshot(conference))["rows"]] == ["site:2"]
    finally:
        await hub.close()


async def test_a_room_that_moves_to_another_node_keeps_its_sparklines(demo: Database) -> None:
    """Two nodes' hubs over one database: the room reported on the first for 3 windows; a
    dashboard on the second, which the room moved to, is shown those 3 points before the room's
    first report there, and the points go on from them after it. Older samples than 5 minutes
    are not part of it."""
    conference = await first_conference(demo)
    first, second = HealthHub(demo, nowhere), HealthHub(demo, nowhere)
    now = time.time()
    first.start()
    try:
        first.report(conference, report("site:7", now - 400, score=10))  # too old to be shown
        for n, score in enumerate((90, 80, 70)):
            first.report(conference, report("site:7", now - 6 + 2 * n, score=score))
        await first._queue.join()
    finally:
        await first.close()
    second.start()
    try:
        shown = (await second.snapshot(conference))["history"]
        assert [p["score"] for p in shown["site:7"]] == [90, 80, 70]
        assert abs(shown["site:7"][0]["t"] - (now - 6)) < 0.01
        assert conference not in second.latest(), "a dashboard's look does not open the room"
        second.report(conference, report("site:7", now, score=60))
        await second._queue.join()
        after = (await second.snapshot(conference))["history"]["site:7"]
        assert [p["score"] for p in after] == [90, 80, 70, 60]
    finally:
        await second.close()
