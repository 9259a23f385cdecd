"""The recorder's core on real media: RTP captured from aiortc peers on loopback (a synthetic
site's test pattern and tones, VP8 and Opus as its encoders made them), written to files by
``recordings.containers`` and read back with PyAV's demuxers and decoders.

The capture runs once per module (about 5 s of media); each test replays it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCRtpSender, RTCSessionDescription
from aiortc.rtp import RtpPacket

from recordings.containers import ContainerWriter, TrackWriter
from recordings.rtp_frames import ReorderBuffer, vp8_keyframe_size
from rooms import aiortc_hooks as hooks
from rooms.rtp import is_vp8_keyframe
from rooms.synthetic import PatternTrack, ToneTrack, dominant_frequency

WIDTH, HEIGHT, FPS = 320, 180, 30
TONES = {"audio": 440.0, "audio2": 880.0}
CAPTURE_SECONDS = 5.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Captured:
    """One RTP packet as the receiver's tap got it (after RTX unwrapping)."""

    kind: str  # "video", "audio" (440 Hz) or "audio2" (880 Hz)
    at: float  # monotonic arrival time
    payload_type: int
    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes

    def packet(self) -> RtpPacket:
        return RtpPacket(
            self.payload_type, self.marker, self.sequence_number, self.timestamp, 1, self.payload
        )


async def capture(seconds: float) -> list[Captured]:
    """Connect a publishing peer (pattern + two tones) to a tapped receiving peer."""
    sender, receiver = hooks.new_peer_connection(), hooks.new_peer_connection()
    captured: list[Captured] = []
    ssrcs: dict[str, int] = {}
    tracks = {
        "video": PatternTrack(WIDTH, HEIGHT, FPS),
        "audio": ToneTrack(TONES["audio"]),
        "audio2": ToneTrack(TONES["audio2"]),
    }
    try:
        for track in tracks.values():
            transceiver = sender.addTransceiver(track, direction="sendonly")
            wanted = "video/vp8" if track.kind == "video" else "audio/opus"
            codecs = [
                c
                for c in RTCRtpSender.getCapabilities(track.kind).codecs
                if c.mimeType.lower() == wanted or c.mimeType.lower().endswith("/rtx")
            ]
            transceiver.setCodecPreferences(codecs)
        hooks.restrict_ice_addresses(sender, ["127.0.0.1"])
        await sender.setLocalDescription(await sender.createOffer())
        names = dict(zip((t.mid for t in sender.getTransceivers()), tracks, strict=True))
        await receiver.setRemoteDescription(sender.localDescription)
        for transceiver in receiver.getTransceivers():
            kind = names[transceiver.mid]

            async def tap(packet: RtpPacket, kind: str = kind) -> None:
                ssrcs.setdefault(kind, packet.ssrc)
                captured.append(
                    Captured(
                        kind,
                        time.monotonic(),
                        packet.payload_type,
                        packet.sequence_number,
                        packet.timestamp,
                        packet.marker,
                        bytes(packet.payload),
                    )
                )

            hooks.tap_receiver(transceiver.receiver, tap)
        hooks.restrict_ice_addresses(receiver, ["127.0.0.1"])
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(
            RTCSessionDescription(receiver.localDescription.sdp, "answer")
        )
        deadline = time.monotonic() + 20
        asked = False
        while not captured or captured[-1].at - captured[0].at < seconds:
            assert time.monotonic() < deadline, "no media within 20 s"
            if not asked and captured and captured[-1].at - captured[0].at > seconds / 2:
                asked = True  # a second key frame mid-way (a late joiner starts there)
                video = next(t for t in receiver.getTransceivers() if t.kind == "video")
                await hooks.request_keyframe(video.receiver, ssrcs["video"])
            await asyncio.sleep(0.05)
    finally:
        await sender.close()
        await receiver.close()
    start = captured[0].at
    return [c for c in captured if c.at - start <= seconds]


@pytest.fixture(scope="module")
def packets() -> list[Captured]:
    return asyncio.run(capture(CAPTURE_SECONDS))


def feed(recording: ContainerWriter, packets: list[Captured], audio: str = "audio") -> None:
    for captured in packets:
        track: TrackWriter | None
        if captured.kind == "video":
            track = recording.video
        else:
            track = recording.audio if captured.kind == audio else None
        if track is not None:
            track.push(captured.packet(), arrival=captured.at)


