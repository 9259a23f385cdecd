"""In-process subscribers (the recorder) routed by a room with real aiortc sites on loopback:
the programme follows the floor, a language channel carries its booth, removal stops packets.

What a subscriber gets is checked from the packets themselves: Opus decoded with PyAV and its
tone found by FFT, VP8 key frames' sizes read from their headers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import av
import numpy as np
import pytest
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RtpPacket

from recordings.rtp_frames import vp8_keyframe_size
from rooms.booths import BoothInfo
from rooms.room import BridgeRoom
from rooms.roster import RoomError, RoomEvent, SiteInfo
from rooms.subscriber import Subscriber
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack, dominant_frequency

SITES = {"1": SiteInfo("Quang Ngai hall", 0, True), "2": SiteInfo("Champasak hall", 1)}
BOOTHS = {"lo": BoothInfo("lo", frozenset({"vi"}), ("lo-a",))}
HALL, SPEAKER = (320, 180, 440.0), (256, 144, 550.0)
PROGRAMME = {"programme.video": "video", "programme.audio": "audio"}


async def until(condition: Callable[[], object], within: float = 8.0, what: str = "") -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > within:
            pytest.fail(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


@dataclass
class Heard:
    """What a subscriber's slots delivered: packets, decoded audio, key frame sizes."""

    packets: dict[str, int] = field(default_factory=dict)
    audio: dict[str, list[np.ndarray]] = field(default_factory=dict)
    keyframes: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    decoders: dict[str, av.AudioCodecContext] = field(default_factory=dict)
    sequence: dict[str, list[int]] = field(default_factory=dict)

    def __call__(self, slot: str, packet: RtpPacket) -> None:
        self.packets[slot] = self.packets.get(slot, 0) + 1
        self.sequence.setdefault(slot, []).append(packet.sequence_number)
        if slot.endswith(".audio"):
            decoder = self.decoders.setdefault(slot, av.CodecContext.create("opus", "r"))
            for frame in decoder.decode(av.Packet(packet.payload)):
                array = frame.to_ndarray()
                if not frame.format.is_planar:
                    array = array.reshape(-1, len(frame.layout.channels)).T
                self.audio.setdefault(slot, []).append(array[0])
                del self.audio[slot][:-25]
        else:
            _, data = VpxPayloadDescriptor.parse(packet.payload)
            size = vp8_keyframe_size(data)
            if size is not None:
                self.keyframes.setdefault(slot, []).append(size)

    def tone(self, slot: str, frames: int = 10) -> float:
        recent = self.audio.get(slot, [])[-frames:]
        return dominant_frequency(np.concatenate(recent)) if len(recent) == frames else 0.0

    def last_keyframe(self, slot: str) -> tuple[int, int] | None:
        return self.keyframes.get(slot, [None])[-1]


@pytest.fixture
def events() -> list[RoomEvent]:
    return []


@pytest.fixture
async def room(events: list[RoomEvent]) -> AsyncIterator[BridgeRoom]:
    bridge = BridgeRoom(
        "subscribed", SITES, ice_addresses=["127.0.0.1"], on_event=events.append, booths=BOOTHS
    )
    bridge.start()
    clients: list[SyntheticSite] = []
    bridge.set_floor_language("vi")
    for site_id, (width, height, hz) in (("1", HALL), ("2", SPEAKER)):
        bridge.arrive(site_id)
        bridge.admit(site_id)
        client = SyntheticSite(
            site_id, camera=PatternTrack(width, height, 30), microphone=ToneTrack(hz)
        )
        clients.append(client)
        sdp, layout = await client.offer()
        await client.accept(await bridge.connect_site(site_id, sdp, layout))
    interpreter = SyntheticSite("lo-a", microphone=ToneTrack(660))
    clients.append(interpreter)
    sdp, layout = await interpreter.offer()
    await interpreter.accept(await bridge.connect_interpreter("lo-a", "lo", sdp, layout))
    bridge.interpreter_present("lo-a", "lo", True)
    bridge.interpret("on_air", "lo-a", "lo")
    yield bridge
    for client in clients:
        await client.close()
    await bridge.close()


def tone_is(heard: Heard, slot: str, hz: float) -> Callable[[], bool]:
    return lambda: abs(heard.tone(slot) - hz) < 10


