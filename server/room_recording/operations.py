"""Storing recordings: the row when one starts, its files, manifest, ledger entries and audit
entry when it stops, and the recovery of recordings a killed process left behind.

Ledger: one entry per finished file (``recording:<id>:<file>``, the file's name without
its extension: ``floor``, ``floor-audio``, a language code). Each file is a separate
artefact with its own life: it is downloaded, handed over or pruned alone, and whoever holds
one file can check it against its own entry without the others; the entry's position is kept
on the file's row (``RecordingFile.ledger_position``). Entries carry ids, times and hashes only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from recordings.finalise import finalise_webm
from recordings.ledger.tree_head import TreeHeadSigner
from recordings.session import media_duration
from server import audit
from server.identity import Identity
from server.ledger.operations import append
from server.models import Recording, RecordingFile, utcnow

log = logging.getLogger(__name__)

MEDIA_TYPES = MappingProxyType({".webm": "video/webm", ".ogg": "audio/ogg"})
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StoredFile:
    """A finished file as the recorder reports it (``recordings.session.RecordedFile``)."""

    channel: str
    name: str
    media_type: str
    size: int
    duration: float | None
    sha256: str | None


def recording_directory(conference_id: int, recording_id: int) -> str:
    """Where a recording's files live, relative to the data directory."""
    return f"recordings/{conference_id}/{recording_id}"


async def begin(
    db: AsyncSession,
    conference_id: int,
    started_by: str,
    started_at: dt.datetime,
    node: str | None = None,
) -> Recording:
    """A new recording row (status "recording"); its directory is named after its id, in the
    data directory of ``node``."""
    row = Recording(
        conference_id=conference_id,
        node=node,
        started_at=started_at,
        started_by=started_by,
        status="recording",
        directory="",
        manifest={},
    )
    db.add(row)
    await db.flush()
    row.directory = recording_directory(conference_id, row.id)
    audit.record(
        db,
        None,
        "recording.started",
        "recording",
        row.id,
        conference_id=conference_id,
        detail={"by": started_by},
    )
    return row


def part_directory(directory: str, part: int) -> str:
    """Where a part's files live: part 1 in the recording's directory, part N in ``part-N``."""
    return directory if part == 1 else f"{directory}/part-{part}"


def ledger_ref(recording_id: int, part: int, name: str) -> str:
    """A file's ledger entry: ``recording:<id>:<stem>``, ``recording:<id>:part-<n>:<stem>``."""
    stem = Path(name).stem
    return (
        f"recording:{recording_id}:{stem}"
        if part == 1
        else f"recording:{recording_id}:part-{part}:{stem}"
    )


async def finish(
    db: AsyncSession,
    signer: TreeHeadSigner,
    recording_id: int,
    files: Sequence[StoredFile],
    manifest: dict[str, Any],
    *,
    part: int = 1,
    status: str = "finished",
    ended: str | None = None,
    stopped_at: dt.datetime | None = None,
    stopped_by: str = "",
    actor: Identity | None = None,
) -> Recording:
    """Store one part of a recording as it stopped: its files (each appended to the ledger),
    its manifest merged into the recording's, the recording's new ``status`` ("finished",
    "interrupted", or "resuming" when a restart cut it) and the audit entry: all in the
    caller's one transaction. ``ended`` is how the part itself ended: "finished" (closed
    cleanly) or "interrupted" (read back after a crash); by default it follows ``status``."""
    row = await db.scalar(
        select(Recording).where(Recording.id == recording_id).options(selectinload(Recording.files))
    )
    if row is None:
        raise LookupError(f"there is no recording {recording_id}")
    ended = ended or ("interrupted" if status == "interrupted" else "finished")
    row.status = status
    row.stopped_at = stopped_at or utcnow()
    row.manifest = merged_manifest(row, part, files, manifest, ended, stopped_by)
    for kept in [f for f in row.files if f.part == part]:  # a part stored again replaces itself
        row.files.remove(kept)
    directory = part_directory(row.directory, part)
    for entry in sorted(files, key=lambda f: (f.channel != "floor", f.channel)):
        made = RecordingFile(
            channel=entry.channel,
            part=part,
            path=f"{directory}/{entry.name}",
            media_type=entry.media_type,
            size=entry.size,
            duration=entry.duration,
            sha256=entry.sha256,
        )
        row.files.append(made)
        if entry.sha256 is not None:
            ledger = await append(
                db,
                signer,
                "recording",
                ledger_ref(row.id, part, entry.name),
                {
                    "recording_id": row.id,
                    "conference_id": row.conference_id,
                    "part": part,
                    "channel": entry.channel,
                    "name": entry.name,
                    "media_type": entry.media_type,
                    "size": entry.size,
                    "sha256": entry.sha256,
                    "started_at": row.started_at.astimezone(dt.UTC).isoformat(),
                    "stopped_at": row.stopped_at.astimezone(dt.UTC).isoformat(),
                    "status": ended,
                },
            )
            made.ledger_position = ledger.position
    audit.record(
        db,
        actor,
        f"recording.{status}",
        "recording",
        row.id,
        conference_id=row.conference_id,
        detail={"by": stopped_by, "part": part, "files": {f.name: f.sha256 for f in files}},
    )
    await db.flush()
    return row


