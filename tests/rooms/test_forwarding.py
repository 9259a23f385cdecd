"""Forwarding encoded RTP between real aiortc peers on loopback: fan-out, no codecs on the
bridge, late joiners, floor switches, keyframe-request rate limiting, slot continuity."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from typing import Any

import numpy as np
import pytest
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Decoder, Encoder
from aiortc.rtcrtpreceiver import RemoteStreamTrack, decoder_worker
from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket

from rooms.forwarding import KEYFRAME_REQUEST_INTERVAL
from rooms.rtp import is_vp8_keyframe
from rooms.synthetic import dominant_frequency
from tests.rooms.conftest import (
    FLOOR_SLOTS,
    HALL_SLOTS,
    Bridge,
    Joined,
    camera,
    observe_rtcp,
    observe_rtp,
    private,
    show,
    tone,
    until,
)

OPUS_FRAME = 960  # samples per channel in the 20 ms frames aiortc's Opus decoder returns


def decode_errors(caplog: pytest.LogCaptureFixture, since: float = 0.0) -> list[str]:
    """The sites' decoder warnings logged since ``since`` (a ``time.time()`` value)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "aiortc.rtcrtpreceiver"
        and "failed to decode" in r.getMessage()
        and r.created >= since
    ]


def tone_of(samples: list[np.ndarray]) -> float:
    """Dominant frequency of decoded audio frames, one channel or interleaved stereo (aiortc's
    Opus decoder returns packed stereo; rooms.synthetic keeps the first channel since 1b04f40)."""
    data = np.concatenate(samples)
    channels = max(1, len(samples[0]) // OPUS_FRAME)
    return dominant_frequency(data[::channels])


def observe_frames(joined: Joined, slot: str) -> list[tuple[float, int, int]]:
    """(time, width, height) of every decoded frame the client's track for ``slot`` yields."""
    track = joined.client_transceiver(slot).receiver.track
    seen: list[tuple[float, int, int]] = []
    original = track.recv

    async def recv() -> Any:
        frame = await original()
        seen.append((time.monotonic(), frame.width, frame.height))
        return frame

    track.recv = recv
    return seen


# --- (a) fan-out ------------------------------------------------------------------------------


async def test_main_hall_reaches_eight_sites_at_full_frame_rate_with_continuous_audio(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiortc.rtcrtpreceiver")
    fps = 30
    hall_camera = camera(fps=fps)
    hall_microphone = tone(440)
    hall = await bridge.join("hall", camera=hall_camera, microphone=hall_microphone)
    feeds = {"hall.video": (hall, "camera"), "hall.audio": (hall, "microphone")}
    sites = await bridge.subscribe([f"site{i}" for i in range(8)], HALL_SLOTS, feeds)
    video = [s.client.received["hall.video"] for s in sites]
    audio = [s.client.received["hall.audio"] for s in sites]
    await until(lambda: all(r.frames > 0 for r in video + audio), 3, what="media at all sites")

    # Measure over a fixed window, watching for any gap in the audio. (Join-time decoder
    # errors are the subject of test_a_late_joining_site_gets_the_key_frame_requested_for_it.)
    await until(lambda: all(r.frames > 5 for r in video), 2, what="steady video")
    window_opened = time.time()
    start = time.monotonic()
    frames_v, frames_a = [r.frames for r in video], [r.frames for r in audio]
    made_v, made_a = hall_camera.made, hall_microphone.made
    longest_gap = 0.0
    while time.monotonic() - start < 3.0:
        await asyncio.sleep(0.02)
        now = time.monotonic()
        longest_gap = max(longest_gap, *(now - (r.last_at or now) for r in audio))
    elapsed = time.monotonic() - start
    rates_v = [(r.frames - f) / elapsed for r, f in zip(video, frames_v, strict=True)]
    rates_a = [(r.frames - f) / elapsed for r, f in zip(audio, frames_a, strict=True)]

    # Against what the hall's camera and microphone made in the same window (on a loaded
    # machine a synthetic track catches up in bursts: 50 video or 97 audio frames a second for
    # a while): every site gets all of it, and the tracks kept up with their rates.
    sent_v = (hall_camera.made - made_v) / elapsed
    sent_a = (hall_microphone.made - made_a) / elapsed
    assert sent_v >= 0.85 * fps and sent_a >= 0.85 * 50, (sent_v, sent_a)
    assert all(abs(rate - sent_v) <= 0.15 * sent_v for rate in rates_v), (rates_v, sent_v)
    assert all(abs(rate - sent_a) <= 0.15 * sent_a for rate in rates_a), (rates_a, sent_a)
    assert longest_gap < 0.2, f"an audio gap of {longest_gap:.3f} s"
    assert decode_errors(caplog, since=window_opened) == []
    for site in sites:
        for slot in ("hall.video", "hall.audio"):
            stats = await site.client_transceiver(slot).receiver.getStats()
            inbound = [s for s in stats.values() if s.type == "inbound-rtp"]
            assert inbound and inbound[0].packetsLost == 0, (site.name, slot)


# --- (b) no decoder or encoder on the bridge ------------------------------------------------


def _codec_classes() -> set[type[Decoder] | type[Encoder]]:
    found: set[type[Decoder] | type[Encoder]] = set()
    pending: list[type[Decoder] | type[Encoder]] = [Decoder, Encoder]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _owner(frame: Any) -> Any:
    """The RTCRtpSender/RTCRtpReceiver (or decoder thread queues) a codec is built for."""
    while frame is not None:
        me = frame.f_locals.get("self")
        if isinstance(me, (RTCRtpSender, RTCRtpReceiver)):
            return me
        if frame.f_code is decoder_worker.__code__:
            return ("decoder_worker", frame.f_locals["input_q"], frame.f_locals["output_q"])
        frame = frame.f_back
    return None


async def test_the_bridge_never_constructs_a_decoder_or_encoder(
    bridge: Bridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every codec object built in this process (the synthetic sites legitimately encode and
    decode) is traced to the RTCRtpSender/RTCRtpReceiver it was built for: none is the bridge's."""
    built: list[tuple[str, Any]] = []
    classes = _codec_classes()
    assert {"Vp8Decoder", "Vp8Encoder", "OpusDecoder", "OpusEncoder"} <= {
        c.__name__ for c in classes
    }
    for cls in classes:
        original = cls.__init__

        def init(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> None:
            built.append((type(self).__name__, _owner(sys._getframe(1))))
            __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)

    hall = await bridge.join("hall", camera=camera(fps=30), microphone=tone(440))
    speaker = await bridge.join("speaker", camera=camera(fps=30), microphone=tone(880))
    feeds = {
        "hall.video": (hall, "camera"),
        "hall.audio": (hall, "microphone"),
        "floor.video": (speaker, "camera"),
        "floor.audio": (speaker, "microphone"),
    }
    sites = await bridge.subscribe(["site0", "site1"], HALL_SLOTS + FLOOR_SLOTS, feeds)
    await until(
        lambda: all(r.frames > 20 for s in sites for r in s.client.received.values()),
        5,
        what="media decoded at the sites",
    )
    for site in sites:  # switching sources (floor changes) builds nothing either
        show(site, "floor.video", hall, "camera")
        show(site, "floor.audio", hall, "microphone")
    await until(
        lambda: all(
            s.peer.slots["floor.video"].source is hall.peer.sources["camera"] for s in sites
        ),
        2,
        what="floor switched",
    )

    bridge_side: dict[int, str] = {}
    client_side: dict[int, str] = {}
    for joined in bridge.sites:
        for pcs, into in ((joined.peer.pc, bridge_side), (joined.client.pc, client_side)):
            for t in pcs.getTransceivers():
                into[id(t.sender)] = f"{joined.name} sender {t.kind}"
                into[id(t.receiver)] = f"{joined.name} receiver {t.kind}"
                into[id(private(t.receiver, RTCRtpReceiver, "decoder_queue"))] = (
                    f"{joined.name} decoder"
                )
                track = t.receiver.track
                if track is not None:
                    assert isinstance(track, RemoteStreamTrack)
                    into[id(track._queue)] = f"{joined.name} decoder"

    def who(owner: Any) -> tuple[str | None, str | None]:
        keys = [id(o) for o in owner[1:]] if isinstance(owner, tuple) else [id(owner)]
        return (
            next((bridge_side[k] for k in keys if k in bridge_side), None),
            next((client_side[k] for k in keys if k in client_side), None),
        )

    attributed = [(name, *who(owner)) for name, owner in built]
    on_bridge = [(name, b) for name, b, _ in attributed if b is not None]
    unknown = [name for name, b, c in attributed if b is None and c is None]
    assert on_bridge == [], on_bridge
    assert unknown == [], f"codecs built for no known sender/receiver: {unknown}"
    # The tracing works: the sites' own codecs were seen and attributed to them.
    by_client = {(name, c) for name, _, c in attributed}
    assert ("Vp8Encoder", "hall sender video") in by_client
    assert ("OpusEncoder", "speaker sender audio") in by_client
    assert {c for name, c in by_client if name == "Vp8Decoder"} >= {
        "site0 decoder",
        "site1 decoder",
    }
    assert {c for name, c in by_client if name == "OpusDecoder"} >= {
        "site0 decoder",
        "site1 decoder",
    }
    # And the bridge's codec slots are empty: no encoder held, no decoder thread running.
    for joined in bridge.sites:
        for t in joined.peer.pc.getTransceivers():
            assert private(t.sender, RTCRtpSender, "encoder") is None
            assert private(t.receiver, RTCRtpReceiver, "decoder_thread") is None


# --- (c) late joiner --------------------------------------------------------------------------


@pytest.mark.parametrize("switch_at", ["connected", "answer"])
async def test_a_late_joining_site_decodes_within_one_second_of_connecting(
    bridge: Bridge, switch_at: str
) -> None:
    """The late site's slots switch when its connection is up (as Room does) or already when
    its answer is out (Room re-routes every site on any change, so that happens too), the
    answer then taking 0.2 s to reach the site, as through socket.io."""
    hall = await bridge.join("hall", camera=camera(fps=30), microphone=tone(440))
    feeds = {"hall.video": (hall, "camera"), "hall.audio": (hall, "microphone")}
    early = await bridge.subscribe(["early0", "early1"], HALL_SLOTS, feeds)
    await until(
        lambda: all(s.client.received["hall.video"].frames > 30 for s in early),
        5,
        what="the room running",
    )
    keyframes = hall.peer.sources["camera"].keyframes

    (late,) = await bridge.subscribe(
        ["late"], HALL_SLOTS, feeds, switch_at=switch_at, signalling_delay=0.2
    )
    video, audio = late.client.received["hall.video"], late.client.received["hall.audio"]
    await until(lambda: video.frames > 0 and audio.frames > 0, 3, what="the late site's media")
    connected = late.connected_at
    assert connected is not None and video.first_at is not None and audio.first_at is not None
    video_after, audio_after = video.first_at - connected, audio.first_at - connected
    assert video_after < 1.0, f"first video frame {video_after:.3f} s after connecting"
    assert audio_after < 1.0, f"first audio frame {audio_after:.3f} s after connecting"
    # It got a fresh key frame rather than waiting for the encoder's next periodic one.
    assert hall.peer.sources["camera"].keyframes > keyframes


async def test_a_late_joining_site_starts_at_the_key_frame_requested_for_it(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiortc.rtcrtpreceiver")
    hall = await bridge.join("hall", camera=camera(fps=30))
    await until(lambda: hall.peer.sources["camera"].packets > 30, 3, what="the hall running")
    joining = time.time()
    observed: dict[str, list[Any]] = {}

    def answered(late: Joined) -> None:
        observed["rtp"] = observe_rtp(late.client_transceiver("hall.video").receiver)
        show(late, "hall.video", hall, "camera")  # routed as soon as the answer is out

    late = await bridge.join(
        "late",
        slots=(("hall.video", "video"),),
        wait=False,
        on_answer=answered,
        signalling_delay=0.2,  # the answer's way back to the site, as through socket.io
    )
    await bridge.connected(late)
    seen = observed["rtp"]
    video = late.client.received["hall.video"]
    await until(lambda: video.frames > 0, 2, what="the late site's video")
    assert late.connected_at is not None and video.first_at is not None
    # The first packet the site gets starts a key frame, so nothing fails to decode...
    assert is_vp8_keyframe(seen[0].payload)
    assert decode_errors(caplog, since=joining) == []
    # ...and the picture comes a round trip and a frame after connecting, not a
    # keyframe-request interval later.
    assert video.first_at - late.connected_at < KEYFRAME_REQUEST_INTERVAL / 2


# --- (d) floor switch -------------------------------------------------------------------------


async def test_floor_switches_from_site_a_to_site_b_everywhere_within_one_second(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aiortc.rtcrtpreceiver")
    # A and B differ in picture size and tone, so what each site shows can be told apart.
    a = await bridge.join("a", camera=camera(320, 180, fps=30), microphone=tone(440))
    b = await bridge.join("b", camera=camera(256, 144, fps=30, hue=128), microphone=tone(880))
    feeds = {"floor.video": (a, "camera"), "floor.audio": (a, "microphone")}
    viewers = await bridge.subscribe([f"site{i}" for i in range(4)], FLOOR_SLOTS, feeds)
    frames = {v.name: observe_frames(v, "floor.video") for v in viewers}
    audio = {v.name: v.client.received["floor.audio"] for v in viewers}
    for received in audio.values():
        received.keep_samples = 5

    def showing(size: tuple[int, int], hz: float, since: float) -> bool:
        return all(
            any(t >= since and (w, h) == size for t, w, h in frames[v.name])
            and len(audio[v.name].samples) >= 5
            and abs(tone_of(audio[v.name].samples) - hz) < 20
            for v in viewers
        )

    await until(lambda: showing((320, 180), 440, 0), 3, what="every site showing A")
    before = {v.name: len(frames[v.name]) for v in viewers}

    switched_at, switched_wall = time.monotonic(), time.time()
    for viewer in viewers:
        show(viewer, "floor.video", b, "camera")
        show(viewer, "floor.audio", b, "microphone")
        audio[viewer.name].samples.clear()
    took = await until(
        lambda: showing((256, 144), 880, switched_at), 1.0, what="every site showing B"
    )
    assert took < 1.0
    for viewer in viewers:
        # Nothing of A after B's first frame: the switch happened at B's key frame, cleanly.
        sizes = [(w, h) for t, w, h in frames[viewer.name] if t >= switched_at]
        first_b = sizes.index((256, 144))
        assert set(sizes[first_b:]) == {(256, 144)}
        assert len(frames[viewer.name]) > before[viewer.name]

    # Video keeps flowing from B, and no site's decoder complained about the switch.
    counts = {v.name: len(frames[v.name]) for v in viewers}
    await until(
        lambda: all(len(frames[v.name]) >= counts[v.name] + 10 for v in viewers),
        1.0,
        what="B's video continuing",
    )
    assert decode_errors(caplog, since=switched_wall) == []


# --- (e) keyframe requests are rate limited ---------------------------------------------------


async def test_keyframe_requests_reach_the_publisher_at_most_at_the_rate_limit(
    bridge: Bridge,
) -> None:
    hall = await bridge.join("hall", camera=camera(fps=30))
    at_publisher: list[float] = []

    def pli(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            at_publisher.append(time.monotonic())

    observe_rtcp(hall.client_transceiver("camera").sender, pli)
    feeds = {"hall.video": (hall, "camera")}
    sites = await bridge.subscribe(
        [f"site{i}" for i in range(5)], (("hall.video", "video"),), feeds
    )
    await until(
        lambda: all(s.client.received["hall.video"].frames > 5 for s in sites), 3, what="video"
    )
    source = hall.peer.sources["camera"]
    receivers = [s.client_transceiver("hall.video").receiver for s in sites]
    ssrcs = [s.peer.slots["hall.video"].sender.ssrc for s in sites]

    start = time.monotonic()
    requests, keyframes, seen = source.keyframe_requests_sent, source.keyframes, len(at_publisher)
    for _ in range(20):  # 5 sites x 20 PLIs within 2 s
        await asyncio.gather(
            *(r._send_rtcp_pli(ssrc) for r, ssrc in zip(receivers, ssrcs, strict=True))
        )
        await asyncio.sleep(0.1)
    spam_end = time.monotonic()
    # A request held back by the limit goes out at most one interval after the last PLI.
    await until(
        lambda: time.monotonic() - spam_end > KEYFRAME_REQUEST_INTERVAL + 0.1,
        2,
        what="the last deferred request",
    )
    duration = time.monotonic() - start
    sent = source.keyframe_requests_sent - requests
    received = at_publisher[seen:]

    limit = duration / KEYFRAME_REQUEST_INTERVAL + 1
    assert sent <= limit, (sent, duration)
    assert len(received) <= limit, (received, duration)
    assert sent >= (spam_end - start) / KEYFRAME_REQUEST_INTERVAL - 1, "requests were forwarded"
    gaps = np.diff(received)
    assert (gaps >= KEYFRAME_REQUEST_INTERVAL - 0.05).all(), gaps
    await until(
        lambda: source.keyframes >= keyframes + sent - 1, 1, what="key frames for the requests"
    )


# --- (f) a switch keeps the slot's SSRC and numbering -----------------------------------------


class _PayloadSet:
    """The payloads among observed packets, looked up lazily (the list keeps growing)."""

    def __init__(self, seen: list[Any]) -> None:
        self._seen = seen

    def __contains__(self, payload: object) -> bool:
        return any(p.payload == payload for p in self._seen)


def _forward_diffs(values: list[int], modulo: int) -> list[int]:
    return [(b - a) % modulo for a, b in itertools.pairwise(values)]


async def test_switching_keeps_the_slot_ssrc_and_continues_sequence_numbers(
    bridge: Bridge,
) -> None:
    a = await bridge.join("a", camera=camera(fps=30), microphone=tone(440))
    b = await bridge.join("b", camera=camera(fps=30), microphone=tone(880))
    feeds = {"floor.video": (a, "camera"), "floor.audio": (a, "microphone")}
    (viewer,) = await bridge.subscribe(["viewer"], FLOOR_SLOTS, feeds)
    audio_rx = viewer.client_transceiver("floor.audio").receiver
    video_rx = viewer.client_transceiver("floor.video").receiver
    audio_seen, video_seen = observe_rtp(audio_rx), observe_rtp(video_rx)
    # What reaches the bridge from A and from B (observed in front of the bridge's tap).
    from_a: dict[str, _PayloadSet] = {}
    from_b: dict[str, _PayloadSet] = {}
    for publisher, into in ((a, from_a), (b, from_b)):
        for t in publisher.server_transceivers():
            into[t.kind] = _PayloadSet(observe_rtp(t.receiver))
    received = viewer.client.received["floor.audio"]
    received.keep_samples = 5
    remote_sdp = viewer.client.pc.remoteDescription.sdp
    await until(lambda: len(audio_seen) > 25 and len(video_seen) > 25, 3, what="media")
    await until(
        lambda: len(received.samples) >= 5 and abs(tone_of(received.samples) - 440) < 20,
        1,
        what="A's tone",
    )

    switched = len(audio_seen), len(video_seen)
    show(viewer, "floor.audio", b, "microphone")
    show(viewer, "floor.video", b, "camera")
    received.samples.clear()
    await until(
        lambda: (
            len(audio_seen) > switched[0] + 25
            and viewer.peer.slots["floor.video"].source is b.peer.sources["camera"]
            and len(video_seen) > switched[1] + 25
        ),
        2,
        what="media from B",
    )
    await until(
        lambda: len(received.samples) >= 5 and abs(tone_of(received.samples) - 880) < 20,
        1,
        what="B's tone",
    )

    for seen, slot in ((audio_seen, "floor.audio"), (video_seen, "floor.video")):
        ssrc = viewer.peer.slots[slot].sender.ssrc
        assert {p.ssrc for p in seen} == {ssrc}, slot  # one SSRC, no RTX, no new stream
        assert set(_forward_diffs([p.sequence_number for p in seen], 1 << 16)) == {1}, slot
        # Timestamps only move forward, by less than a second at the switch.
        steps = _forward_diffs([p.timestamp for p in seen], 1 << 32)
        clock = 48000 if slot == "floor.audio" else 90000
        assert all(step < clock for step in steps), (slot, max(steps))
    # Audio keeps its level header extension across the switch (RFC 6464, forwarded as is).
    assert all(p.audio_level is not None for p in audio_seen)
    # Content: A's packets, then B's, with one clean cut; video cuts at a key frame of B.
    for seen, kind in ((audio_seen, "audio"), (video_seen, "video")):
        origin = [
            "a" if p.payload in from_a[kind] else "b" if p.payload in from_b[kind] else "?"
            for p in seen
        ]
        cut = origin.index("b")
        assert origin == ["a"] * cut + ["b"] * (len(origin) - cut), (kind, origin)
        assert cut >= switched[0 if kind == "audio" else 1] - 1
        if kind == "video":
            assert is_vp8_keyframe(seen[cut].payload)
    # No renegotiation.
    assert viewer.client.pc.remoteDescription.sdp == remote_sdp
    assert viewer.client.pc.signalingState == "stable"
    assert viewer.peer.pc.signalingState == "stable"


# --- a switch back before the new source's key frame -----------------------------------------


async def test_switching_back_before_the_key_frame_keeps_showing_the_current_source(
    bridge: Bridge,
) -> None:
    a = await bridge.join("a", camera=camera(fps=30))
    b = await bridge.join("b", camera=camera(fps=30))
    (viewer,) = await bridge.subscribe(
        ["viewer"], (("floor.video", "video"),), {"floor.video": (a, "camera")}
    )
    video = viewer.client.received["floor.video"]
    await until(lambda: video.frames > 5, 3, what="A's video")
    show(viewer, "floor.video", b, "camera")
    show(viewer, "floor.video", a, "camera")  # changed one's mind within a frame
    # Even if A's key frame takes a request interval to come, video resumes well within 1.5 s.
    count = video.frames
    await until(lambda: video.frames > count + 15, 1.5, what="A's video after switching back")
    slot = viewer.peer.slots["floor.video"]
    assert slot.source is a.peer.sources["camera"]
    assert slot in a.peer.sources["camera"].slots
