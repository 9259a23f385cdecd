"""Interpretation channels with real aiortc peers, checked by ear (FFT): floor 440 Hz, Lao
booth interpreter A 660 Hz and B 770 Hz, English booth 880 Hz."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest

from rooms.booths import BoothInfo
from rooms.room import BridgeRoom
from rooms.roster import RoomError, RoomEvent, SiteInfo
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack, dominant_frequency

SITES = {"1": SiteInfo("Quang Ngai hall", 0, True), "2": SiteInfo("Champasak hall", 1)}
BOOTHS = {
    "lo": BoothInfo("lo", frozenset({"vi"}), ("lo-a", "lo-b")),
    "en": BoothInfo("en", frozenset({"lo"}), ("en-a",)),  # relays from the Lao booth
    "vsl": BoothInfo("vsl", frozenset({"vi"}), ("sign-a",), video=True),  # sign language
}


async def until(condition: Callable[[], object], within: float = 8.0) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not true within {within} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def tone(site: SyntheticSite, slot: str, frames: int = 10) -> float:
    return dominant_frequency(np.concatenate(site.received[slot].samples[-frames:]))


@pytest.fixture
async def room() -> AsyncIterator[tuple[BridgeRoom, list[RoomEvent], list[SyntheticSite]]]:
    events: list[RoomEvent] = []
    made: list[SyntheticSite] = []
    bridge = BridgeRoom(
        "booths", SITES, ice_addresses=["127.0.0.1"], on_event=events.append, booths=BOOTHS
    )
    bridge.start()
    yield bridge, events, made
    for site in made:
        await site.close()
    await bridge.close()


async def hall_and_listener(
    bridge: BridgeRoom, made: list[SyntheticSite], slots: list[tuple[str, str]]
) -> SyntheticSite:
    """Vietnamese on the floor; the main hall (440 Hz) and a listening site with ``slots``."""
    bridge.set_floor_language("vi")
    for site_id, hz, wanted in (("1", 440, []), ("2", 300, slots)):
        bridge.arrive(site_id)
        bridge.admit(site_id)
        client = SyntheticSite(site_id, microphone=ToneTrack(hz), slots=wanted)
        made.append(client)
        sdp, layout = await client.offer()
        await client.accept(await bridge.connect_site(site_id, sdp, layout))
    return made[1]


async def test_listeners_interpreters_handover_relay_and_switch_out(
    room: tuple[BridgeRoom, list[RoomEvent], list[SyntheticSite]],
) -> None:
    bridge, events, made = room
    listener = await hall_and_listener(
        bridge, made, [("hall.audio", "audio"), ("interpretation.audio", "audio")]
    )
    for slot in ("hall.audio", "interpretation.audio"):
        listener.received[slot].keep_samples = 200
    interpreters: dict[str, SyntheticSite] = {}
    for name, language, hz in (("lo-a", "lo", 660), ("lo-b", "lo", 770), ("en-a", "en", 880)):
        client = SyntheticSite(name, microphone=ToneTrack(hz), slots=[("source.audio", "audio")])
        made.append(client)
        interpreters[name] = client
        client.received["source.audio"].keep_samples = 50
        sdp, layout = await client.offer()
        await client.accept(await bridge.connect_interpreter(name, language, sdp, layout))

    # Only the booth's interpreters work in it.
    with pytest.raises(RoomError) as refused:
        await bridge.connect_interpreter("delegate", "lo", "v=0", {})
    assert refused.value.code == "not_in_booth"

    bridge.interpret("on_air", "lo-a", "lo")
    bridge.interpret("on_air", "en-a", "en")
    bridge.choose_language("2", "lo")
    interpretation = listener.received["interpretation.audio"]
    await until(lambda: len(interpretation.samples) >= 20)
    await until(lambda: abs(tone(listener, "interpretation.audio") - 660) < 20)
    await until(lambda: len(listener.received["hall.audio"].samples) >= 20)
    assert abs(tone(listener, "hall.audio") - 440) < 20, "the floor plays underneath"

    # Switching language takes effect within 500 ms.
    bridge.choose_language("2", "en")
    assert await until(lambda: abs(tone(listener, "interpretation.audio", 5) - 880) < 20) < 0.5

    # The English booth interprets from Lao: it hears the Lao booth (660 Hz) as relay.
    relay = interpreters["en-a"]
    await until(lambda: len(relay.received["source.audio"].samples) >= 10)
    await until(lambda: abs(tone(relay, "source.audio") - 660) < 20)

    # Handover A → B: the Lao listeners hear 770 Hz, with no audible gap.
    bridge.choose_language("2", "lo")
    await until(lambda: abs(tone(listener, "interpretation.audio", 5) - 660) < 20)
    bridge.interpret("request", "lo-b", "lo")
    arrivals: list[float] = []
    frames_before = interpretation.frames
    bridge.interpret("accept", "lo-a", "lo")
    while interpretation.frames < frames_before + 15:
        count = interpretation.frames
        await asyncio.sleep(0.002)
        if interpretation.frames != count:
            arrivals.append(time.monotonic())
    gaps = np.diff(arrivals)
    assert gaps.max() < 0.1, f"a gap of {gaps.max() * 1000:.0f} ms at the handover"
    await until(lambda: abs(tone(listener, "interpretation.audio", 5) - 770) < 20)
    handover = [e for e in events if e.type == "booth.handover"]
    assert handover and handover[0].data == {"language": "lo", "from": "lo-a", "to": "lo-b"}

    # Lao on the floor: the Lao booth is switched out, its listeners hear the floor only.
    bridge.set_floor_language("lo")
    await asyncio.sleep(0.3)
    stopped = interpretation.frames
    await asyncio.sleep(0.5)
    assert interpretation.frames <= stopped + 2, "no interpretation while switched out"
    assert abs(tone(listener, "hall.audio", 10) - 440) < 20
    assert any(
        e.type == "floor.language" and e.data == {"language": "lo", "by": "chair"} for e in events
    )


async def test_interpreters_choose_their_source_sign_language_is_pinned_and_leaving_is_off_air(
    room: tuple[BridgeRoom, list[RoomEvent], list[SyntheticSite]],
) -> None:
    bridge, events, made = room
    listener = await hall_and_listener(
        bridge, made, [("interpretation.audio", "audio"), ("sign.video", "video")]
    )
    clients: dict[str, SyntheticSite] = {}
    for name, language, hz in (("lo-a", "lo", 660), ("en-a", "en", 880), ("sign-a", "vsl", 0)):
        camera = PatternTrack() if name == "sign-a" else None
        client = SyntheticSite(
            name, camera=camera, microphone=ToneTrack(hz or 500), slots=[("source.audio", "audio")]
        )
        made.append(client)
        clients[name] = client
        client.received["source.audio"].keep_samples = 50
        sdp, layout = await client.offer()
        await client.accept(await bridge.connect_interpreter(name, language, sdp, layout))
        bridge.interpreter_present(name, language, True)
        bridge.interpret("on_air", name, language)

    # A spoken-language booth may not publish video.
    with pytest.raises(RoomError) as refused:
        camera_offer = SyntheticSite("x", camera=PatternTrack(), microphone=ToneTrack(1000))
        made.append(camera_offer)
        sdp, layout = await camera_offer.offer()
        await bridge.connect_interpreter("lo-a", "lo", sdp, layout)
    assert refused.value.code == "bad_layout"

    # The English interpreter relays from Lao (auto), then chooses the floor itself.
    english = clients["en-a"]
    await until(lambda: len(english.received["source.audio"].samples) >= 10)
    await until(lambda: abs(tone(english, "source.audio") - 660) < 20)
    assert bridge.choose_booth_source("en-a", "en", "floor") == "floor"
    await until(lambda: abs(tone(english, "source.audio", 5) - 440) < 20)

    # Every site can pin the sign-language interpreter's video.
    await until(lambda: listener.received["sign.video"].frames >= 3)

    # The Lao interpreter's console closes: off air at once, listeners fall back to the floor.
    assert bridge.choose_language("2", "lo") == "booth"
    interpretation = listener.received["interpretation.audio"]
    await until(lambda: interpretation.frames >= 10)
    bridge.interpreter_present("lo-a", "lo", False)
    assert bridge.channels.interpretation.listener_hears("lo").kind == "floor"
    await asyncio.sleep(0.3)
    stopped = interpretation.frames
    await asyncio.sleep(0.4)
    assert interpretation.frames <= stopped + 2
    off = [e for e in events if e.type == "booth.off_air"]
    assert off[-1].data == {"language": "lo", "interpreter": "lo-a", "reason": "disconnected"}
    status = {row["language"]: row for row in bridge.channels.status()}
    assert status["lo"]["on_air"] is None and status["lo"]["listeners"] == 1
    assert status["en"]["on_air"] == "en-a" and status["en"]["level"] is not None