async def test_the_programme_follows_the_floor_holder_and_falls_back_to_the_hall(
    room: BridgeRoom,
) -> None:
    heard = Heard()
    subscriber = Subscriber("recorder", PROGRAMME, heard)
    room.add_subscriber(subscriber)
    assert set(room.routes()) >= set(PROGRAMME)

    await until(tone_is(heard, "programme.audio", 440), what="the hall's voice")
    await until(lambda: heard.last_keyframe("programme.video") == HALL[:2], what="hall picture")

    room.grant_floor("2")
    await until(tone_is(heard, "programme.audio", 550), 3, "the floor holder's voice")
    await until(lambda: heard.last_keyframe("programme.video") == SPEAKER[:2], 3, "its camera")

    room.mute("2", True)  # a muted floor holder: the programme's sound is the hall's again
    await until(tone_is(heard, "programme.audio", 440), 3, "the hall's voice when muted")
    assert heard.last_keyframe("programme.video") == SPEAKER[:2]
    room.mute("2", False)
    await until(tone_is(heard, "programme.audio", 550), 3, "unmuted")

    room.release_floor()
    await until(tone_is(heard, "programme.audio", 440), 3, "the hall after the floor")
    await until(lambda: heard.last_keyframe("programme.video") == HALL[:2], 3, "the hall")

    # The slot renumbers: one sequence across four switches, no jumps back or forward.
    numbers = np.array(heard.sequence["programme.audio"], dtype=np.int64)
    steps = np.diff(numbers) % 65536
    assert np.count_nonzero(steps != 1) <= 3, "at most a rare loss on loopback"

    # A key frame asked for by the subscriber comes.
    before = len(heard.keyframes["programme.video"])
    await asyncio.sleep(0.6)  # past the source's rate limit
    subscriber.request_keyframe("programme.video")
    await until(lambda: len(heard.keyframes["programme.video"]) > before, 3, "a key frame")
    with pytest.raises(KeyError):
        subscriber.request_keyframe("floor.video")


async def test_a_removed_subscriber_stops_receiving_and_closes_twice(room: BridgeRoom) -> None:
    heard = Heard()
    subscriber = Subscriber("recorder", PROGRAMME, heard)
    room.add_subscriber(subscriber)
    await until(lambda: heard.packets.get("programme.audio", 0) > 20, what="packets")
    hall_audio = room.routes()["hall.audio"]
    assert hall_audio is not None

    await room.remove_subscriber("recorder")
    assert subscriber.closed and "recorder" not in room.subscribers
    assert all(slot.source is None for slot in subscriber.slots.values())
    assert not any(slot.site_id == "recorder" for slot in hall_audio.slots)
    count = dict(heard.packets)
    await asyncio.sleep(0.5)
    assert heard.packets == count, "nothing after removal"
    subscriber.close()  # again: harmless

    with pytest.raises(RoomError) as unknown:
        await room.remove_subscriber("recorder")
    assert unknown.value.code == "unknown_member"
    for member, slots, code in (
        ("1", PROGRAMME, "duplicate_member"),  # a site's id
        ("lo-a", PROGRAMME, "duplicate_member"),  # an interpreter's
        ("x", {"grid.0.video": "video"}, "bad_layout"),
        ("x", {"programme.video": "audio"}, "bad_layout"),
    ):
        with pytest.raises(RoomError) as refused:
            room.add_subscriber(Subscriber(member, slots, heard))
        assert refused.value.code == code
        assert member not in room.subscribers
    with pytest.raises(ValueError, match="'audio' or 'video'"):
        Subscriber("x", {"programme.video": "camera"}, heard)
    with pytest.raises(ValueError, match="at least one slot"):
        Subscriber("x", {}, heard)


async def test_a_subscribers_language_is_its_booth_and_not_counted_as_a_listener(
    room: BridgeRoom, events: list[RoomEvent]
) -> None:
    heard = Heard()
    subscriber = Subscriber("recorder-lo", {"interpretation.audio": "audio"}, heard)
    room.add_subscriber(subscriber)
    assert room.choose_language("recorder-lo", "lo") == "booth"
    await until(tone_is(heard, "interpretation.audio", 660), what="the Lao booth")
    room.choose_language("2", "lo")  # a site listening counts; the recorder does not
    status = {row["language"]: row for row in room.channels.status()}
    assert status["lo"]["listeners"] == 1
    booths = {b["language"]: b for b in room.snapshot()["interpretation"]["booths"]}
    assert booths["lo"]["listeners"] == 1
    chosen = [(e.site_id, e.data) for e in events if e.type == "listener.language"]
    assert chosen == [("2", {"language": "lo"})], "the recorder's choice is not reported"

    room.interpret("off_air", "lo-a", "lo")  # nobody on air: the channel carries nothing
    await asyncio.sleep(0.3)
    count = heard.packets["interpretation.audio"]
    await asyncio.sleep(0.4)
    assert heard.packets["interpretation.audio"] <= count + 1

    await room.remove_subscriber("recorder-lo")
    assert "recorder-lo" not in room.channels.languages
