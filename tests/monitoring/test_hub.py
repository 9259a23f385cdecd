"""The hub's memory of a room follows the room: a report queued before the room ended is
handled, and the room's rows leave memory after it (a dashboard never shows an ended room)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from rooms.monitor import HealthReport
from server.db import Database
from server.models import Conference
from server.monitoring.hub import HealthHub


def report(subject: str) -> HealthReport:
    row = {"subject": subject, "name": subject, "kind": "site", "level": "good", "score": 100}
    return HealthReport(at=1.0, rows=[row], changes=[], alerts=[])


async def test_a_report_queued_before_the_end_does_not_bring_the_room_back(
    demo: Database,
) -> None:
    emitted: list[tuple[str, Any]] = []

    async def emit(event: str, data: Any, room: str) -> None:
        emitted.append((event, data))

    async with demo.session() as db:
        conference = await db.scalar(select(Conference.id).order_by(Conference.id))
    assert conference is not None
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
        assert hub.snapshot(conference)["rows"] == [], "the ended room is gone from memory"
        assert conference not in hub.latest()
        hub.report(conference, report("site:2"))  # the conference's room opened again
        await hub._queue.join()
        assert [r["subject"] for r in hub.snapshot(conference)["rows"]] == ["site:2"]
    finally:
        await hub.close()