def merged_manifest(
    row: Recording,
    part: int,
    files: Sequence[StoredFile],
    manifest: dict[str, Any],
    ended: str,
    ended_by: str,
) -> dict[str, Any]:
    """The recording's manifest with one part (its files, marks and summary) put in.

    Each file and mark carries its ``part``; a mark's ``at`` and a file's ``starts_at`` stay
    offsets from the part's start, and the part's ``offset`` is that start's distance from
    the recording's. ``duration`` runs from the recording's start to this part's stop."""
    before = row.manifest if isinstance(row.manifest, dict) else {}
    described = {
        item["name"]: item
        for item in manifest.get("files") or []
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }
    assert row.stopped_at is not None
    began = moment(manifest.get("started_at")) or row.started_at
    summary = {
        "part": part,
        "started_at": began.astimezone(dt.UTC).isoformat(),
        "stopped_at": row.stopped_at.astimezone(dt.UTC).isoformat(),
        "offset": round((began - row.started_at).total_seconds(), 3),
        "duration": manifest.get("duration"),
        "ended": ended,
        "ended_by": ended_by,
        "directory": part_directory(row.directory, part),
    }
    if "recovered" in manifest:
        summary["recovered"] = manifest["recovered"]

    def others(key: str) -> list[dict[str, Any]]:
        items = before.get(key) or []
        return [i for i in items if isinstance(i, dict) and i.get("part", 1) != part]

    channels = list(before.get("channels") or [])
    channels += [c for c in manifest.get("channels") or [] if c not in channels]
    return {
        "version": 1,
        "started_at": row.started_at.astimezone(dt.UTC).isoformat(),
        "stopped_at": summary["stopped_at"],
        "duration": round((row.stopped_at - row.started_at).total_seconds(), 3),
        "status": row.status,
        "channels": channels,
        "parts": sorted([*others("parts"), summary], key=lambda p: int(p["part"])),
        "files": others("files")
        + [{**described.get(f.name, {}), **_file_entry(f), "part": part} for f in files],
        "marks": others("marks")
        + [{**m, "part": part} for m in manifest.get("marks") or [] if isinstance(m, dict)],
    }


