"""The room's routing with real aiortc sites: consoles' grid, presentation, mute, speaker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from rooms.room import BridgeRoom
from rooms.roster import RoomEvent, SiteInfo
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

SITES = {
    "1": SiteInfo("Main hall", 0, True),
    "2": SiteInfo("Site A", 1),
    "3": SiteInfo("Site B", 2),
}
SLOTS = [
    ("hall.video", "video"),
    ("hall.audio", "audio"),
    ("floor.video", "video"),
    ("floor.audio", "audio"),
    ("presentation.video", "video"),
]


async def until(condition: Callable[[], object], within: float = 8.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not true within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture
async def room() -> AsyncIterator[tuple[BridgeRoom, list[RoomEvent], list[SyntheticSite]]]:
    events: list[RoomEvent] = []
    made: list[SyntheticSite] = []
    bridge = BridgeRoom("media", SITES, ice_addresses=["127.0.0.1"], on_event=events.append)
    bridge.start()
    yield bridge, events, made
    for site in made:
        await site.close()
    await bridge.close()


async def join(
    bridge: BridgeRoom, made: list[SyntheticSite], site_id: str, tone: float, screen: bool = False
) -> SyntheticSite:
    bridge.arrive(site_id)
    bridge.admit(site_id)
    client = SyntheticSite(
        site_id,
        camera=PatternTrack(160, 90, 15),
        microphone=ToneTrack(tone),
        screen=PatternTrack(160, 90, 5) if screen else None,
        slots=SLOTS,
    )
    made.append(client)
    sdp, layout = await client.offer()
    await client.accept(await bridge.connect_site(site_id, sdp, layout))
    return client


async def test_console_grid_presentation_mute_and_speaker(
    room: tuple[BridgeRoom, list[RoomEvent], list[SyntheticSite]],
) -> None:
    bridge, events, made = room
    hall = await join(bridge, made, "1", 440)
    a = await join(bridge, made, "2", 660, screen=True)
    b = await join(bridge, made, "3", 880)

    console = SyntheticSite("console", slots=[(f"grid.{i}.video", "video") for i in range(3)])
    made.append(console)
    sdp, layout = await console.offer()
    await console.accept(await bridge.connect_console("console:1", sdp, layout))
    assert bridge.grid_order() == ["1", "2", "3"]
    await until(lambda: all(console.received[f"grid.{i}.video"].frames > 3 for i in range(3)))

    # Site A shares its screen; the chair shows it: B and the hall see it, A does not.
    assert b.received["presentation.video"].frames == 0
    bridge.present("2")
    await until(lambda: b.received["presentation.video"].frames > 3)
    await until(lambda: hall.received["presentation.video"].frames > 3)
    assert a.received["presentation.video"].frames == 0

    # The main hall's voice is the active speaker; muting the hall silences it everywhere.
    await until(lambda: bridge.speaker == "1")
    assert any(e.type == "speaker.changed" and e.site_id == "1" for e in events)
    await until(lambda: b.received["hall.audio"].frames > 10)
    bridge.mute("1", True)
    await asyncio.sleep(0.3)
    muted_at = b.received["hall.audio"].frames
    await asyncio.sleep(0.6)
    assert b.received["hall.audio"].frames <= muted_at + 2, "no hall audio while muted"
    bridge.mute("1", False)
    await until(lambda: b.received["hall.audio"].frames > muted_at + 10)
    MUTES = ("site.muted", "site.unmuted")
    assert [e.type for e in events if e.type in MUTES] == list(MUTES)
