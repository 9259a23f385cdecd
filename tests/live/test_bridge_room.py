"""The bridge room over socket.io with real aiortc sites: lobby, admission, media, floor,
reconnection, and the room's record in the database."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from rooms.synthetic import dominant_frequency
from server.db import Database
from server.models import RoomEventRecord
from tests.live.conftest import until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MOU, HALL, CHAMPASAK = 1, 1, 2


def tone_of(site: Any, slot: str) -> float:
    received = site.media.received[slot]
    return dominant_frequency(np.concatenate(received.samples[-25:]))


async def test_no_site_bypasses_the_lobby(live: dict[str, Any]) -> None:
    early = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    assert await early.start() == "lobby", "arriving before the chair still means the lobby"
    refused = await early.sio.call(
        "offer", {"sdp": "v=0 fake sdp", "layout": {}}, namespace="/room"
    )
    assert refused["ok"] is False and refused["code"] == "not_admitted"

    chair = await live["chair"](MOU)
    assert chair.states == [] or chair.site(CHAMPASAK)["admission"] == "lobby"
    assert (await chair.call("admit", {"site_id": CHAMPASAK}))["ok"]
    await until(early.admitted.is_set, 5, "the site to hear it was admitted")
    await early.connect_media()
    await until(
        lambda: chair.states and chair.site(CHAMPASAK)["link"] == "connected",
        10,
        "the chair to see the site connected",
    )


async def test_floor_goes_to_the_granted_site_and_everyone_hears_it(
    live: dict[str, Any], demo: Database
) -> None:
    chair = await live["chair"](MOU)
    hall = await live["invite"](MOU, HALL, "hall", 440)
    champasak = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    for site in (hall, champasak):
        assert await site.start() == "lobby"
        assert (await chair.call("admit", {"site_id": site.site_id}))["ok"]
        await until(site.admitted.is_set, 5)
        await site.connect_media()
        for slot in ("hall.audio", "floor.audio"):
            site.media.received[slot].keep_samples = 50

    # Champasak hears and sees the main hall.
    await until(
        lambda: champasak.media.received["hall.video"].frames > 10,
        15,
        "Champasak to decode the main hall's video",
    )
    await until(
        lambda: len(champasak.media.received["hall.audio"].samples) >= 25,
        10,
        lambda: what_flows(live, champasak),
    )
    assert abs(tone_of(champasak, "hall.audio") - 440) < 15

    # Champasak asks for the floor, the chair grants it: the main hall hears Champasak.
    position = await champasak.call("floor.request")
    assert position["position"] == 1
    await until(lambda: chair.states and chair.states[-1]["floor"]["queue"] == [CHAMPASAK], 5)
    assert (await chair.call("floor.grant", {"site_id": CHAMPASAK, "limit_seconds": 120}))["ok"]
    floor = hall.media.received["floor.audio"]
    before = floor.frames
    waited = await until(lambda: floor.frames > before + 25, 5, "the floor audio at the hall")
    assert waited < 1.5
    assert abs(tone_of(hall, "floor.audio") - 880) < 15
    await until(
        lambda: hall.media.received["floor.video"].frames > 5, 5, "the hall to see the floor holder"
    )
    assert champasak.media.received["floor.video"].frames == 0, "nobody sees themselves"

    # The chair ends the turn; every floor event is on record with its time.
    assert (await chair.call("floor.release"))["ok"]
    await until(lambda: chair.states[-1]["floor"]["holder"] is None, 5)
    await until(lambda: any(e["type"] == "floor.released" for e in chair.events), 5)
    async with demo.session() as db:
        rows = list(await db.scalars(select(RoomEventRecord).order_by(RoomEventRecord.id)))
    types = [r.type for r in rows]
    for expected in (
        "lobby.arrived",
        "lobby.admitted",
        "site.connected",
        "floor.requested",
        "floor.granted",
        "floor.released",
    ):
        assert expected in types, (expected, types)
    granted = next(r for r in rows if r.type == "floor.granted")
    assert granted.site_id == CHAMPASAK and granted.data == {"limit_seconds": 120}
    assert granted.at.tzinfo is not None


async def test_a_dropped_site_comes_back_with_its_admission_and_floor(
    live: dict[str, Any],
) -> None:
    chair = await live["chair"](MOU)
    first = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    await first.start()
    await chair.call("admit", {"site_id": CHAMPASAK})
    await until(first.admitted.is_set, 5)
    await first.connect_media()
    await until(lambda: chair.states and chair.site(CHAMPASAK)["link"] == "connected", 10)
    await chair.call("floor.grant", {"site_id": CHAMPASAK})

    await first.close()  # the site's machine loses the network
    await until(
        lambda: chair.site(CHAMPASAK)["link"] == "reconnecting",
        40,
        "the chair to see the site reconnecting",
    )
    again = await live["invite"](MOU, CHAMPASAK, "champasak-again", 880)
    assert await again.start() == "admitted", "no second trip through the lobby"
    await again.connect_media()
    await until(lambda: chair.site(CHAMPASAK)["link"] == "connected", 10)
    assert chair.states[-1]["floor"]["holder"] == CHAMPASAK


async def test_bad_messages_get_named_refusals(live: dict[str, Any]) -> None:
    site = await live["invite"](MOU, CHAMPASAK, "champasak", 880)
    await site.start()
    cases = [
        ("floor.grant", {"site_id": CHAMPASAK}, "forbidden"),
        ("admit", {"site_id": CHAMPASAK}, "forbidden"),
        ("offer", {"sdp": 5, "layout": {}}, "invalid"),
        ("chat", {"text": ""}, "invalid"),
        ("chat", {"text": "hi", "extra": True}, "invalid"),
        ("teleport", {}, "invalid"),
        ("join", {"conference_id": 1, "as": "site"}, "invalid"),
    ]
    for event, data, code in cases:
        answer = await site.sio.call(event, data, namespace="/room")
        assert answer["ok"] is False and answer["code"] == code, (event, answer)
    other = await live["invite"](2, 4, "other", 500)
    await other.start()
    chair = await live["chair"](MOU)
    assert (await chair.call("admit", {"site_id": 4}))["code"] == "unknown_site"
    flood = [await site.sio.call("chat", {"text": "x"}, namespace="/room") for _ in range(6)]
    assert any(a.get("code") == "rate_limited" for a in flood)


def what_flows(live: dict[str, Any], site: Any) -> dict[str, Any]:
    """For failure messages: what the site received and what the server forwards."""
    from server.keys import LIVE_ROOMS

    room = live["client"].app[LIVE_ROOMS].get(MOU)
    out: dict[str, Any] = {k: (v.frames, len(v.samples)) for k, v in site.media.received.items()}
    for site_id, state in room.sites.items() if room else ():
        if state.peer:
            out[site_id] = {name: slot.forwarded for name, slot in state.peer.slots.items()}
    return out
