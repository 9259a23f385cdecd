"""`concord demo` archives the 2021 MoU conference: final minutes and both signings in the
ledger, a record that verifies at once; a second run changes nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from server.accounts.passwords import Passwords
from server.agreements import register
from server.config import Config
from server.db import Database
from server.demo.archive import archive_demo
from server.demo.data import MOU
from server.ledger.operations import ledger_signer, load_log, verify
from server.minutes.reading import minutes_from
from server.models import (
    Agreement,
    Conference,
    LedgerEntry,
    MinutesDocument,
    MinutesRevision,
    Signing,
    Site,
)
from tests.conftest import sign_in_english


async def _archive(demo: Database, config: Config) -> list[str]:
    return await archive_demo(
        demo, Passwords.from_config(config), ledger_signer(config.data_dir), config.data_dir
    )


async def test_the_mou_is_archived_verifiably_and_only_once(demo: Database, config: Config) -> None:
    lines = await _archive(demo, config)
    assert any("minutes are final" in line for line in lines)
    async with demo.session() as db:
        conference = await db.scalar(select(Conference).where(Conference.slug == MOU["slug"]))
        assert conference is not None
        minutes = await db.scalar(
            select(MinutesDocument).where(MinutesDocument.conference_id == conference.id)
        )
        assert minutes is not None and minutes.state == "final" and minutes.digest
        found = await db.scalar(
            select(Agreement.id).where(Agreement.conference_id == conference.id)
        )
        assert found is not None
        agreement = await register.load(db, conference.id, found)
        assert agreement.status == "signed"
        assert {v.language for v in agreement.versions} == {"vi", "lo"}
        for version in agreement.versions:
            stored = config.data_dir / "agreements" / str(agreement.id) / version.stored_name
            head = await asyncio.to_thread(Path(stored).read_bytes)
            assert head.startswith(b"%PDF")
        signings = list(await db.scalars(select(Signing).order_by(Signing.at)))
        assert [s.at.isoformat() for s in signings] == [
            "2021-10-29T03:02:00+00:00",
            "2021-10-29T03:04:00+00:00",
        ], "signed at the ceremony's time (10:02 and 10:04 in Quang Ngai)"
        assert {s.auth_method for s in signings} == {"imported"}
        kinds = list(await db.scalars(select(LedgerEntry.kind).order_by(LedgerEntry.position)))
        assert kinds == ["minutes_final", "signing", "signing"]
        last = await db.scalar(select(LedgerEntry).where(LedgerEntry.position == 2))
        assert last is not None and last.payload["complete"] is True
        assert last.payload["versions"] == [
            {"language": v.language, "sha256": v.sha256} for v in agreement.versions
        ]
        public_key = ledger_signer(config.data_dir).public_key_pem()
        assert verify(await load_log(db), public_key) == []

    again = await _archive(demo, config)
    assert again == [f"archive: the 2021 MoU is already archived (agreement {agreement.id})"]
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(LedgerEntry)) == 3


async def test_the_archived_record_reads_in_the_pages(
    demo: Database, config: Config, client: Any
) -> None:
    await _archive(demo, config)
    async with demo.session() as db:
        conference = await db.scalar(select(Conference).where(Conference.slug == MOU["slug"]))
        agreement = await db.scalar(select(Agreement))
    assert conference is not None and agreement is not None
    await sign_in_english(client, "organiser@concord.example")
    minutes = await client.get(f"/conferences/{conference.id}/minutes.html")
    assert minutes.status == 200
    text = await minutes.text()
    assert "Ký kết Biên bản ghi nhớ hợp tác" in text and "ລົງນາມ" in text
    certificate = await client.get(
        f"/conferences/{conference.id}/agreements/{agreement.id}/certificate"
    )
    assert certificate.status == 200
    body = await certificate.text()
    assert "Delegate A. (placeholder)" in body and "Delegate C. (placeholder)" in body


async def test_the_final_minutes_take_attendance_from_the_day_in_the_room(
    demo: Database, config: Config
) -> None:
    """Both halls were present from the opening to the end, the signing included (a 40 s drop
    is bridged), and each head of delegation's address is an intervention from their hall."""
    await _archive(demo, config)
    async with demo.session() as db:
        conference = await db.scalar(select(Conference).where(Conference.slug == MOU["slug"]))
        assert conference is not None
        row = await db.scalar(
            select(MinutesRevision)
            .join(MinutesDocument, MinutesDocument.id == MinutesRevision.minutes_id)
            .where(MinutesDocument.conference_id == conference.id)
            .order_by(MinutesRevision.number.desc())
            .limit(1)
        )
        assert row is not None
        sites = {s.id: s.name for s in await db.scalars(select(Site))}
    minutes = minutes_from(json.loads(row.document))
    sessions = [item.session_uid for item in minutes.items]
    assert len(sessions) == 5
    for uid in sessions:
        rows = {sites[a.site_id]: a for a in minutes.attendance if a.session_uid == uid}
        assert set(rows) == {"Quang Ngai hall", "Champasak hall"}, uid
        for name, attended in rows.items():
            assert len(attended.intervals) == 1, (uid, name, attended.intervals)
            assert not attended.late and not attended.left_early, (uid, name)
    spoke = [(sessions.index(t.session_uid), sites[t.site_id]) for t in minutes.interventions]
    assert spoke == [(1, "Quang Ngai hall"), (2, "Champasak hall")]
