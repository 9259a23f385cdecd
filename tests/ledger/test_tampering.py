"""Shortening and rewriting the ledger from the attacker's side: someone who can edit the
database (SQLite or PostgreSQL, for real) but not the witness file nor the heads the parties
kept. Each tampering must make `concord ledger verify` fail and say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from recordings.ledger.tree_head import SignedTreeHead, TreeHeadSigner
from recordings.ledger.witness import read_witness
from server.config import Config
from server.db import Database
from server.ledger import operations as ops
from server.models import LedgerEntry, LedgerHead
from tests.ledger.test_ledger import fill, lines, run_verify


async def heads(database: Database) -> list[SignedTreeHead]:
    async with database.session() as db:
        rows = await db.scalars(select(LedgerHead).order_by(LedgerHead.tree_size))
        return [ops.as_signed(row) for row in rows]


async def cut_tail(database: Database, keep: int) -> None:
    """What the attacker does: delete the last entries together with their heads."""
    async with database.session() as db, db.begin():
        await db.execute(delete(LedgerEntry).where(LedgerEntry.position >= keep))
        await db.execute(delete(LedgerHead).where(LedgerHead.tree_size > keep))


async def own_check(database: Database, config: Config) -> list[str]:
    """The ledger's check of itself, without witness, references or kept heads."""
    async with database.session() as db:
        loaded = await ops.load_log(db)
    pem = ops.ledger_signer(config.data_dir).public_key_pem()
    return [finding.detail for finding in ops.verify(loaded, pem)]


