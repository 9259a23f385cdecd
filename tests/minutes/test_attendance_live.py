"""Attendance and floor interventions from a real bridge room: synthetic aiortc sites join the
MoU's room on 127.0.0.1, the chair admits one and gives it the floor; the room's stored events
become the minutes' attendance and interventions."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from server.db import Database
from server.models import AgendaSession, RoomEventRecord
from tests.live.conftest import live, until
from tests.minutes.conftest import API, MOU

__all__ = ["live"]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
HALL, CHAMPASAK = 1, 2


async def test_attendance_and_interventions_come_from_the_rooms_joins(
    live: dict[str, Any], demo: Database, people: Any
) -> None:
    # The MoU's first session is happening now.
    now = dt.datetime.now(dt.UTC)
    async with demo.session() as db, db.begin():
        first = await db.scalar(
            select(AgendaSession)
            .where(AgendaSession.conference_id == MOU)
            .order_by(AgendaSession.starts_at)
            .limit(1)
        )
        assert first is not None
        uid = first.uid
        await db.execute(
            update(AgendaSession)
            .where(AgendaSession.id == first.id)
            .values(starts_at=now - dt.timedelta(minutes=1), ends_at=now + dt.timedelta(hours=1))
        )

    chair = await live["chair"](MOU)
    champasak = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    assert await champasak.start() == "lobby"
    assert (await chair.call("admit", {"site_id": CHAMPASAK}))["ok"]
    await until(champasak.admitted.is_set, 5, "the site to be admitted")
    await champasak.connect_media()
    await until(lambda: chair.states and chair.site(CHAMPASAK)["link"] == "connected", 15)
    assert (await chair.call("floor.grant", {"site_id": CHAMPASAK}))["ok"]
    assert (await chair.call("floor.release"))["ok"]
    await until(lambda: any(e["type"] == "floor.released" for e in chair.events), 5)

    async def stored() -> list[str]:
        async with demo.session() as db:
            return list(await db.scalars(select(RoomEventRecord.type)))

    types = await stored()
    for _ in range(50):
        if "floor.released" in types:
            break
        await asyncio.sleep(0.1)
        types = await stored()
    assert "site.connected" in types and "floor.released" in types, types

    secretary = await people("secretary@concord.example")
    status, made = await secretary.call("POST", API, {})
    assert status == 201, made
    rows = {(r["session_uid"], r["site_id"]): r for r in made["document"]["attendance"]}
    present = rows[(uid, CHAMPASAK)]
    assert len(present["intervals"]) == 1
    start = dt.datetime.fromisoformat(present["intervals"][0]["start"])
    assert now - dt.timedelta(seconds=5) < start < dt.datetime.now(dt.UTC)
    assert present["late"] is False
    assert rows[(uid, HALL)]["intervals"] == [], "the main hall never connected: absent"
    turns = [t for t in made["document"]["interventions"] if t["session_uid"] == uid]
    assert [t["site_id"] for t in turns] == [CHAMPASAK]

    # "Refresh from the room" after more happened: a new revision with the new turn.
    assert (await chair.call("floor.grant", {"site_id": CHAMPASAK}))["ok"]
    await until(lambda: sum(e["type"] == "floor.granted" for e in chair.events) >= 2, 5)
    for _ in range(50):
        if (await stored()).count("floor.granted") >= 2:
            break
        await asyncio.sleep(0.1)
    status, refreshed = await secretary.call("POST", API + "/attendance", {})
    assert status == 200 and refreshed["revision"] == 2
    turns = [t for t in refreshed["document"]["interventions"] if t["session_uid"] == uid]
    assert len(turns) == 2
