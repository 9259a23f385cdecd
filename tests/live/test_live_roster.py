"""The open room follows its conference (issue 14): a site added while the room is open can
join, an interpreter assigned while it is open goes on air and is heard, a deleted site's
connection ends with the reason. Real aiortc peers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, update

from rooms.synthetic import SyntheticSite, ToneTrack, dominant_frequency
from server.db import Database
from server.keys import LIVE_ROOMS
from server.live.simulate import SITE_SLOTS, SimulationError
from server.models import Conference, User
from tests.live.conftest import Client, until
from tests.live.test_interpretation_live import interpreter_socket

AID = 2  # the aid review: scheduled, so its plan may still change; main hall 3, sites 4..27
HALL = 3


async def write(live: dict[str, Any], method: str, path: str, expect: int, **body: Any) -> Any:
    client: Client = live["client"]
    response = await client.request(
        method,
        f"/api/conferences/{AID}{path}",
        json=body or None,
        headers={"X-CSRF-Token": live["csrf"]},
    )
    assert response.status == expect, await response.text()
    return await response.json() if expect != 204 else None


async def admitted(live: dict[str, Any], chair: Any, site_id: int, tone: float, **kw: Any) -> Any:
    site = await live["invite"](AID, site_id, f"site-{site_id}", tone, **kw)
    await site.start()
    assert (await chair.call("admit", {"site_id": site_id}))["ok"]
    await until(site.admitted.is_set, 5)
    await site.connect_media()
    return site


async def test_a_site_added_while_the_room_is_open_joins(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](AID)
    await admitted(live, chair, HALL, 440)
    made = await write(
        live, "POST", "/sites", 201, name="Late district hall", time_zone="Asia/Ho_Chi_Minh"
    )
    await until(
        lambda: any(s["site_id"] == made["id"] for s in chair.states[-1]["sites"]),
        2,
        "the chair to see the new site",
    )
    late = await admitted(live, chair, made["id"], 880)
    assert late.media is not None
    hall = late.media.received["hall.audio"]
    hall.keep_samples = 20
    await until(lambda: len(hall.samples) >= 20, 10, "the new site to hear the main hall")
    assert abs(dominant_frequency(np.concatenate(hall.samples)) - 440) < 20
    assert any(e["type"] == "site.added" for e in chair.events)


async def test_an_interpreter_assigned_while_the_room_is_open_goes_on_air(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](AID)
    email = "interpreter.lo@concord.example"
    booth = await interpreter_socket(live["client"], email)
    join = {"conference_id": AID, "as": "interpreter", "language": "en"}
    before = await booth.call("join", join, namespace="/room")
    assert before["ok"] is False and before["code"] == "forbidden", before

    async with demo.session() as db:
        user_id = await db.scalar(select(User.id).where(User.email == email))
    assignment = await write(
        live,
        "POST",
        "/interpreters",
        201,
        user_id=user_id,
        target_language="en",
        source_languages=["vi"],
    )
    joined = await booth.call("join", join, namespace="/room")
    assert joined["ok"], joined
    media = SyntheticSite(
        "late-booth", microphone=ToneTrack(660), slots=[("source.audio", "audio")]
    )
    try:
        sdp, layout = await media.offer()
        answer = await booth.call("offer", {"sdp": sdp, "layout": layout}, namespace="/room")
        assert answer["ok"], answer
        await media.accept(answer["sdp"])
        assert (await booth.call("booth.on_air", {}, namespace="/room"))["ok"]

        site = await admitted(
            live, chair, 4, 880, slots=(*SITE_SLOTS, ("interpretation.audio", "audio"))
        )
        assert (await site.call("language", {"language": "en"}))["ok"]
        heard = site.media.received["interpretation.audio"]
        heard.keep_samples = 20
        await until(lambda: len(heard.samples) >= 20, 10, "the site to hear the late booth")
        assert abs(dominant_frequency(np.concatenate(heard.samples)) - 660) < 20

        # Unassigned again: off air at once, and the booth console is told why.
        revoked: list[dict[str, Any]] = []
        booth.on("revoked", revoked.append, namespace="/room")
        await write(live, "DELETE", f"/interpreters/{assignment['id']}", 204)
        await until(lambda: revoked, 2, "the interpreter to be told")
        assert revoked[0]["code"] == "booth_unassigned"

        def en_on_air() -> object:
            booths = chair.states[-1]["interpretation"]["booths"]
            return next(b for b in booths if b["language"] == "en")["on_air"]

        await until(lambda: en_on_air() is None, 2, "the booth to go off air")
    finally:
        await media.close()
        await booth.disconnect()


async def test_a_deleted_site_is_disconnected_with_the_reason(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](AID)
    await admitted(live, chair, HALL, 440)
    site = await admitted(live, chair, 5, 880)
    revoked: list[dict[str, Any]] = []
    site.sio.on("revoked", revoked.append, namespace="/room")
    await until(lambda: site.report().frames_received > 5, 10, "media to reach the site")

    await write(live, "DELETE", "/sites/5", 204)
    await until(lambda: revoked and not site.sio.connected, 2, "the site to be cut")
    assert revoked[0]["code"] == "site_deleted"
    await until(
        lambda: all(s["site_id"] != 5 for s in chair.states[-1]["sites"]), 2, "the chair to see it"
    )
    frames = site.report().frames_received
    await asyncio.sleep(1.0)
    assert site.report().frames_received - frames <= 2, "media still reaches the deleted site"


async def test_an_ended_conference_refuses_joins_with_the_reason(
    live: dict[str, Any], demo: Database
) -> None:
    """Ending the conference closes its room; nobody can open it again, not even the chair,
    and each is told why."""
    chair = await live["chair"](AID)
    site = await live["invite"](AID, 4, "site-4", 880)
    await site.start()
    await write(live, "POST", "/status", 200, status="live")
    await write(live, "POST", "/status", 200, status="ended")
    await until(lambda: any(e["type"] == "room.ended" for e in chair.events), 2, "the room to end")
    late = await live["invite"](AID, 5, "site-5", 660)
    with pytest.raises(SimulationError, match="room_closed"):
        await late.start()
    again = await chair.sio.call(
        "join", {"conference_id": AID, "as": "console"}, namespace="/room", timeout=10
    )
    assert again["ok"] is False and again["code"] == "room_closed", again
    assert "has ended" in again["detail"]
    assert live["client"].server.app[LIVE_ROOMS].get(AID) is None


async def test_sites_wait_until_the_room_opens_but_the_chair_may_rehearse(
    live: dict[str, Any], demo: Database
) -> None:
    """A day before the conference, a site is told when the room opens; the chair may open
    it already (rehearsal, site checks)."""
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    async with demo.session() as db, db.begin():
        await db.execute(update(Conference).where(Conference.id == AID).values(starts_at=starts))
    site = await live["invite"](AID, 4, "site-4", 880)
    with pytest.raises(SimulationError, match="room_not_open"):
        await site.start()
    answer = await site.sio.call(
        "join", {"conference_id": AID, "as": "site"}, namespace="/room", timeout=10
    )
    assert answer["code"] == "room_not_open"
    opens = dt.datetime.fromisoformat(answer["opens_at"])
    assert abs((starts - dt.timedelta(minutes=120) - opens).total_seconds()) < 1
    chair = await live["chair"](AID)
    assert chair.states or live["client"].server.app[LIVE_ROOMS].get(AID) is not None
