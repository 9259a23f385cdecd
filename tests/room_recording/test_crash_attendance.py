"""A real ``concord serve`` holding two synthetic sites is SIGKILLed; the next one closes
their presence at about the crash time (within a heartbeat), marked unclean."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.served import Served
from server.db import Database
from server.live.heartbeat import INTERVAL
from server.models import RoomEventRecord
from server.settings import load_config
from tests.room_recording.test_crash import environment, two_sites_connected

__all__ = ["environment"]


async def test_sites_of_a_killed_server_leave_at_the_crash_time(
    environment: tuple[dict[str, str], int], tmp_path: Path
) -> None:
    env, port = environment
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    began = dt.datetime.now(dt.UTC)  # the demo's own history of the room comes before
    server = Served(env, port, tmp_path / "serve.log")
    await server.start()
    sites: asyncio.Task[Any] | None = None
    chair = None
    try:
        sites, chair = await two_sites_connected(server, config)
        present = {s["site_id"] for s in chair.state["sites"] if s["link"] == "connected"}
        await asyncio.sleep(2 * INTERVAL)
        server.kill()
        killed = dt.datetime.now(dt.UTC)
    finally:
        if chair is not None:
            await chair.close()
        if sites is not None:
            sites.cancel()
            with contextlib.suppress(BaseException):
                await sites
        server.stop()

    restarted = Served(env, port, tmp_path / "serve-again.log")
    await restarted.start()
    restarted.stop()
    database = Database(config.database_url)
    try:
        async with database.session() as db:
            closing = list(
                await db.scalars(
                    select(RoomEventRecord)
                    .where(
                        RoomEventRecord.conference_id == 1,
                        RoomEventRecord.at >= began,
                        RoomEventRecord.type.in_(["site.left", "room.interrupted"]),
                    )
                    .order_by(RoomEventRecord.id)
                )
            )
    finally:
        await database.close()
    assert [e.type for e in closing] == ["site.left", "site.left", "room.interrupted"]
    assert {e.site_id for e in closing[:2]} == present
    for event in closing:
        assert event.data == {"reason": "server stopped", "unclean": True}
        assert dt.timedelta(0) <= killed - event.at <= dt.timedelta(seconds=INTERVAL + 0.5)
