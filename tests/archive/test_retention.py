"""Retention on both databases: what expired goes, what is held or still kept stays, and the
ledger (with every pruned recording's SHA-256) is untouched and still verifies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.archive.hold import set_legal_hold
from server.archive.retention import Retention, media_path, plan, prune
from server.config import Config
from server.db import Database
from server.errors import Conflict, InvalidInput
from server.identity import Identity
from server.models import (
    AuditEntry,
    Conference,
    HealthSample,
    LedgerEntry,
    MinutesRevision,
    Recording,
    RecordingFile,
    Role,
    RoomEventRecord,
)
from tests.archive.helpers import Built, build_conference, ledger_findings

OLD_END = dt.datetime(2021, 10, 29, 10, 0, tzinfo=dt.UTC)
NOW = OLD_END + dt.timedelta(days=40)
RECENT_END = NOW - dt.timedelta(days=10)
EVERYTHING_30 = Retention(recordings=30, room_events=30, health_samples=30, minutes_drafts=30)
ADMIN = Identity(
    via="bearer", user_id=None, email="admin@concord.example", roles=frozenset({Role.ADMIN})
)


async def _count(database: Database, model: type, conference_id: int) -> int:
    async with database.session() as db:
        if model is MinutesRevision:
            from server.models import MinutesDocument

            query = (
                select(func.count())
                .select_from(MinutesRevision)
                .join(MinutesDocument, MinutesDocument.id == MinutesRevision.minutes_id)
                .where(MinutesDocument.conference_id == conference_id)
            )
        else:
            query = (
                select(func.count())
                .select_from(model)
                .where(
                    model.conference_id == conference_id  # type: ignore[attr-defined]
                )
            )
        return int(await db.scalar(query) or 0)


async def _two(database: Database, config: Config) -> tuple[Built, Built]:
    async with database.session() as db, db.begin():
        old = await build_conference(db, config.data_dir, "old", OLD_END)
        recent = await build_conference(db, config.data_dir, "recent", RECENT_END)
    return old, recent


async def test_prune_deletes_what_expired_and_keeps_the_ledger(
    database: Database, config: Config
) -> None:
    old, recent = await _two(database, config)
    async with database.session() as db:
        assert await ledger_findings(db, config.data_dir) == []
        entries_before = [
            (e.position, bytes(e.leaf_hash))
            for e in await db.scalars(select(LedgerEntry).order_by(LedgerEntry.position))
        ]
    assert len(entries_before) == 4  # two files per recording

    async with database.session() as db, db.begin():
        done = await prune(db, EVERYTHING_30, config.data_dir, NOW)
    assert done.counts() == {
        "recordings": 1,
        "room_events": 3,
        "health_samples": 4,
        "minutes_drafts": 2,
    }
    assert {b.conference_id for b in done.batches} == {old.conference_id}

    # The old conference's media is gone from disk, the recent one's is not.
    assert not any(p.exists() for p in old.files)
    assert not old.files[0].parent.exists()  # the emptied directory too
    assert all(p.exists() for p in recent.files)
    async with database.session() as db:
        recording = await db.get(Recording, old.recording_id)
        assert recording is not None
        assert recording.status == "pruned" and recording.pruned_at == NOW
        kept = await db.get(Recording, recent.recording_id)
        assert kept is not None and kept.status == "finished" and kept.pruned_at is None
        # The file rows stay, and each pruned file's SHA-256 is still in the ledger.
        files = list(
            await db.scalars(
                select(RecordingFile).where(RecordingFile.recording_id == old.recording_id)
            )
        )
        hashes: list[str] = []
        for f in files:
            assert f.sha256 is not None  # every file of a finished recording has its hash
            hashes.append(f.sha256)
        assert sorted(hashes) == sorted(old.sha256)
        for row in files:
            assert row.ledger_position is not None
            entry = await db.scalar(
                select(LedgerEntry).where(LedgerEntry.position == row.ledger_position)
            )
            assert entry is not None and entry.payload["sha256"] == row.sha256
        # The ledger: same entries, and it still verifies.
        entries_after = [
            (e.position, bytes(e.leaf_hash))
            for e in await db.scalars(select(LedgerEntry).order_by(LedgerEntry.position))
        ]
        assert entries_after == entries_before
        assert await ledger_findings(db, config.data_dir) == []
        audit = await db.scalar(select(AuditEntry).where(AuditEntry.action == "archive.prune"))
        assert audit is not None
        assert audit.detail["counts"]["health_samples"] == 4
        assert audit.detail["conferences"][str(old.conference_id)]["room_events"] == 3
    for model, old_left, recent_left in (
        (RoomEventRecord, 0, 3),
        (HealthSample, 0, 4),
        (MinutesRevision, 1, 3),  # the final text (the current revision) stays
    ):
        assert await _count(database, model, old.conference_id) == old_left
        assert await _count(database, model, recent.conference_id) == recent_left

    # A second prune finds nothing more.
    async with database.session() as db, db.begin():
        again = await prune(db, EVERYTHING_30, config.data_dir, NOW)
    assert sum(again.counts().values()) == 0


async def test_a_conference_on_hold_is_skipped_entirely(database: Database, config: Config) -> None:
    old, _ = await _two(database, config)
    async with database.session() as db, db.begin():
        await set_legal_hold(db, ADMIN, old.conference_id, True, "Inspection 2026/17")
    async with database.session() as db:
        planned = await plan(db, EVERYTHING_30, NOW)
    assert planned.batches == []
    assert planned.held == [(old.conference_id, "Hội nghị old")]
    async with database.session() as db, db.begin():
        done = await prune(db, EVERYTHING_30, config.data_dir, NOW)
    assert sum(done.counts().values()) == 0
    assert all(p.exists() for p in old.files)
    assert await _count(database, RoomEventRecord, old.conference_id) == 3
    assert await _count(database, HealthSample, old.conference_id) == 4
    assert await _count(database, MinutesRevision, old.conference_id) == 3

    async with database.session() as db, db.begin():
        await set_legal_hold(db, ADMIN, old.conference_id, False, "Inspection closed")
    async with database.session() as db, db.begin():
        done = await prune(db, EVERYTHING_30, config.data_dir, NOW)
    assert done.counts()["recordings"] == 1
    assert not any(p.exists() for p in old.files)


async def test_not_yet_expired_and_keep_forever(database: Database, config: Config) -> None:
    await _two(database, config)
    async with database.session() as db:
        # 50 days: even the old conference (ended 40 days before NOW) is kept.
        assert (await plan(db, Retention(50, 50, 50, 50), NOW)).batches == []
        # 0 keeps a kind forever; the others still expire.
        partial = await plan(db, Retention(recordings=0, room_events=30), NOW)
    assert partial.counts() == {
        "recordings": 0,
        "room_events": 3,
        "health_samples": 0,
        "minutes_drafts": 0,
    }
    # Exactly at the end of the period counts as expired; a second before does not.
    async with database.session() as db:
        edge = await plan(db, Retention(room_events=40), NOW)
        before = await plan(db, Retention(room_events=40), NOW - dt.timedelta(seconds=1))
    assert edge.counts()["room_events"] == 3 and before.counts()["room_events"] == 0


async def test_a_recording_still_recording_is_not_pruned(
    database: Database, config: Config
) -> None:
    old, _ = await _two(database, config)
    async with database.session() as db, db.begin():
        row = await db.get(Recording, old.recording_id)
        assert row is not None
        row.status = "recording"
    async with database.session() as db:
        assert (await plan(db, Retention(recordings=30), NOW)).batches == []


async def test_hold_needs_a_reason_and_a_change(database: Database, config: Config) -> None:
    old, _ = await _two(database, config)
    async with database.session() as db, db.begin():
        with pytest.raises(InvalidInput):
            await set_legal_hold(db, ADMIN, old.conference_id, True, "   ")
        with pytest.raises(Conflict):
            await set_legal_hold(db, ADMIN, old.conference_id, False, "not held")
        await set_legal_hold(db, ADMIN, old.conference_id, True, "Audit  request")
        with pytest.raises(Conflict):
            await set_legal_hold(db, ADMIN, old.conference_id, True, "again")
    async with database.session() as db:
        held = await db.get(Conference, old.conference_id)
        assert held is not None and held.legal_hold
        assert held.legal_hold_reason == "Audit request"
        assert held.legal_hold_by == "admin@concord.example" and held.legal_hold_at is not None
        actions = list(
            await db.scalars(
                select(AuditEntry.action).where(AuditEntry.conference_id == old.conference_id)
            )
        )
        assert actions.count("conference.legal_hold") == 1


def test_media_paths_outside_the_recordings_are_never_deleted(tmp_path: Path) -> None:
    assert media_path(tmp_path, "recordings/1/2/floor.webm") is not None
    assert media_path(tmp_path, "../etc/passwd") is None
    assert media_path(tmp_path, "secret_key") is None
    assert media_path(tmp_path, "recordings/../secret_key") is None
    assert media_path(tmp_path, "recordings") is None