def decode(path: Path) -> tuple[list[av.VideoFrame], np.ndarray]:
    """Every video frame, and the first channel of all audio, decoded with PyAV."""
    frames: list[av.VideoFrame] = []
    samples: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for packet in container.demux():
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    frames.append(frame)
                elif isinstance(frame, av.AudioFrame):
                    array = frame.to_ndarray()
                    if not frame.format.is_planar:
                        array = array.reshape(-1, len(frame.layout.channels)).T
                    samples.append(array[0])
    audio = np.concatenate(samples) if samples else np.zeros(0)
    return frames, audio


def media_seconds(packets: list[Captured], kind: str) -> float:
    times = [c.at for c in packets if c.kind == kind]
    return times[-1] - times[0]


def check_programme(path: Path, packets: list[Captured]) -> tuple[int, int]:
    frames, audio = decode(path)
    seconds = media_seconds(packets, "video")
    assert abs(len(frames) - seconds * FPS) <= 0.1 * seconds * FPS + 3, len(frames)
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    assert abs(len(audio) / 48000 - media_seconds(packets, "audio")) < 0.3
    assert abs(dominant_frequency(audio[-48000:]) - TONES["audio"]) < 5
    return len(frames), len(audio)


def test_programme_webm_decodes_to_the_pattern_and_tone(
    packets: list[Captured], tmp_path: Path
) -> None:
    recording = ContainerWriter.programme(tmp_path / "floor.webm")
    feed(recording, packets)
    recording.close()
    recording.close()  # twice is harmless
    with av.open(str(recording.path)) as container:
        assert container.format.name.startswith("matroska")
        kinds = sorted((s.type, s.codec_context.name) for s in container.streams)
        assert kinds == [("audio", "opus"), ("video", "vp8")]
        assert container.duration is not None  # the trailer wrote the duration
        assert abs(container.duration / 1e6 - CAPTURE_SECONDS) < 0.5
    check_programme(recording.path, packets)
    assert recording.video is not None and recording.audio is not None
    assert recording.video.counts.lost == recording.video.counts.late == 0
    digest = recording.sha256()
    assert len(digest) == 64 and digest == recording.sha256()


