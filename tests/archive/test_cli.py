"""``concord archive prune`` as an operator runs it: a real process on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.config import Config
from server.db import Database
from server.models import AuditEntry, Recording, RoomEventRecord
from tests.archive.helpers import build_conference, ledger_findings
from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
OLD_END = dt.datetime(2021, 10, 29, 10, 0, tzinfo=dt.UTC)


async def concord(config: Config, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "CONCORD_DATA_DIR": str(config.data_dir),
        "CONCORD_DATABASE_URL": config.database_url,
        "CONCORD_SECRET_KEY": SECRET,
        "CONCORD_RETENTION_RECORDINGS_DAYS": "365",
        "CONCORD_RETENTION_ROOM_EVENTS_DAYS": "365",
        "CONCORD_HEALTH_RETENTION_DAYS": "30",
        "CONCORD_RETENTION_MINUTES_DRAFTS_DAYS": "0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _state(database: Database) -> tuple[int, int, str]:
    async with database.session() as db:
        audits = await db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "archive.prune")
        )
        events = await db.scalar(select(func.count()).select_from(RoomEventRecord))
        status = await db.scalar(select(Recording.status))
    return int(audits or 0), int(events or 0), str(status)


async def test_dry_run_writes_nothing_then_prune_deletes(
    database: Database, config: Config
) -> None:
    async with database.session() as db, db.begin():
        built = await build_conference(db, config.data_dir, "cli", OLD_END)
    before = await _state(database)
    assert before == (0, 3, "finished")

    code, out, err = await concord(config, "archive", "prune", "--dry-run")
    assert code == 0, err
    assert f"conference {built.conference_id} (Hội nghị cli): would delete 1 recordings" in out
    assert "would delete 3 room events" in out
    assert "would delete 4 health samples" in out
    assert "dry run:" in out
    assert await _state(database) == before
    assert all(p.exists() for p in built.files)

    code, out, err = await concord(config, "archive", "prune")
    assert code == 0, err
    assert "deleted 1 recordings (media files) (2 files)" in out
    assert await _state(database) == (1, 0, "pruned")
    assert not any(p.exists() for p in built.files)
    async with database.session() as db:
        assert await ledger_findings(db, config.data_dir) == []


async def test_now_moves_the_clock_back(database: Database, config: Config) -> None:
    async with database.session() as db, db.begin():
        await build_conference(db, config.data_dir, "cli", OLD_END)
    # A day after the conference, with a year's retention: nothing has expired yet.
    code, out, err = await concord(config, "archive", "prune", "--now", "2021-10-30T10:00:00+07:00")
    assert code == 0, err
    assert "deleted 0 recordings" in out
    assert await _state(database) == (1, 3, "finished")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "yesterday"], "--now 'yesterday' is not an ISO 8601 date or time"),
        (["--now", "2026-02-30"], "is not an ISO 8601 date or time"),
        (["--now", "2022-01-01T00:00:00"], "has no time zone"),
        (["--now", "2999-01-01T00:00:00Z"], "--now is in the future"),
    ],
)
async def test_bad_arguments_are_refused(
    database: Database, config: Config, args: list[str], message: str
) -> None:
    async with database.session() as db, db.begin():
        await build_conference(db, config.data_dir, "cli", OLD_END)
    code, _out, err = await concord(config, "archive", "prune", *args)
    assert code == 2
    assert message in err
    assert await _state(database) == (0, 3, "finished")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_future_now_is_allowed_for_a_dry_run(database: Database, config: Config) -> None:
    code, out, err = await concord(config, "archive", "prune", "--dry-run", "--now", "2999-01-01")
    assert code == 0, err
    assert "as of 2999-01-01T00:00:00+00:00" in out
