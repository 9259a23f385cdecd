"""Rows that point into the ledger (signings, minutes, permit decisions) catch a cut tail even
without the witness file, and the documents the parties keep carry their entry's signed head."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from server.accounts.passwords import Passwords
from server.config import Config
from server.db import Database
from server.demo.archive import archive_demo
from server.ledger import operations as ops
from server.models import Agreement, LedgerHead, RecordingFile, Signing, utcnow
from server.room_recording import operations as recording
from tests.conftest import sign_in_english
from tests.ledger.test_ledger import lines, run_verify
from tests.ledger.test_tampering import cut_tail
from tests.permits.conftest import Client, People
from tests.permits.test_decision import decided, pdf_text


async def test_signing_rows_catch_a_cut_tail_and_the_certificate_shows_the_head(
    demo: Database,
    config: Config,
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await archive_demo(
        demo, Passwords.from_config(config), ops.ledger_signer(config.data_dir), config.data_dir
    )  # entries: 0 the minutes, 1 and 2 the two signings of the MoU
    async with demo.session() as db:
        agreement = await db.scalar(select(Agreement))
        last = await db.scalar(select(Signing).where(Signing.ledger_position == 2))
        head = await db.scalar(select(LedgerHead).where(LedgerHead.tree_size == 3))
    assert agreement is not None and last is not None and head is not None
    await sign_in_english(client, "organiser@concord.example")
    page = await client.get(
        f"/conferences/{agreement.conference_id}/agreements/{agreement.id}/certificate"
    )
    html = await page.text()
    shown = ops.shown_head(ops.as_signed(head))
    assert "size 3, signed " + shown["time"] in html
    assert shown["root_hash"] in html and shown["signature"] in html
    assert html.count('class="tree-head"') == 2  # one per signing

    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()
    monkeypatch.setenv("CONCORD_LEDGER_WITNESS", str(config.data_dir / "elsewhere.jsonl"))

    async def point(position: int) -> None:
        async with demo.session() as db, db.begin():
            await db.execute(
                update(Signing).where(Signing.id == last.id).values(ledger_position=position)
            )

    await point(0)  # at an entry that says something else
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert len(found) == 1 and found[0].startswith(
        f"position 0: broken_reference: agreement_signings row {last.id} points at ledger "
        "position 0, but that entry does not match the row: kind is 'minutes_final', not "
        "'signing'"
    ), found
    assert f"client_commitment is None, the row says '{last.commitment}'" in found[0]
    await point(7)  # past the end
    assert await run_verify(monkeypatch, config) == 1
    assert lines(capsys) == [
        f"position 7: broken_reference: agreement_signings row {last.id} points at ledger "
        "position 7, past the end of the log (3 entries): the log's tail was cut"
    ]
    await point(2)
    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()

    await cut_tail(demo, 2)  # the last signing's entry and head, gone together
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert found[0] == (
        f"position 2: broken_reference: agreement_signings row {last.id} points at ledger "
        "position 2, past the end of the log (2 entries): the log's tail was cut"
    )
    assert [text.split(" row ")[0] for text in found[1:]] == [
        "position 2: broken_reference: audit_log"  # the audit log remembers it too
    ], found
    await cut_tail(demo, 0)  # everything: the minutes say they were final too
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert [text.split(" row ")[0] for text in found] == [
        "position 1: broken_reference: agreement_signings",
        "position 2: broken_reference: agreement_signings",
        "position 0: broken_reference: minutes",
        "position 0: broken_reference: audit_log",
        "position 1: broken_reference: audit_log",
        "position 2: broken_reference: audit_log",
    ], found


async def test_a_decided_permit_catches_a_cut_tail_and_its_decision_shows_the_head(
    client: Client,
    people: People,
    demo: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    application_id = await decided(client, people, "approve", "Report within 15 days.")
    async with demo.session() as db:
        head = ops.as_signed((await db.scalars(select(LedgerHead))).one())
    shown = ops.shown_head(head)
    html = await (
        await client.get(f"/permits/{application_id}/decision", headers=people("approver"))
    ).text()
    assert (
        "This decision is entry 0 of Concord&#39;s public ledger. Its signed tree head: "
        f"size 1, signed {shown['time']}." in html
    )
    assert shown["root_hash"] in html and shown["signature"] in html
    pdf = await client.get(f"/permits/{application_id}/decision.pdf", headers=people("approver"))
    text = pdf_text(await pdf.read())
    assert "Its signed tree head: size 1, signed" in text and "concord ledger verify --head" in text
    vietnamese = await (
        await client.get(f"/permits/{application_id}/decision", headers=people("organiser"))
    ).text()
    assert "Đầu cây đã ký của nó: kích thước 1" in vietnamese

    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()
    monkeypatch.setenv("CONCORD_LEDGER_WITNESS", str(config.data_dir / "elsewhere.jsonl"))
    await cut_tail(demo, 0)
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert len(found) == 1 and found[0].startswith(
        f"ledger: broken_reference: permit_applications row {application_id} is approved "
        f"(decision {application_id:04d}/"
    ), found
    assert found[0].endswith(
        f"no ledger entry attests that decision (entries with ref permit:{application_id}: none)"
    )


async def test_a_recording_file_row_must_match_its_entry(
    demo: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signer = ops.ledger_signer(config.data_dir)
    async with demo.session() as db, db.begin():
        row = await recording.begin(db, 1, "chair", utcnow())
        stored = recording.StoredFile("floor", "floor.webm", "video/webm", 1234, 3.0, "ab" * 32)
        await recording.finish(db, signer, row.id, [stored], {})
    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()
    async with demo.session() as db, db.begin():  # the file swapped for another
        await db.execute(update(RecordingFile).values(sha256="cd" * 32, size=99))
        file_id = (await db.scalars(select(RecordingFile.id))).one()
    assert await run_verify(monkeypatch, config) == 1
    assert lines(capsys) == [
        f"position 0: broken_reference: recording_files row {file_id} points at ledger "
        f"position 0, but that entry does not match the row: size is 1234, the row says 99; "
        f"sha256 is '{'ab' * 32}', the row says '{'cd' * 32}'"
    ]
