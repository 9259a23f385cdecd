"""The ledger in the database: appends, public proofs, permit decisions, `concord ledger verify`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from recordings.ledger.merkle import MerkleLog, leaf_hash, verify_inclusion
from recordings.ledger.tree_head import SignedTreeHead, verify_tree_head
from server.cli import main
from server.config import Config
from server.db import Database
from server.ledger import operations as ops
from server.models import LedgerEntry, LedgerHead
from tests.conftest import SECRET
from tests.permits.conftest import Client, People, application_body


async def fill(database: Database, config: Config, count: int) -> None:
    signer = ops.ledger_signer(config.data_dir)
    for index in range(count):
        async with database.session() as db, db.begin():
            await ops.append(
                db, signer, "recording", f"recording:{index}", {"sha256": f"{index:064x}"}
            )


async def test_append_gives_dense_positions_and_a_signed_head_per_entry(
    database: Database, config: Config
) -> None:
    await fill(database, config, 3)
    signer = ops.ledger_signer(config.data_dir)
    async with database.session() as db, db.begin():  # two appends in one transaction
        await ops.append(db, signer, "signing", "signing:1", {"who": 1})
        await ops.append(db, signer, "signing", "signing:2", {"who": 2})
    async with database.session() as db:
        entries = list(await db.scalars(select(LedgerEntry).order_by(LedgerEntry.position)))
        heads = list(await db.scalars(select(LedgerHead).order_by(LedgerHead.tree_size)))
        loaded = await ops.load_log(db)
    assert [e.position for e in entries] == [0, 1, 2, 3, 4]
    assert [h.tree_size for h in heads] == [1, 2, 3, 4, 5]
    log = MerkleLog()
    pem = signer.public_key_pem()
    for entry, head in zip(entries, heads, strict=True):
        assert entry.data == ops.canonical(entry.kind, entry.ref, entry.payload)
        assert entry.leaf_hash == leaf_hash(entry.data)
        log.append_leaf_hash(entry.leaf_hash)
        assert head.root_hash == log.root()
        assert verify_tree_head(ops.as_signed(head), pem)
    assert ops.verify(loaded, pem) == []
    with pytest.raises(Exception, match="unknown ledger entry kind"):
        async with database.session() as db, db.begin():
            await ops.append(db, signer, "gossip", "x", {})


async def test_an_append_reads_the_last_head_s_frontier_and_a_head_without_one_is_rebuilt(
    database: Database, config: Config
) -> None:
    """Each head keeps the frontier the next append starts from; a head signed before there
    were frontiers (migration 0021) makes the next append read every leaf once, and the roots
    are the same either way."""
    await fill(database, config, 5)
    async with database.session() as db, db.begin():
        await db.execute(update(LedgerHead).values(frontier=None))  # as before migration 0021
    await fill(database, config, 3)
    async with database.session() as db:
        heads = list(await db.scalars(select(LedgerHead).order_by(LedgerHead.tree_size)))
        loaded = await ops.load_log(db)
    assert [h.frontier is None for h in heads] == [True] * 5 + [False] * 3
    assert [len(h.frontier or b"") for h in heads[5:]] == [64, 96, 32]  # sizes 6, 7, 8
    assert ops.verify(loaded, ops.ledger_signer(config.data_dir).public_key_pem()) == []


async def test_entry_proof_verifies_with_the_published_key_alone(
    client: Client, demo: Database, config: Config
) -> None:
    assert (await client.get("/api/ledger/heads/latest")).status == 404
    await fill(demo, config, 6)
    pem = await (await client.get("/.well-known/concord-ledger-key.pem")).read()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    latest = SignedTreeHead.from_dict(await (await client.get("/api/ledger/heads/latest")).json())
    assert latest.tree_size == 6 and verify_tree_head(latest, pem)
    for position in range(6):
        response = await client.get(f"/api/ledger/entries/{position}")
        assert response.status == 200
        body = await response.json()
        head = SignedTreeHead.from_dict(body["head"])
        assert verify_tree_head(head, pem)
        leaf = bytes.fromhex(body["leaf_hash"])
        assert leaf == leaf_hash(body["entry"]["data"].encode("utf-8"))
        proof = [bytes.fromhex(p) for p in body["inclusion_proof"]]
        assert verify_inclusion(leaf, position, head.tree_size, proof, head.root_hash)
        assert not verify_inclusion(leaf, (position + 1) % 6, head.tree_size, proof, head.root_hash)
    assert body["entry"]["payload"] == {"sha256": f"{5:064x}"}
    forged = SignedTreeHead(head.tree_size, head.timestamp + 1, head.root_hash, head.signature)
    assert not verify_tree_head(forged, pem)
    assert (await client.get("/api/ledger/entries/6")).status == 404
    page = await client.get("/ledger/2", headers={"Accept-Language": "en"})
    assert page.status == 200
    html = await page.text()
    assert head.root_hash.hex() in html and "/.well-known/concord-ledger-key.pem" in html
    # What was recorded, as rows people read; the exact JSON is kept for checking the hash.
    recorded = html[html.index('id="ledger-recorded"') :].split("</table>")[0]
    assert '<th scope="row">sha256</th>' in recorded
    assert '<pre id="ledger-data" class="wrap">' in html
    assert (await client.get("/ledger/99")).status == 404


async def test_a_permit_decision_is_appended(
    client: Client, people: People, demo: Database
) -> None:
    made = await client.post(
        "/api/conferences/1/permits", json=application_body(), headers=people("organiser")
    )
    application_id = int((await made.json())["id"])
    one = f"/api/permits/{application_id}"
    await client.post(one + "/submit", json={}, headers=people("organiser"))
    sent_back = await client.post(
        one + "/decision",
        json={"outcome": "request_changes", "comment": "Add the agenda."},
        headers=people("approver"),
    )
    assert sent_back.status == 200
    async with demo.session() as db:
        assert await ops.count(db) == 0  # asking for changes decides nothing
    await client.post(one + "/submit", json={}, headers=people("organiser"))
    done = await client.post(
        one + "/decision",
        json={"outcome": "approve", "comment": "Report within 15 days."},
        headers=people("approver"),
    )
    assert done.status == 200, await done.text()
    async with demo.session() as db:
        entries = list(await db.scalars(select(LedgerEntry)))
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.kind, entry.ref, entry.position) == (
        "permit_decision",
        f"permit:{application_id}",
        0,
    )
    payload = entry.payload
    assert payload["application_id"] == application_id and payload["conference_id"] == 1
    assert payload["outcome"] == "approved" and payload["decided_by"] == people.ids["approver"]
    assert payload["comment_sha256"] == ops.sha256_hex(b"Report within 15 days.")
    assert payload["decided_at"].startswith("20")
    body = await (await client.get("/api/ledger/entries/0")).json()
    assert body["entry"]["ref"] == f"permit:{application_id}"


async def run_verify(monkeypatch: pytest.MonkeyPatch, config: Config, *extra: str) -> int:
    monkeypatch.setenv("CONCORD_DATA_DIR", str(config.data_dir))
    monkeypatch.setenv("CONCORD_DATABASE_URL", config.database_url)
    monkeypatch.setenv("CONCORD_SECRET_KEY", SECRET)
    # main() runs its own event loop, so it cannot run on this test's.
    return await asyncio.to_thread(main, ["ledger", "verify", *extra])


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


async def test_verify_names_the_tampered_entry(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await run_verify(monkeypatch, config) == 0
    assert lines(capsys) == ["the ledger is empty"]
    await fill(database, config, 6)
    assert await run_verify(monkeypatch, config) == 0
    assert lines(capsys) == ["the ledger verifies: 6 entries, 6 signed heads"]

    async def change(position: int, **values: Any) -> dict[str, Any]:
        async with database.session() as db, db.begin():
            row = await db.scalar(select(LedgerEntry).where(LedgerEntry.position == position))
            assert row is not None
            before = {name: getattr(row, name) for name in values}
            await db.execute(
                update(LedgerEntry).where(LedgerEntry.position == position).values(**values)
            )
        return before

    # The payload people read no longer matches what was signed.
    before = await change(2, payload={"sha256": "0" * 64})
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert found and all(line.startswith("position 2: changed") for line in found), found
    await change(2, **before)
    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()

    # The signed data itself, rewritten consistently with the payload.
    forged = {"sha256": "f" * 64}
    before = await change(3, payload=forged, data=ops.canonical("recording", "recording:3", forged))
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert found and found[0].startswith("position 3: changed"), found
    await change(3, **before)
    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()

    # A forged head signature.
    async with database.session() as db, db.begin():
        await db.execute(
            update(LedgerHead).where(LedgerHead.tree_size == 4).values(signature=b"\x00" * 64)
        )
    assert await run_verify(monkeypatch, config) == 1
    assert any(line.startswith("tree head of size 4: bad_signature") for line in lines(capsys))

    # A deleted row.
    async with database.session() as db, db.begin():
        await db.execute(delete(LedgerEntry).where(LedgerEntry.position == 1))
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert any(line.startswith("position 1: removed") for line in found), found


async def test_verify_with_a_published_key_and_usage_errors(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    await fill(database, config, 2)
    published = tmp_path / "published.pem"
    published.write_bytes(ops.ledger_signer(config.data_dir).public_key_pem())
    assert await run_verify(monkeypatch, config, "--public-key", str(published)) == 0
    capsys.readouterr()
    other = tmp_path / "other"
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(ops.ledger_signer(other).public_key_pem())
    assert await run_verify(monkeypatch, config, "--public-key", str(other_pem)) == 1
    found = lines(capsys)
    kinds = [line.split(":")[1].strip() for line in found]
    assert kinds == ["bad_signature"] * 2 + ["unsigned"] + ["bad_signature"] * 2  # 2 in witness
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    assert await run_verify(monkeypatch, config, "--public-key", str(not_pem)) == 2
    assert await run_verify(monkeypatch, config, "--public-key", str(tmp_path / "none")) == 2
    with pytest.raises(SystemExit) as exit_info:
        await run_verify(monkeypatch, config, "--bogus")
    assert exit_info.value.code == 2
