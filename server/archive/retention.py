"""Retention: what has expired (``plan``) and deleting it (``prune``).

A record expires when its kind's period (``server.archive.settings``) has passed since its
conference ended. A conference on legal hold is skipped entirely. What goes:

- ``recordings``: a finished or interrupted recording's media files are removed from disk;
  the recording becomes ``status="pruned"`` with ``pruned_at``, and its ``RecordingFile``
  rows stay with their SHA-256 and ledger position, so the hash stays provable.
- ``room_events``, ``health_samples``: the rows.
- ``minutes_drafts``: the earlier revisions of *final* minutes; the current revision (the
  final text the ledger attests) and the comments stay. Minutes still in their workflow keep
  every revision (the merge and the stale-revision checks read them).

The ledger is never touched. Files are removed before the rows are marked: a failure part
way leaves recordings unmarked, and the next prune finishes them (a missing file is fine).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.archive.settings import retention_settings
from server.config import Config
from server.models import Conference, HealthSample, Recording, RecordingFile, RoomEventRecord
from server.models.minutes import MinutesDocument, MinutesRevision
from server.monitoring.settings import health_settings

KINDS = ("recordings", "room_events", "health_samples", "minutes_drafts")
PRUNABLE_RECORDINGS = ("finished", "interrupted")
RECORDINGS_DIRECTORY = "recordings"


@dataclass(frozen=True)
class Retention:
    """Days kept per kind after the conference's end; 0 keeps forever."""

    recordings: int = 0
    room_events: int = 0
    health_samples: int = 0
    minutes_drafts: int = 0

    @classmethod
    def from_config(cls, config: Config) -> Retention:
        kept = retention_settings(config)
        return cls(
            recordings=kept.recordings_days,
            room_events=kept.room_events_days,
            health_samples=health_settings(config).retention_days,
            minutes_drafts=kept.minutes_drafts_days,
        )

    def days(self, kind: str) -> int:
        value: int = getattr(self, kind)
        return value


@dataclass(frozen=True)
class Batch:
    """What goes of one kind in one conference: row ids, and for recordings their files."""

    kind: str
    conference_id: int
    conference_title: str
    ids: tuple[int, ...]
    files: tuple[str, ...] = ()  # relative to the data directory


@dataclass
class Plan:
    now: dt.datetime
    batches: list[Batch] = field(default_factory=list)
    held: list[tuple[int, str]] = field(default_factory=list)  # on hold, something expired
    failed: list[str] = field(default_factory=list)  # files that could not be removed

    def counts(self) -> dict[str, int]:
        totals = dict.fromkeys(KINDS, 0)
        for batch in self.batches:
            totals[batch.kind] += len(batch.ids)
        return totals

    def summary(self) -> dict[str, Any]:
        """The audit entry's detail: totals, and counts per conference and kind."""
        per: dict[str, dict[str, int]] = {}
        for batch in self.batches:
            per.setdefault(str(batch.conference_id), {})[batch.kind] = len(batch.ids)
        return {
            "now": self.now.isoformat(),
            "counts": self.counts(),
            "conferences": per,
            "held": [conference_id for conference_id, _ in self.held],
            "failed": self.failed,
        }


def _expired(cutoff: dt.datetime, held: bool = False) -> ColumnElement[bool]:
    return (Conference.ends_at <= cutoff) & (Conference.legal_hold.is_(held))


def _grouped(rows: Sequence[Any]) -> dict[tuple[int, str], list[Any]]:
    out: dict[tuple[int, str], list[Any]] = {}
    for row in rows:
        out.setdefault((row[1], row[2]), []).append(row)
    return out


def _rows_query(kind: str, cutoff: dt.datetime, held: bool = False) -> Select[int, int, str]:
    """(id, conference id, conference title) of what expired of ``kind``."""
    title = Conference.title
    if kind == "recordings":
        return (
            select(Recording.id, Conference.id, title)
            .join(Conference, Conference.id == Recording.conference_id)
            .where(_expired(cutoff, held), Recording.status.in_(PRUNABLE_RECORDINGS))
            .order_by(Conference.id, Recording.id)
        )
    if kind == "room_events":
        return (
            select(RoomEventRecord.id, Conference.id, title)
            .join(Conference, Conference.id == RoomEventRecord.conference_id)
            .where(_expired(cutoff, held))
            .order_by(Conference.id, RoomEventRecord.id)
        )
    if kind == "health_samples":
        return (
            select(HealthSample.id, Conference.id, title)
            .join(Conference, Conference.id == HealthSample.conference_id)
            .where(_expired(cutoff, held))
            .order_by(Conference.id, HealthSample.id)
        )
    return (
        select(MinutesRevision.id, Conference.id, title)
        .join(MinutesDocument, MinutesDocument.id == MinutesRevision.minutes_id)
        .join(Conference, Conference.id == MinutesDocument.conference_id)
        .where(
            _expired(cutoff, held),
            MinutesDocument.state == "final",
            MinutesRevision.number != MinutesDocument.revision,
        )
        .order_by(Conference.id, MinutesRevision.id)
    )


