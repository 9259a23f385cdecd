"""On both databases: a recording left "recording" (its process killed) is closed at start-up
as "interrupted" from what is on disk, hashed and attested; the stored rows follow the files."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from recordings.session import RecordingSession
from server.config import Config
from server.db import Database
from server.ledger.operations import ledger_signer
from server.live.registry import LiveRooms
from server.models import AuditEntry, Conference, LedgerEntry
from server.room_recording import operations
from server.room_recording.service import RoomRecordings
from tests.room_recording.helpers import probe, recordings_of, sha256_of, short_file


async def no_publish(*args: Any) -> None:
    return None


async def test_a_node_recovers_its_own_recordings_and_leaves_other_nodes_alone(
    demo: Database, config: Config
) -> None:
    """Two nodes share the database: node B starting up must not close node A's recording
    (it may still be running, and its files are on A's disk); node A, restarted, does."""
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "session", started, node="node-a")
        recording_id, directory = row.id, config.data_dir / row.directory
    left_by_a_crash(directory, started)
    rooms = LiveRooms(demo, ["127.0.0.1"], no_publish)

    def node(name: str) -> RoomRecordings:
        signer = ledger_signer(config.data_dir)
        return RoomRecordings(demo, rooms, signer, config.data_dir, no_publish, node=name)

    other = node("node-b")
    assert await other.recover() == []
    await other.close()
    [untouched] = await recordings_of(demo, 1)
    assert (untouched.status, untouched.node, untouched.files) == ("recording", "node-a", [])
    own = node("node-a")
    assert await own.recover() == [recording_id]
    await own.close()
    [closed] = await recordings_of(demo, 1)
    assert closed.status == "interrupted" and closed.files


async def test_a_recording_left_running_is_interrupted_at_start_up(
    demo: Database, config: Config
) -> None:
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "session", started)
        recording_id, directory = row.id, config.data_dir / row.directory
    # What a process leaves: the session's files and manifest, the row still "recording".
    left_by_a_crash(directory, started)
    (directory / "manifest.json").write_text(
        (directory / "manifest.json").read_text().replace('"stopped_at"', '"_stopped"')
    )

    rooms = LiveRooms(demo, ["127.0.0.1"], no_publish)
    recordings = RoomRecordings(
        demo, rooms, ledger_signer(config.data_dir), config.data_dir, no_publish
    )
    assert await recordings.recover() == [recording_id]
    assert await recordings.recover() == [], "only once"
    await recordings.close()
    await recordings.close()

    [stored] = await recordings_of(demo, 1)
    assert stored.status == "interrupted" and stored.stopped_at is not None
    names = {Path(f.path).name: f for f in stored.files}
    assert set(names) == {"floor.webm", "floor-audio.ogg", "lo.ogg"}
    assert names["lo.ogg"].channel == "lo" and names["floor-audio.ogg"].channel == "floor"
    for name, entry in names.items():
        assert entry.sha256 == sha256_of(directory / name)
    assert [m["text"] for m in stored.manifest["marks"]] == ["before the crash"]
    async with demo.session() as db:
        refs = set(await db.scalars(select(LedgerEntry.ref).where(LedgerEntry.kind == "recording")))
        actions = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "recording"))
        )
    assert refs == {f"recording:{recording_id}:{Path(n).stem}" for n in names}
    assert actions == ["recording.started", "recording.interrupted"]


async def test_read_back_without_a_manifest_still_hashes_the_files(tmp_path: Path) -> None:
    (tmp_path / "floor.webm").write_bytes(b"\x1a\x45\xdf\xa3 not much")
    (tmp_path / "notes.txt").write_text("not media")
    manifest, files = operations.read_back(tmp_path)
    assert manifest == {"recovered": {"durations": "read from the files"}}
    assert [(f.channel, f.name, f.media_type) for f in files] == [
        ("floor", "floor.webm", "video/webm")
    ]
    assert files[0].sha256 == sha256_of(tmp_path / "floor.webm")


def left_by_a_crash(directory: Path, started: dt.datetime) -> None:
    """What a killed recorder leaves: its manifest (with a mark) and a file per channel."""
    left = RecordingSession(directory, ["lo"], started)
    left.mark("note", text="before the crash")
    left.close()
    for name in ("floor.webm", "floor-audio.ogg", "lo.ogg"):
        short_file(directory / name)


