"""Floor control and the lobby, as the room decides them (no media needed)."""

from __future__ import annotations

import asyncio

import pytest

from rooms.floor import Floor, FloorError
from rooms.room import BridgeRoom
from rooms.roster import RoomError, RoomEvent, SiteInfo

SITES = {
    "1": SiteInfo("Main hall", 0, main_hall=True),
    "2": SiteInfo("World Vision", 1),
    "3": SiteInfo("OneSky", 2),
    "4": SiteInfo("District", 5),
}


def test_queue_orders_by_precedence_then_request_time() -> None:
    floor = Floor()
    floor.request("4", 5, at=1.0)
    floor.request("3", 2, at=2.0)
    floor.request("2", 2, at=3.0)
    assert [r.site_id for r in floor.queue] == ["3", "2", "4"]
    assert floor.request("4", 5, at=9.0) == 3, "asking twice keeps the first place"
    by_time = Floor("time")
    for site, precedence, at in (("4", 5, 1.0), ("3", 2, 2.0), ("2", 2, 3.0)):
        by_time.request(site, precedence, at=at)
    assert [r.site_id for r in by_time.queue] == ["4", "3", "2"]


def test_grant_takes_the_site_off_the_queue_and_limits_its_time() -> None:
    floor = Floor()
    floor.request("2", 1, at=1.0)
    floor.grant("2", 60, at=100.0)
    assert floor.holder == "2" and floor.queue == []
    assert floor.remaining(now=130.0) == 30.0
    with pytest.raises(FloorError, match="already has the floor"):
        floor.request("2", 1)
    with pytest.raises(FloorError, match="between 10 s and 1 hour"):
        floor.grant("3", 5)
    assert floor.release() == "2" and floor.holder is None


def make_room() -> tuple[BridgeRoom, list[RoomEvent]]:
    events: list[RoomEvent] = []
    room = BridgeRoom("test", SITES, ice_addresses=["127.0.0.1"], on_event=events.append)
    return room, events


async def test_lobby_admission_refusal_and_lock() -> None:
    room, events = make_room()
    assert room.arrive("2") == "lobby"
    with pytest.raises(RoomError) as refused:
        await room.connect_site("2", "v=0", {})
    assert refused.value.code == "not_admitted"
    room.admit("2")
    assert room.arrive("2") == "admitted", "coming back keeps the admission"
    room.arrive("3")
    room.refuse("3")
    with pytest.raises(RoomError) as again:
        room.refuse("3")
    assert again.value.code == "not_in_lobby"
    room.lock(True)
    with pytest.raises(RoomError) as locked:
        room.arrive("4")
    assert locked.value.code == "room_locked"
    assert room.arrive("2") == "admitted", "a lock keeps out newcomers, not admitted sites"
    with pytest.raises(RoomError) as unknown:
        room.arrive("99")
    assert unknown.value.code == "unknown_site"
    assert [e.type for e in events] == [
        "lobby.arrived",
        "lobby.admitted",
        "lobby.arrived",
        "lobby.refused",
        "room.locked",
    ]
    await room.close()


async def test_floor_requests_need_admission_and_the_time_limit_ends_the_turn() -> None:
    room, events = make_room()
    room.start()
    with pytest.raises(RoomError):
        room.request_floor("3")
    for site in ("2", "3"):
        room.arrive(site)
        room.admit(site)
    assert room.request_floor("3") == 1
    assert room.request_floor("2") == 1, "higher precedence goes first"
    room.grant_floor("3", 10)
    room.floor.granted_at = (room.floor.granted_at or 0) - 9.8  # 0.2 s left
    await asyncio.sleep(0.6)
    assert room.floor.holder is None
    released = [e for e in events if e.type == "floor.released"]
    assert released and released[-1].data == {"reason": "time limit"}
    assert room.snapshot()["floor"]["queue"] == ["2"]
    await room.close()
    await room.close()


async def test_presentation_needs_a_shared_screen() -> None:
    room, _ = make_room()
    room.arrive("2")
    room.admit("2")
    with pytest.raises(RoomError) as caught:
        room.present("2")
    assert caught.value.code == "no_screen"
    room.present(None)
    assert room.presenter is None
    await room.close()
