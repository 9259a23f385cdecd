"""`concord demo` archives the 2021 MoU conference: final minutes and both signings in the
ledger, a record that verifies at once; a second run changes nothing."""

from __future__ import annotations

import asyncio
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
from server.models import Agreement, Conference, LedgerEntry, MinutesDocument, Signing
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