def muxer(path: Path, *inputs: str) -> subprocess.Popen[bytes]:
    """A real muxer to SIGKILL mid-file: ffmpeg writing live-style in real time, as the
    recorder does (flushed clusters or pages; no duration until a trailer that never comes)."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-re", *inputs]
    if path.suffix == ".webm":
        command += ["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k"]
        command += ["-c:a", "libopus", "-cluster_time_limit", "1000", "-f", "webm"]
    else:
        command += ["-c:a", "libopus", "-page_duration", "1000000", "-f", "ogg"]
    return subprocess.Popen([*command, "-flush_packets", "1", str(path)])


def ffprobe(path: Path, *what: str) -> Any:
    out = subprocess.run(
        ["ffprobe", "-v", "error", *what, "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def packets_of(path: Path) -> dict[int, list[tuple[float, int]]]:
    """Each stream's packets: (time, size)."""
    found = ffprobe(path, "-show_entries", "packet=stream_index,pts_time,size")["packets"]
    streams: dict[int, list[tuple[float, int]]] = {}
    for p in found:
        streams.setdefault(int(p["stream_index"]), []).append(
            (float(p["pts_time"]), int(p["size"]))
        )
    return streams


def same_packets(before: dict[int, list[tuple[float, int]]], after: dict[int, Any]) -> bool:
    """The same bytes per stream, at the same times give or take FFmpeg's shift of a stream by
    the Opus codec delay (6.5 ms) when it rewrites a file's time line."""
    return before.keys() == after.keys() and all(
        [size for _, size in before[s]] == [size for _, size in after[s]]
        and all(abs(a - b) <= 0.01 for (a, _), (b, _) in zip(before[s], after[s], strict=True))
        for s in before
    )


async def test_a_killed_recording_gets_its_real_duration_and_a_finished_webm(
    demo: Database, config: Config
) -> None:
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "session", started)
        recording_id, directory = row.id, config.data_dir / row.directory
    directory.mkdir(parents=True)
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    picture = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15"]
    webm, ogg = directory / "floor.webm", directory / "floor-audio.ogg"
    writers = [muxer(webm, *picture, *sound), muxer(ogg, *sound)]
    await asyncio.sleep(6.0)
    for writer in writers:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
    # Its manifest was last written early on, as the recorder's every 5 s would have been.
    manifest = {
        "version": 1,
        "started_at": started.isoformat(),
        "stopped_at": None,
        "duration": 1.5,
        "channels": ["floor"],
        "files": [
            {"channel": "floor", "name": "floor.webm", "duration": None, "starts_at": 0.25},
            {"channel": "floor", "name": "floor-audio.ogg", "duration": None, "starts_at": 0.2},
        ],
        "marks": [],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    assert "duration" not in ffprobe(webm, "-show_entries", "format=duration")["format"]
    packets, hashed_before = packets_of(webm), sha256_of(webm)
    on_disk = {name: probe(directory / name)["last"]["audio"] for name in (webm.name, ogg.name)}
    assert min(on_disk.values()) > 3.0, on_disk  # more than the manifest's 1.5 s

    rooms = LiveRooms(demo, ["127.0.0.1"], no_publish)
    recordings = RoomRecordings(
        demo, rooms, ledger_signer(config.data_dir), config.data_dir, no_publish
    )
    assert await recordings.recover() == [recording_id]
    await recordings.close()

    # The WebM now states its duration and holds exactly the packets it held.
    stated = float(ffprobe(webm, "-show_entries", "format=duration")["format"]["duration"])
    assert abs(stated - on_disk[webm.name]) < 0.2, (stated, on_disk)
    assert same_packets(packets, packets_of(webm))
    assert sorted(p.name for p in directory.iterdir()) == [
        "floor-audio.ogg",
        "floor.webm",
        "manifest.json",
    ], "no temporary file is left"
    [stored] = await recordings_of(demo, 1)
    files = {Path(f.path).name: f for f in stored.files}
    for name, end in on_disk.items():
        assert files[name].duration is not None and abs(files[name].duration - end) < 0.2
    # The recording lasted as long as its media, not as its last manifest said.
    assert stored.stopped_at is not None
    lasted = (stored.stopped_at - stored.started_at).total_seconds()
    webm_duration = files[webm.name].duration
    assert webm_duration is not None
    assert lasted == pytest.approx(0.25 + webm_duration, abs=0.01), lasted
    assert stored.manifest["duration"] == pytest.approx(lasted, abs=0.01)
    # One story in the ledger: the hash attested is the kept file's; what it was, noted.
    async with demo.session() as db:
        entries = {
            e.ref: e.payload
            for e in await db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "recording"))
        }
    for name, kept in files.items():
        assert (
            kept.sha256 == sha256_of(directory / name)
            and kept.size == (directory / name).stat().st_size
        )
        entry = entries[f"recording:{recording_id}:{Path(name).stem}"]
        assert entry["sha256"] == kept.sha256 and entry["size"] == kept.size
    recovered = stored.manifest["parts"][0]["recovered"]
    assert recovered["manifest_duration"] == 1.5
    [remuxed] = recovered["remuxed"]
    assert remuxed["name"] == "floor.webm" and remuxed["sha256_before"] == hashed_before
    assert files[webm.name].sha256 != hashed_before


