"""Building an archive to prune: conferences with recordings (real files, hashed into the
ledger through the recording operations), room events, health samples and minutes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from server.ledger.operations import ledger_signer, load_log, verify
from server.models import (
    Conference,
    HealthSample,
    MinutesDocument,
    MinutesRevision,
    RoomEventRecord,
)
from server.room_recording.operations import StoredFile, begin, finish

UTC = dt.UTC


@dataclass
class Built:
    conference_id: int
    recording_id: int
    files: list[Path]
    sha256: list[str]


async def build_conference(
    db: AsyncSession, data_dir: Path, slug: str, ends_at: dt.datetime
) -> Built:
    """One ended conference with a two-file recording, 3 room events, 4 health samples and
    final minutes of 3 revisions (the third current)."""
    conference = Conference(
        slug=slug,
        title=f"Hội nghị {slug}",
        starts_at=ends_at - dt.timedelta(hours=3),
        ends_at=ends_at,
        time_zone="Asia/Ho_Chi_Minh",
        status="ended",
    )
    db.add(conference)
    await db.flush()
    recording = await begin(db, conference.id, "session", ends_at - dt.timedelta(hours=2))
    directory = data_dir / recording.directory
    directory.mkdir(parents=True, exist_ok=True)
    stored, paths, hashes = [], [], []
    for channel, name in (("floor", "floor.webm"), ("lo", "lo.ogg")):
        content = f"{slug} {channel} media".encode() * 100
        path = directory / name
        path.write_bytes(content)
        digest = hashlib.sha256(content).hexdigest()
        stored.append(StoredFile(channel, name, "video/webm", len(content), 12.5, digest))
        paths.append(path)
        hashes.append(digest)
    await finish(
        db,
        ledger_signer(data_dir),
        recording.id,
        stored,
        {},
        stopped_at=ends_at - dt.timedelta(hours=1),
    )
    for minute in range(3):
        db.add(
            RoomEventRecord(
                conference_id=conference.id,
                at=ends_at - dt.timedelta(minutes=30 - minute),
                type="site.joined",
            )
        )
    for second in range(4):
        db.add(
            HealthSample(
                conference_id=conference.id,
                subject="site:1",
                at=ends_at - dt.timedelta(minutes=20, seconds=2 * second),
                level="good",
                score=100,
            )
        )
    minutes = MinutesDocument(conference_id=conference.id, state="final", revision=3)
    db.add(minutes)
    await db.flush()
    for number in (1, 2, 3):
        text = json.dumps({"items": [], "n": number})
        db.add(
            MinutesRevision(
                minutes_id=minutes.id,
                number=number,
                document=text,
                digest=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    await db.flush()
    return Built(conference.id, recording.id, paths, hashes)


async def ledger_findings(db: AsyncSession, data_dir: Path) -> list[str]:
    loaded = await load_log(db)
    return [f.detail for f in verify(loaded, ledger_signer(data_dir).public_key_pem())]
