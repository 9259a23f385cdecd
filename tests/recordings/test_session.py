"""A conference recorded from a live room (real aiortc peers on loopback): the recorder joins
as in-process subscribers, ``recordings.session.RecordingSession`` writes the files and the
manifest; ffprobe and PyAV read them back, and the tones tell whose sound landed where (FFT)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiortc.rtp import RtpPacket

from recordings.session import RecordingSession
from rooms.synthetic import dominant_frequency
from tests.recordings.session_helper import FPS, RecordedRoom

ROOT = Path(__file__).resolve().parents[2]
RECORD_SECONDS = 20.0
SWITCH_SLACK = 2.0  # seconds: where the floor's switch lands in a file, against its mark


def ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    probed: dict[str, Any] = json.loads(result.stdout)
    return probed


def codecs(probed: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((s["codec_type"], s["codec_name"]) for s in probed["streams"])


def decode_audio(path: Path) -> tuple[np.ndarray, float]:
    """The first channel of all audio, and the time (s) of its first sample in the file."""
    samples: list[np.ndarray] = []
    first: float | None = None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            if first is None and frame.time is not None:
                first = float(frame.time)
            array = frame.to_ndarray()
            if not frame.format.is_planar:
                array = array.reshape(-1, len(frame.layout.channels)).T
            samples.append(array[0])
    return (np.concatenate(samples) if samples else np.zeros(0)), first or 0.0


def tone_at(samples: np.ndarray, start: float, seconds: float = 1.0) -> float:
    """The tone of ``seconds`` from ``start`` (negative: from the end)."""
    begin = int(start * 48000) % len(samples)
    return dominant_frequency(samples[begin : begin + int(seconds * 48000)])


def tone_changes(samples: np.ndarray, before: float, after: float) -> tuple[float, float]:
    """The last 0.2 s window (start time) with the ``before`` tone and the first with ``after``."""
    windows = [
        (t / 10, tone_at(samples, t / 10, 0.2)) for t in range(len(samples) * 10 // 48000 - 2)
    ]
    last = max(t for t, hz in windows if abs(hz - before) < 10)
    first = min(t for t, hz in windows if abs(hz - after) < 10)
    return last, first


def video_sizes(path: Path) -> list[tuple[float, int, int]]:
    """(time, width, height) of every decoded picture."""
    with av.open(str(path)) as container:
        return [(float(f.time or 0), f.width, f.height) for f in container.decode(video=0)]


def media_end(path: Path) -> dict[str, float]:
    """Per stream type, the end (s) of its last packet that PyAV can demux."""
    ends: dict[str, float] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            kind = packet.stream.type
            ends[kind] = max(ends.get(kind, 0.0), end)
    return ends


@pytest.fixture
async def recorded() -> AsyncIterator[RecordedRoom]:
    room = RecordedRoom()
    try:
        await room.start()
        yield room
    finally:
        if room.recorder is not None:
            await room.recorder.close()
        await room.close()


async def test_a_recorded_room_gives_programme_channels_and_a_manifest(
    recorded: RecordedRoom, tmp_path: Path
) -> None:
    directory = tmp_path / "recording"
    recorder = recorded.record(directory)
    recording = recorder.recording
    recording.mark("agenda", item=1, title="Opening")
    await asyncio.sleep(RECORD_SECONDS / 2)
    recorded.room.grant_floor("2")  # the floor goes to Champasak midway: a "floor" mark
    floor_at = recording.offset()
    await asyncio.sleep(RECORD_SECONDS / 2)
    files = await recorder.close()
    assert await recorder.close() == files  # twice is harmless
    manifest = json.loads((directory / "manifest.json").read_text())
    recorded_time = manifest["duration"]
    assert abs(recorded_time - RECORD_SECONDS) < 1.0

    # What ffprobe reads back: codecs and durations.
    names = {f.name: f for f in files}
    assert sorted(names) == ["en.ogg", "floor-audio.ogg", "floor.webm", "lo.ogg"]
    assert codecs(ffprobe(directory / "floor.webm")) == [("audio", "opus"), ("video", "vp8")]
    for name in ("lo.ogg", "en.ogg", "floor-audio.ogg"):
        assert codecs(ffprobe(directory / name)) == [("audio", "opus")], name
    for name, file in names.items():
        probed = float(ffprobe(directory / name)["format"]["duration"])
        assert abs(probed - recorded_time) < 0.5, (name, probed, recorded_time)
        assert file.duration is not None and abs(file.duration - probed) < 0.1

    # Each language file carries its own booth's tone, from start to end.
    for code, hz in (("lo", 660), ("en", 880)):
        samples, _ = decode_audio(directory / f"{code}.ogg")
        assert abs(len(samples) / 48000 - recorded_time) < 0.5
        for start in (0.5, recorded_time / 2, recorded_time - 1.5):
            assert abs(tone_at(samples, start) - hz) < 10, (code, start)

    # The floor: the hall (440 Hz, 320x180) until the floor mark, then Champasak (550 Hz,
    # 256x144), in the programme and in the audio-only floor file alike. (A file's time line
    # is its sources' media clock: on a loaded machine the synthetic sites' tones and
    # pictures lag the wall clock by up to a second or two, so the switch may be that late.)
    starts = {row["name"]: row["starts_at"] for row in manifest["files"]}
    for name in ("floor.webm", "floor-audio.ogg"):
        samples, _ = decode_audio(directory / name)
        switch = floor_at - starts[name]
        last_hall, first_speaker = tone_changes(samples, 440, 550)
        assert last_hall < first_speaker, name
        assert abs(first_speaker - switch) < SWITCH_SLACK, (name, first_speaker, switch)
        assert abs(tone_at(samples, 0.5) - 440) < 10 and abs(tone_at(samples, -1.5) - 550) < 10
    sizes = video_sizes(directory / "floor.webm")
    assert len(sizes) > FPS * 0.9 * (recorded_time - 1)
    hall = [t for t, w, h in sizes if (w, h) == (320, 180)]
    champasak = [t for t, w, h in sizes if (w, h) == (256, 144)]
    assert len(hall) + len(champasak) == len(sizes)
    assert max(hall) < min(champasak)
    assert abs(min(champasak) - (floor_at - starts["floor.webm"])) < SWITCH_SLACK

    # The manifest: the files with SHA-256s that match, the channels, the marks.
    assert manifest["channels"] == ["floor", "lo", "en"]
    started = dt.datetime.fromisoformat(manifest["started_at"])
    stopped = dt.datetime.fromisoformat(manifest["stopped_at"])
    assert abs((stopped - started).total_seconds() - recorded_time) < 0.01
    for row in manifest["files"]:
        content = (directory / row["name"]).read_bytes()
        assert row["sha256"] == hashlib.sha256(content).hexdigest() == names[row["name"]].sha256
        assert row["size"] == len(content)
        assert 0 <= row["starts_at"] < 1.0
    assert manifest["files"][0]["media_type"] == "video/webm"
    kinds = [(m["kind"], m.get("event")) for m in manifest["marks"]]
    assert kinds == [("agenda", None), ("floor", "floor.granted")]
    agenda, floor = manifest["marks"]
    assert agenda["title"] == "Opening" and agenda["at"] < 0.1
    assert floor["site"] == "2" and abs(floor["at"] - floor_at) < 0.05


async def test_the_manifest_is_rewritten_while_recording_and_bad_input_is_refused(
    tmp_path: Path,
) -> None:
    now = [100.0]
    started = dt.datetime(2026, 3, 4, 8, 30, tzinfo=dt.UTC)
    recording = RecordingSession(tmp_path / "r", ["lo", "vi"], started, clock=lambda: now[0])
    path = tmp_path / "r" / "manifest.json"
    first = json.loads(path.read_text())
    assert first["stopped_at"] is None and first["marks"] == []
    assert first["channels"] == ["floor", "lo", "vi"]
    assert first["files"] == [], "a file is created with its first frame"
    now[0] = 103.25
    recording.mark("agenda", item=2, title="Aid agreement 1")
    recording.wait_for_writes()  # the rewrite is the writer thread's
    assert json.loads(path.read_text())["marks"] == [
        {"at": 3.25, "kind": "agenda", "item": 2, "title": "Aid agreement 1"}
    ]
    before = path.stat().st_mtime_ns
    now[0] = 104.0
    recording.expire()  # less than 5 s since the last write: not rewritten
    recording.wait_for_writes()
    assert path.stat().st_mtime_ns == before
    now[0] = 109.0
    recording.expire()
    recording.wait_for_writes()
    assert json.loads(path.read_text())["duration"] == 9.0
    for kind, data, problem in (
        ("lunch", {}, "unknown mark kind"),
        ("note", {"at": 1}, "cannot be named"),
        ("note", {"when": started}, "plain JSON"),
    ):
        with pytest.raises(ValueError, match=problem):
            recording.mark(kind, **data)
    with pytest.raises(ValueError, match="no channel 'fr'"):
        recording.packet("fr", "interpretation.audio", RtpPacket())
    with pytest.raises(ValueError, match="does not record slot"):
        recording.packet("lo", "programme.video", RtpPacket())
    recording.wait_for_writes()
    assert len(json.loads(path.read_text())["marks"]) == 1, "refused marks write nothing"
    assert not recording.wants_keyframe("lo") and recording.wants_keyframe("floor")
    assert recording.close() == [], "nothing was recorded: no file a player could not open"
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["manifest.json"]
    assert json.loads(path.read_text())["stopped_at"] == "2026-03-04T08:30:09+00:00"
    with pytest.raises(RuntimeError):
        recording.mark("note", text="too late")

    for languages, started_at, problem in (
        (["lo"], started, "already holds a recording"),
        (["Lao"], started, "not a language code"),
        (["lo", "lo"], started, "listed twice"),
        (["lo"], dt.datetime(2026, 3, 4), "aware"),
    ):
        with pytest.raises(ValueError, match=problem):
            RecordingSession(tmp_path / "r", languages, started_at)


def test_a_killed_recorder_leaves_playable_files_and_a_manifest(tmp_path: Path) -> None:
    directory = tmp_path / "killed"
    helper = Path(__file__).with_name("session_helper.py")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    killed_at = 0.0
    with subprocess.Popen(
        [sys.executable, str(helper), str(directory)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:  # (its pipe closed at the end)
        try:
            assert process.stdout is not None
            deadline = time.monotonic() + 60
            for line in process.stdout:
                killed_at = float(line.split()[1])
                if killed_at >= 10 or time.monotonic() > deadline:
                    break
            else:
                pytest.fail(f"helper ended early: {process.wait()}")
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert killed_at >= 10

    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["stopped_at"] is None
    assert [f["name"] for f in manifest["files"]] == [
        "floor.webm",
        "floor-audio.ogg",
        "lo.ogg",
        "en.ogg",
    ]
    assert [m["kind"] for m in manifest["marks"]] == ["agenda", "floor"]
    starts = {row["name"]: row["starts_at"] for row in manifest["files"]}

    assert codecs(ffprobe(directory / "floor.webm")) == [("audio", "opus"), ("video", "vp8")]
    ends = media_end(directory / "floor.webm")
    for kind in ("video", "audio"):
        assert ends[kind] + starts["floor.webm"] > killed_at - 3, (kind, ends, killed_at)
    assert len(video_sizes(directory / "floor.webm")) > FPS * 0.9 * (killed_at - 3)
    for name, hz in (("floor-audio.ogg", 550), ("lo.ogg", 660), ("en.ogg", 880)):
        assert codecs(ffprobe(directory / name)) == [("audio", "opus")], name
        samples, first = decode_audio(directory / name)
        assert first + len(samples) / 48000 + starts[name] > killed_at - 3, name
        assert abs(tone_at(samples, len(samples) / 48000 - 1) - hz) < 10, name