async def test_a_cut_recording_waits_for_its_room_and_continues_as_part_two(
    demo: Database, config: Config
) -> None:
    """A crash with the room's state kept: the cut part is read back, the recording waits as
    "resuming", and continues in ``part-2/`` as soon as the room reopens; stopping it then
    stores both parts (files, marks, ledger) under the one recording."""
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    async with demo.session() as db, db.begin():
        conference = await db.get(Conference, 1)
        assert conference is not None
        conference.status = "live"  # (the demo's MoU signing has ended)
        row = await operations.begin(db, 1, "organiser@concord.example", started)
        recording_id, directory = row.id, config.data_dir / row.directory
    left_by_a_crash(directory, started)
    rooms = LiveRooms(demo, ["127.0.0.1"], no_publish)
    await rooms._state.save(1, {"version": 1, "locked": True})  # a room a crash left kept
    recordings = RoomRecordings(
        demo, rooms, ledger_signer(config.data_dir), config.data_dir, no_publish
    )
    await recordings.start()
    try:
        [waiting] = await recordings_of(demo, 1)
        assert waiting.status == "resuming" and waiting.parts == 1
        assert recordings.active(1) is None, "nothing records before the room is open"

        rooms.start()
        room = await rooms.room(1)
        await until(lambda: recordings.active(1) is not None, 5)
        state = recordings.state(1)
        assert state.id == recording_id and state.part == 2
        assert state.since == started.isoformat(), "the clock counts from the first part"
        assert room.locked
        recordings.mark(1, "note", text="after the restart")
        assert await recordings.end(1, "organiser@concord.example") == recording_id
    finally:
        await recordings.close()
        await rooms.close()

    [stored] = await recordings_of(demo, 1)
    assert stored.status == "finished" and stored.parts == 2
    assert [(p["part"], p["ended"]) for p in stored.manifest["parts"]] == [
        (1, "interrupted"),
        (2, "finished"),
    ]
    by_part = {(f.part, Path(f.path).name): f for f in stored.files}
    assert {name for part, name in by_part if part == 1} == {
        "floor.webm",
        "floor-audio.ogg",
        "lo.ogg",
    }
    for (part, _name), kept in by_part.items():
        assert part == 1 and kept.sha256 == sha256_of(config.data_dir / kept.path)
    # Nobody published in part 2 (no media here): it has its manifest and no file.
    assert json.loads((directory / "part-2" / "manifest.json").read_text())["files"] == []
    assert [(m["part"], m["text"]) for m in stored.manifest["marks"] if m["kind"] == "note"] == [
        (1, "before the crash"),
        (2, "after the restart"),
    ]
    async with demo.session() as db:
        refs = set(await db.scalars(select(LedgerEntry.ref).where(LedgerEntry.kind == "recording")))
        actions = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "recording"))
        )
    assert refs == {f"recording:{recording_id}:{s}" for s in ("floor", "floor-audio", "lo")}
    assert actions == [
        "recording.started",
        "recording.resuming",
        "recording.resumed",
        "recording.finished",
    ]


async def test_a_cut_recording_of_an_ended_conference_is_closed_as_finished(
    demo: Database, config: Config
) -> None:
    """The room will not reopen (the demo's MoU signing has ended): the recording waiting
    for it is closed as finished, with the part it has."""
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "session", dt.datetime.now(dt.UTC))
        directory = config.data_dir / row.directory
    RecordingSession(directory, [], row.started_at).close()
    rooms = LiveRooms(demo, ["127.0.0.1"], no_publish)
    await rooms._state.save(1, {"version": 1})
    recordings = RoomRecordings(
        demo,
        rooms,
        ledger_signer(config.data_dir),
        config.data_dir,
        no_publish,
        schedule_every=0.05,
    )
    await recordings.start()
    try:
        for _ in range(100):
            [stored] = await recordings_of(demo, 1)
            if stored.status != "resuming":
                break
            await asyncio.sleep(0.05)
    finally:
        await recordings.close()
    assert stored.status == "finished" and stored.parts == 1
    assert stored.manifest["status"] == "finished"


async def until(check: Any, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.05)