def moment(value: Any) -> dt.datetime | None:
    """An ISO 8601 time from a manifest (UTC when it names no zone); ``None`` if it is none."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


async def close_paused(db: AsyncSession, recording_id: int, stopped_by: str) -> Recording | None:
    """A recording a restart cut ("resuming") that will not continue: it keeps its parts and
    ends as finished. ``None`` if it is not waiting any more."""
    row = await db.get(Recording, recording_id)
    if row is None or row.status != "resuming":
        return None
    row.status = "finished"
    row.manifest = {**(row.manifest or {}), "status": "finished"}
    audit.record(
        db,
        None,
        "recording.finished",
        "recording",
        row.id,
        conference_id=row.conference_id,
        detail={"by": stopped_by, "parts": row.parts},
    )
    await db.flush()
    return row


async def next_part(db: AsyncSession, recording_id: int) -> Recording | None:
    """A paused recording continues: its next part begins ("recording" again)."""
    row = await db.get(Recording, recording_id)
    if row is None or row.status != "resuming":
        return None
    row.parts += 1
    row.status = "recording"
    row.manifest = {**(row.manifest or {}), "status": "recording"}
    audit.record(
        db,
        None,
        "recording.resumed",
        "recording",
        row.id,
        conference_id=row.conference_id,
        detail={"part": row.parts},
    )
    await db.flush()
    return row


def _file_entry(entry: StoredFile) -> dict[str, Any]:
    return {
        "channel": entry.channel,
        "name": entry.name,
        "media_type": entry.media_type,
        "size": entry.size,
        "duration": entry.duration,
        "sha256": entry.sha256,
    }


def hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_back(directory: Path) -> tuple[dict[str, Any], list[StoredFile]]:
    """What a killed recorder left: its last manifest.json (or none) and every media file in
    the directory, finalised and hashed now.

    The manifest was last written up to ``MANIFEST_INTERVAL`` seconds before the kill, so
    durations come from the files: each file's from its media (``media_duration``: the
    container's, else its last packet's end), the recording's (``duration``, from which
    ``stopped_at_of`` dates the stop) from the latest end among them. A WebM left without a
    duration is remuxed first (``recordings.finalise``), and each file is hashed after that:
    the hash attested is the kept file's; ``recovered.remuxed`` names what it was before."""
    manifest: dict[str, Any] = {}
    try:
        loaded = json.loads((directory / MANIFEST).read_text("utf-8"))
        if isinstance(loaded, dict):
            manifest = loaded
    except (OSError, ValueError):
        log.warning("recording %s: no readable manifest.json", directory)
    described: dict[str, dict[str, Any]] = {
        item["name"]: item
        for item in manifest.get("files") or []
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    }
    files, remuxed, ends = [], [], []
    paths = sorted(directory.iterdir()) if directory.is_dir() else []
    for path in paths:
        media_type = MEDIA_TYPES.get(path.suffix)
        if media_type is None or not path.is_file() or path.name.startswith("."):
            continue
        item = described.get(path.name, {})
        if path.suffix == ".webm" and (done := finalise_webm(path)) is not None:
            remuxed.append(done)
        duration = media_duration(path) if path.stat().st_size else None
        if duration is None and isinstance(item.get("duration"), int | float):
            duration = float(item["duration"])
        starts_at = item.get("starts_at")
        if duration is not None:
            ends.append(duration + (float(starts_at) if isinstance(starts_at, int | float) else 0))
        channel = item.get("channel")
        files.append(
            StoredFile(
                channel=channel if isinstance(channel, str) else _channel_of(path),
                name=path.name,
                media_type=media_type,
                size=path.stat().st_size,
                duration=duration,
                sha256=hash_file(path),
            )
        )
    last_written = manifest.get("duration")
    recovered: dict[str, Any] = {"durations": "read from the files"}
    if isinstance(last_written, int | float):
        recovered["manifest_duration"] = last_written
    if ends:
        written = float(last_written) if isinstance(last_written, int | float) else 0.0
        manifest["duration"] = round(max(written, *ends), 3)
    if remuxed:
        recovered["remuxed"] = [
            {**asdict(r), "tool": "ffmpeg -c copy (packets unchanged)"} for r in remuxed
        ]
    manifest["recovered"] = recovered
    return manifest, files


def _channel_of(path: Path) -> str:
    """A file the manifest does not name yet (created since its last write): its channel by
    the recorder's naming, ``floor.webm`` and ``floor-audio.ogg`` the floor, ``<code>.ogg``."""
    return "floor" if path.stem in ("floor", "floor-audio") else path.stem


async def left_by_a_restart(
    db: AsyncSession, status: str, node: str | None = None
) -> list[Recording]:
    """At start-up: the recordings a killed process left "recording", or the ones a
    stopped process paused ("resuming"): of ``node`` (and those recorded before nodes were
    named) when given. Another node's are not ours to close: they may be running, and their
    files are on its disk."""
    query = select(Recording).where(Recording.status == status)
    if node is not None:
        query = query.where(or_(Recording.node == node, Recording.node.is_(None)))
    return list(await db.scalars(query.order_by(Recording.id)))


def stopped_at_of(row: Recording, manifest: dict[str, Any]) -> dt.datetime:
    """When an interrupted part ended: its manifest's last word, else its start plus its
    duration (the part's manifest counts from the part's own start)."""
    for key in ("stopped_at", "updated_at"):
        found = moment(manifest.get(key))
        if found is not None:
            return found
    began = moment(manifest.get("started_at")) or row.started_at
    offset = manifest.get("offset") or manifest.get("duration")
    if isinstance(offset, int | float):
        return began + dt.timedelta(seconds=float(offset))
    return began
