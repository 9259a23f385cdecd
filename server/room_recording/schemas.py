"""The recordings' JSON: what ``/api/conferences/{id}/recordings`` and a manifest return."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Any, ClassVar

from pydantic import BaseModel

from server.models import Recording, RecordingFile
from server.sent import Sent


class RecordingState(Sent):
    """``recording.state``: whether the room is being recorded (and in the join answer)."""

    event: ClassVar[str] = "recording.state"

    recording: bool
    since: str | None  # ISO-8601 UTC: when its first part started
    id: int | None
    part: int | None  # the part being recorded (a restart begins another)
    server_time: float  # seconds since the epoch, as in ``RoomState``


class RecordingFileOut(BaseModel):
    channel: str
    part: int  # the recording's part (a restart during the recording begins another)
    name: str
    media_type: str
    size: int
    duration: float | None
    sha256: str | None
    ledger_position: int | None
    url: str


class RecordingOut(BaseModel):
    id: int
    conference_id: int
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    duration: float | None
    status: str
    started_by: str
    parts: int
    files: list[RecordingFileOut]
    url: str
    manifest_url: str


class ManifestOut(BaseModel):
    """The recording's manifest: files, channels, start/stop, marks (offsets in seconds)."""

    recording: RecordingOut
    manifest: dict[str, Any]


def file_url(row: Recording, entry: RecordingFile) -> str:
    """``…/files/<stem>`` for part 1, ``…/parts/<n>/files/<stem>`` for a later part."""
    stem = PurePosixPath(entry.path).stem  # "floor", "floor-audio", a language code
    base = f"/conferences/{row.conference_id}/recordings/{row.id}"
    return f"{base}/files/{stem}" if entry.part == 1 else f"{base}/parts/{entry.part}/files/{stem}"


def recording_out(row: Recording) -> RecordingOut:
    duration = None
    if row.stopped_at is not None:
        duration = round((row.stopped_at - row.started_at).total_seconds(), 3)
    base = f"/conferences/{row.conference_id}/recordings/{row.id}"
    return RecordingOut(
        id=row.id,
        conference_id=row.conference_id,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        duration=duration,
        status=row.status,
        started_by=row.started_by,
        parts=row.parts,
        files=[
            RecordingFileOut(
                channel=f.channel,
                part=f.part,
                name=f.path.rsplit("/", 1)[-1],
                media_type=f.media_type,
                size=f.size,
                duration=f.duration,
                sha256=f.sha256,
                ledger_position=f.ledger_position,
                url=file_url(row, f),
            )
            for f in row.files
        ],
        url=base,
        manifest_url=f"/api/conferences/{row.conference_id}/recordings/{row.id}/manifest",
    )
