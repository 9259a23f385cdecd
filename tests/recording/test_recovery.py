"""On both databases: a recording left "recording" (its process killed) is closed at start-up
as "interrupted" from what is on disk, hashed and attested; the stored rows follow the files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recordings.session import Recording as SessionRecording
from server.config import Config
from server.db import Database
from server.ledger.operations import ledger_signer
from server.live.registry import LiveRooms
from server.models import AuditEntry, LedgerEntry
from server.recording import operations
from server.recording.service import RoomRecordings
from tests.recording.helpers import recordings_of, sha256_of


async def no_publish(*args: Any) -> None:
    return None


async def test_a_recording_left_running_is_interrupted_at_start_up(
    demo: Database, config: Config
) -> None:
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=3)
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "session", started)
        recording_id, directory = row.id, config.data_dir / row.directory
    # What a process leaves: the session's files and manifest, the row still "recording".
    left = SessionRecording(directory, ["lo"], started)
    left.mark("note", text="before the crash")
    left.close()
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
    assert manifest == {}
    assert [(f.channel, f.name, f.media_type) for f in files] == [
        ("floor", "floor.webm", "video/webm")
    ]
    assert files[0].sha256 == sha256_of(tmp_path / "floor.webm")