async def test_the_witness_gets_every_head_and_catches_a_cut_tail(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await fill(database, config, 5)
    witness = config.ledger_witness
    assert witness.read_bytes().count(b"\n") == 5
    assert read_witness(witness).heads == await heads(database)
    with pytest.raises(RuntimeError):  # a rolled-back append leaves no line
        async with database.session() as db, db.begin():
            await ops.append(db, ops.ledger_signer(config.data_dir), "recording", "r:x", {})
            raise RuntimeError("roll back")
    assert witness.read_bytes().count(b"\n") == 5
    assert await run_verify(monkeypatch, config) == 0
    capsys.readouterr()

    await cut_tail(database, 3)
    assert await own_check(database, config) == []  # the hole: a shorter log proves itself
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    for line in (4, 5):
        assert any(
            text.startswith(f"witness {witness} line {line}: truncated")
            and "only 3 entries" in text
            for text in found
        ), found


async def test_a_deleted_head_is_caught(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await fill(database, config, 5)
    async with database.session() as db, db.begin():
        await db.execute(delete(LedgerHead).where(LedgerHead.tree_size == 3))
    assert await run_verify(monkeypatch, config) == 1
    assert lines(capsys) == [
        "tree head of size 3: missing_head: there is no signed tree head of size 3, although "
        "every append signs one and a head of size 5 exists: it was deleted"
    ]
    async with database.session() as db, db.begin():  # the latest head, too
        await db.execute(delete(LedgerHead).where(LedgerHead.tree_size == 5))
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    assert any(": unsigned:" in text for text in found), found
    assert any(
        text.startswith(f"witness {config.ledger_witness} line 5: truncated")
        and "latest signed head has size 4" in text
        for text in found
    ), found
    # Without the witness the deleted middle head is still named.
    monkeypatch.setenv("CONCORD_LEDGER_WITNESS", str(config.data_dir / "elsewhere.jsonl"))
    assert await run_verify(monkeypatch, config) == 1
    assert any(text.startswith("tree head of size 3: missing_head") for text in lines(capsys))


async def test_kept_heads_pass_on_a_grown_log_and_fail_on_a_cut_one(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    await fill(database, config, 3)
    early = await heads(database)
    kept = tmp_path / "kept.jsonl"
    kept.write_text("".join(json.dumps(head.to_dict()) + "\n" for head in early))
    as_list = tmp_path / "kept.json"
    as_list.write_text(json.dumps([head.to_dict() for head in early]))
    inline = json.dumps(early[-1].to_dict())
    await fill(database, config, 2)  # the log grows after the party kept its heads
    for given, count in ((inline, 1), (str(kept), 3), (str(as_list), 3)):
        assert await run_verify(monkeypatch, config, "--head", given) == 0
        assert lines(capsys)[-1] == f"it extends every kept head given ({count}), up to size 3"

    await cut_tail(database, 2)
    monkeypatch.setenv("CONCORD_LEDGER_WITNESS", str(tmp_path / "lost-witness.jsonl"))
    assert await run_verify(monkeypatch, config, "--head", inline, "--head", str(kept)) == 1
    found = lines(capsys)
    assert any(
        text.startswith("--head (inline JSON): truncated: a kept head of size 3")
        and "the log has only 2 entries" in text
        for text in found
    ), found
    assert any(text.startswith(f"--head {kept} head 3: truncated") for text in found), found
    assert not any(text.startswith(f"--head {kept} head 2") for text in found), found


async def test_kept_heads_and_the_witness_catch_a_forked_log(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await fill(database, config, 5)
    original = await heads(database)
    # The attacker rebuilds the log with another entry 2 and re-signs every head with the
    # ledger's own key (bypassing the witness, which they cannot write).
    key = TreeHeadSigner(config.data_dir / ops.KEY_DIRECTORY)
    async with database.session() as db, db.begin():
        await db.execute(delete(LedgerEntry))
        await db.execute(delete(LedgerHead))
        for index in range(5):
            payload = {"sha256": f"{index if index != 2 else 999:064x}"}
            await ops.append(db, key, "recording", f"recording:{index}", payload)
    assert await own_check(database, config) == []  # the forked log proves itself
    assert await run_verify(monkeypatch, config) == 1
    found = lines(capsys)
    witness = config.ledger_witness
    assert [text.split(":")[0] for text in found] == [
        f"witness {witness} line {n}" for n in (3, 4, 5)
    ], found
    assert all(": forked:" in text for text in found), found

    same_size = json.dumps(original[4].to_dict())
    smaller = json.dumps(original[3].to_dict())
    before_fork = json.dumps(original[1].to_dict())
    monkeypatch.setenv("CONCORD_LEDGER_WITNESS", str(config.data_dir / "elsewhere.jsonl"))
    assert await run_verify(monkeypatch, config, "--head", same_size) == 1
    assert lines(capsys) == [
        "--head (inline JSON): forked: a kept head of size 5 (signed "
        f"{original[4].time:%Y-%m-%d %H:%M:%S} UTC): the log's first 5 entries have a different "
        "root; the log was forked (rewritten) at or before that size"
    ]
    assert await run_verify(monkeypatch, config, "--head", smaller) == 1
    assert [text.split(": ")[1] for text in lines(capsys)] == ["forked"]
    assert await run_verify(monkeypatch, config, "--head", before_fork) == 0
    capsys.readouterr()


async def test_bad_heads_are_refused_with_exit_2_and_change_nothing(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    await fill(database, config, 2)
    good = (await heads(database))[-1].to_dict()
    witness = config.ledger_witness.read_bytes()
    not_json = tmp_path / "not-json.txt"
    not_json.write_text("hello\n")
    forged = {**good, "signature": (await heads(database))[0].to_dict()["signature"]}
    cases = {
        str(tmp_path / "missing.json"): "cannot read the file",
        str(not_json): f"--head {not_json} line 1: not JSON",
        '{"tree_size": 1}': "wrong fields (missing timestamp, root_hash, signature)",
        json.dumps({**good, "extra": 1}): "wrong fields (unknown extra)",
        json.dumps({**good, "tree_size": "2"}): "tree_size must be a whole number",
        json.dumps({**good, "root_hash": "AAAA"}): "root hash must be 32 bytes",
        json.dumps({**good, "signature": "%%%"}): "signature is not valid base64",
        "[]": "an empty list of heads",
        "[1]": "a head must be a JSON object",
        json.dumps(forged): "the signature does not verify with the ledger's public key",
    }
    for given, problem in cases.items():
        assert await run_verify(monkeypatch, config, "--head", given) == 2, given
        captured = capsys.readouterr()
        assert captured.out == "" and problem in captured.err, (given, captured.err)
    async with database.session() as db:
        assert await db.scalar(select(func.count()).select_from(LedgerEntry)) == 2
    assert config.ledger_witness.read_bytes() == witness


async def test_a_torn_or_altered_witness_line(
    database: Database,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await fill(database, config, 2)
    with config.ledger_witness.open("ab") as handle:
        handle.write(b'{"tree_size": 3, "timest')  # a crash in mid-write
    assert await run_verify(monkeypatch, config) == 0
    captured = capsys.readouterr()
    assert "incomplete" in captured.err
    with config.ledger_witness.open("ab") as handle:
        handle.write(b"\nnot a head\n")
    assert await run_verify(monkeypatch, config) == 1
    assert any("unreadable: line 4 is not a JSON head" in text for text in lines(capsys))