async def plan(db: AsyncSession, retention: Retention, now: dt.datetime) -> Plan:
    """What ``prune`` at ``now`` would delete, per kind and conference; changes nothing."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    found = Plan(now=now)
    held: dict[int, str] = {}
    for kind in KINDS:
        days = retention.days(kind)
        if days <= 0:
            continue
        cutoff = now - dt.timedelta(days=days)
        rows = (await db.execute(_rows_query(kind, cutoff))).all()
        for (conference_id, title), group in _grouped(rows).items():
            ids = tuple(int(row[0]) for row in group)
            files: tuple[str, ...] = ()
            if kind == "recordings":
                paths = await db.scalars(
                    select(RecordingFile.path)
                    .where(RecordingFile.recording_id.in_(ids))
                    .order_by(RecordingFile.id)
                )
                files = tuple(paths)
            found.batches.append(Batch(kind, conference_id, title, ids, files))
        on_hold = (
            _rows_query(kind, cutoff, held=True)
            .with_only_columns(Conference.id, Conference.title)
            .order_by(None)
            .distinct()
        )
        for conference_id, title in (await db.execute(on_hold)).all():
            held[int(conference_id)] = str(title)
    found.batches.sort(key=lambda b: (b.conference_id, KINDS.index(b.kind)))
    found.held = sorted(held.items())
    return found


def media_path(data_dir: Path, relative: str) -> Path | None:
    """The file a ``RecordingFile.path`` names, or ``None`` if it points outside the data
    directory's recordings (such a path is never deleted)."""
    root = (data_dir / RECORDINGS_DIRECTORY).resolve()
    path = (data_dir / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


def _remove(data_dir: Path, relative: str) -> str | None:
    """Remove one media file; a problem named, or ``None`` if it is gone (or never was)."""
    path = media_path(data_dir, relative)
    if path is None:
        return f"{relative}: outside {data_dir / RECORDINGS_DIRECTORY}, not removed"
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return f"{relative}: {exc.strerror or exc}"
    try:
        path.parent.rmdir()  # the recording's directory, once empty
    except OSError:
        pass
    return None


async def _delete(db: AsyncSession, model: Any, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), 500):
        await db.execute(delete(model).where(model.id.in_(ids[start : start + 500])))


async def prune(db: AsyncSession, retention: Retention, data_dir: Path, now: dt.datetime) -> Plan:
    """Delete what has expired at ``now`` and write one audit entry with the counts.

    Runs in the caller's transaction (the caller commits). Returns what was deleted;
    recordings whose files could not all be removed are left out of it (``failed`` names
    the files) and stay as they were.
    """
    found = await plan(db, retention, now)
    done: list[Batch] = []
    models = {
        "room_events": RoomEventRecord,
        "health_samples": HealthSample,
        "minutes_drafts": MinutesRevision,
    }
    for batch in found.batches:
        if batch.kind != "recordings":
            await _delete(db, models[batch.kind], batch.ids)
            done.append(batch)
            continue
        kept: list[int] = []
        for recording_id in batch.ids:
            paths = await db.scalars(
                select(RecordingFile.path).where(RecordingFile.recording_id == recording_id)
            )
            problems = [p for p in (_remove(data_dir, path) for path in paths) if p]
            found.failed.extend(problems)
            if not problems:
                kept.append(recording_id)
        if kept:
            await db.execute(
                update(Recording)
                .where(Recording.id.in_(kept), Recording.status.in_(PRUNABLE_RECORDINGS))
                .values(status="pruned", pruned_at=now)
            )
            files = await db.scalars(
                select(RecordingFile.path)
                .where(RecordingFile.recording_id.in_(kept))
                .order_by(RecordingFile.id)
            )
            done.append(
                Batch(
                    batch.kind,
                    batch.conference_id,
                    batch.conference_title,
                    tuple(kept),
                    tuple(files),
                )
            )
    found.batches = done
    audit.record(db, None, "archive.prune", "archive", "retention", detail=found.summary())
    await db.flush()
    return found