@pytest.mark.parametrize("name", ["hall-vi.ogg", "hall-lo.webm"])
def test_language_channel_carries_its_own_tone(
    packets: list[Captured], tmp_path: Path, name: str
) -> None:
    recording = ContainerWriter.channel(tmp_path / name)
    feed(recording, packets, audio="audio2")
    recording.close()
    with av.open(str(recording.path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        assert container.streams.audio[0].codec_context.name == "opus"
    frames, audio = decode(recording.path)
    assert not frames
    assert abs(len(audio) / 48000 - media_seconds(packets, "audio2")) < 0.3
    assert abs(dominant_frequency(audio[-48000:]) - TONES["audio2"]) < 5


def shuffled(packets: list[Captured], window: int, seed: int) -> list[Captured]:
    """Each kind's packets shuffled within consecutive windows, kinds interleaved as before."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Captured]] = {}
    for captured in packets:
        by_kind.setdefault(captured.kind, []).append(captured)
    mixed: dict[str, Iterator[Captured]] = {}
    for kind, items in by_kind.items():
        out: list[Captured] = []
        for start in range(0, len(items), window):
            chunk = items[start : start + window]
            rng.shuffle(chunk)
            out += chunk
        mixed[kind] = iter(out)
    return [next(mixed[c.kind]) for c in packets]  # arrival times stay those of the slot


def test_reordered_and_duplicated_packets_give_the_same_recording(
    packets: list[Captured], tmp_path: Path
) -> None:
    straight = ContainerWriter.programme(tmp_path / "straight.webm")
    feed(straight, packets)
    straight.close()
    messy = shuffled([c for c in packets if c.kind in ("video", "audio")], window=6, seed=7)
    messy.insert(len(messy) // 2, messy[len(messy) // 3])  # a duplicate, long after
    messy.insert(100, messy[101])  # and one right next to its original
    # The arrival times of the first packets decide the time line: keep them in place.
    reordered = ContainerWriter.programme(tmp_path / "reordered.webm")
    feed(reordered, messy)
    reordered.close()
    assert reordered.video is not None and reordered.audio is not None
    counts = [reordered.video.counts, reordered.audio.counts]
    assert sum(c.duplicates for c in counts) == 2
    assert sum(c.late + c.lost for c in counts) == 0
    assert check_programme(reordered.path, packets) == check_programme(straight.path, packets)
    assert decode(reordered.path)[1].tobytes() == decode(straight.path)[1].tobytes()


def test_a_very_late_packet_is_dropped_and_counted(packets: list[Captured], tmp_path: Path) -> None:
    audio = [c for c in packets if c.kind == "audio"]
    held = audio.pop(50)
    audio.insert(150, held)  # two seconds late: its place was given up long before
    recording = ContainerWriter.channel(tmp_path / "late.ogg")
    feed(recording, audio)
    recording.close()
    assert recording.audio is not None
    counts = recording.audio.counts
    assert (counts.late, counts.lost, counts.duplicates) == (1, 1, 0)
    assert counts.frames == len(audio) - 1
    _, samples = decode(recording.path)
    assert abs(len(samples) / 48000 - media_seconds(packets, "audio")) < 0.3


def test_reorder_buffer_wraps_sequence_numbers() -> None:
    buffer = ReorderBuffer(depth=4)
    numbers = [65530 + i for i in range(12)]  # 65530 ... 65541 = 5 after the wrap
    order = numbers[:]
    order[3], order[5] = order[5], order[3]
    released = []
    for n in order:
        released += [seq for seq, _ in buffer.push(RtpPacket(sequence_number=n & 0xFFFF))]
    released += [seq for seq, _ in buffer.flush()]
    assert released == numbers
    assert buffer.counts.lost == buffer.counts.late == 0


def test_video_starts_at_a_key_frame(packets: list[Captured], tmp_path: Path) -> None:
    video = [c for c in packets if c.kind == "video"]
    keys = [i for i, c in enumerate(video) if is_vp8_keyframe(c.payload)]
    joined = next(i for i in range(keys[0], len(video)) if video[i].marker) + 1
    later_keys = [k for k in keys if k >= joined]
    assert later_keys, "the capture asked for a second key frame"
    expected = sum(c.marker for c in video[later_keys[0] :])  # frames from there on
    recording = ContainerWriter(tmp_path / "late-join.webm", video=True, audio=False)
    feed(recording, video[joined:])  # joined after the first key frame
    recording.close()
    assert recording.video is not None
    assert recording.video.counts.frames == expected
    assert recording.video.counts.dropped_frames >= 1
    frames, _ = decode(recording.path)
    assert len(frames) == expected
    whole = ContainerWriter(tmp_path / "whole.webm", video=True, audio=False)
    feed(whole, video)
    whole.close()
    with av.open(str(whole.path)) as container:
        first = next(container.demux(video=0))
        assert first.is_keyframe
        assert vp8_keyframe_size(bytes(first)) == (WIDTH, HEIGHT)


def test_killed_recorder_leaves_a_playable_file(packets: list[Captured], tmp_path: Path) -> None:
    capture_file = tmp_path / "capture.pickle"
    with capture_file.open("wb") as file:
        pickle.dump(
            [
                (c.kind, c.at, c.payload_type, c.sequence_number, c.timestamp, c.marker, c.payload)
                for c in packets
                if c.kind in ("video", "audio")
            ],
            file,
        )
    output = tmp_path / "killed.webm"
    helper = Path(__file__).with_name("recorder_crash_helper.py")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with subprocess.Popen(
        [sys.executable, str(helper), str(capture_file), str(output)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:  # (its pipe closed at the end)
        try:
            assert process.stdout is not None
            for line in process.stdout:
                if line.strip() in ("fed 3", "done"):
                    break
            else:
                pytest.fail(f"helper ended early: {process.wait()}")
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    frames, audio = decode(output)  # no trailer, no cues: FFmpeg still demuxes it
    assert len(frames) >= 1.5 * FPS
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    assert len(audio) >= 1.5 * 48000
    assert abs(dominant_frequency(audio[-24000:]) - TONES["audio"]) < 5


def test_a_stopped_stream_is_written_out_while_the_file_is_open(
    packets: list[Captured], tmp_path: Path
) -> None:
    audio = [c for c in packets if c.kind == "audio" and c.at - packets[0].at < 3]
    recording = ContainerWriter.channel(tmp_path / "stopped.ogg")
    feed(recording, audio)
    assert recording.audio is not None
    assert recording.audio.counts.frames < len(audio)  # some wait in the reorder buffer
    recording.expire(audio[-1].at + 1)  # the stream stopped a second ago
    assert recording.audio.counts.frames == len(audio)
    snapshot = tmp_path / "snapshot.ogg"  # what a crash now would leave
    snapshot.write_bytes(recording.path.read_bytes())
    _, samples = decode(snapshot)
    assert len(samples) >= 1.5 * 48000
    recording.close()
