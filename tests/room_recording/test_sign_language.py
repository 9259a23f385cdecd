"""A sign-language booth is recorded like any other channel (issue 19): its interpreter's camera
becomes a file of its own (``vsl.webm``, VP8 alone), listed in the manifest beside the floor's
and the spoken channels' files, and nothing from another sign booth slips into it.

A real room on 127.0.0.1 with real aiortc peers: the main hall (camera and 440 Hz), a spoken
Lao booth on air (660 Hz) and two sign-language booths, of which only the Vietnamese one
(``vsl``) has its interpreter on air; the recorder joins as the server's does."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from rooms.booths import BoothInfo
from rooms.room import BridgeRoom
from rooms.roster import SiteInfo
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack
from server.room_recording.recorder import RoomRecorder
from tests.room_recording.helpers import probe

SITES = {"1": SiteInfo("Quang Ngai hall", 0, True)}
BOOTHS = {
    "lo": BoothInfo("lo", frozenset({"vi"}), ("lo-a",)),
    "vsl": BoothInfo("vsl", frozenset({"vi"}), ("sign-vi",), video=True),
    "lsl": BoothInfo("lsl", frozenset({"lo"}), ("sign-lo",), video=True),  # nobody on air
}


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not true within {within} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def room() -> AsyncIterator[tuple[BridgeRoom, list[SyntheticSite]]]:
    made: list[SyntheticSite] = []
    bridge = BridgeRoom(
        "sign", SITES, ice_addresses=["127.0.0.1"], on_event=lambda event: None, booths=BOOTHS
    )
    bridge.start()
    yield bridge, made
    for site in made:
        await site.close()
    await bridge.close()


async def on_air(
    bridge: BridgeRoom, made: list[SyntheticSite], name: str, language: str, camera: bool
) -> None:
    client = SyntheticSite(
        name,
        camera=PatternTrack(320, 240, 15) if camera else None,
        microphone=ToneTrack(660),
        slots=[("source.audio", "audio")],
    )
    made.append(client)
    sdp, layout = await client.offer()
    await client.accept(await bridge.connect_interpreter(name, language, sdp, layout))
    bridge.interpreter_present(name, language, True)
    bridge.interpret("on_air", name, language)


async def test_the_sign_language_booth_is_a_video_file_of_its_own_in_the_recording(
    room: tuple[BridgeRoom, list[SyntheticSite]], tmp_path: Path
) -> None:
    bridge, made = room
    bridge.set_floor_language("vi")
    bridge.arrive("1")
    bridge.admit("1")
    hall = SyntheticSite("1", camera=PatternTrack(320, 240, 15), microphone=ToneTrack(440))
    made.append(hall)
    sdp, layout = await hall.offer()
    await hall.accept(await bridge.connect_site("1", sdp, layout))
    await on_air(bridge, made, "lo-a", "lo", camera=False)
    await on_air(bridge, made, "sign-vi", "vsl", camera=True)

    recorder = await RoomRecorder.create(bridge, 7, tmp_path / "7", dt.datetime.now(dt.UTC))
    assert (recorder.languages, recorder.sign_languages) == (["lo"], ["lsl", "vsl"])
    recorder.start()
    try:
        watcher = bridge.subscribers["recorder:7:1:vsl"]
        await until(lambda: watcher.slots["sign.video"].forwarded > 30)
        await asyncio.sleep(2.0)  # some seconds of each file
    finally:
        files = await recorder.close()

    by_channel = {f.channel: f for f in files}
    assert set(by_channel) == {"floor", "lo", "vsl"}, files  # lsl: nobody on air, no file
    assert by_channel["vsl"].name == "vsl.webm" and by_channel["vsl"].media_type == "video/webm"
    streams = probe(tmp_path / "7" / "vsl.webm")
    assert list(streams["streams"].values()) == ["video"], streams
    assert streams["last"]["video"] > 1.0, streams
    manifest = json.loads((tmp_path / "7" / "manifest.json").read_text())
    assert manifest["channels"] == ["floor", "lo", "lsl", "vsl"]
    rows = {row["channel"]: row for row in manifest["files"] if row["name"].endswith(".webm")}
    assert rows["vsl"]["sha256"] == by_channel["vsl"].sha256
    assert rows["vsl"]["streams"]["video"]["frames"] > 10, rows["vsl"]
