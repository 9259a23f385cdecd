"""check_log: an honest ledger verifies; each kind of tampering is named at the right entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recordings.ledger.merkle import MerkleLog, leaf_hash
from recordings.ledger.tree_head import SignedTreeHead, TreeHeadSigner
from recordings.ledger.verify import Finding, FindingKind, StoredEntry, check_log

START = datetime(2021, 11, 24, 8, 0, tzinfo=UTC)


def build(
    signer: TreeHeadSigner, n: int, every: int = 1
) -> tuple[list[StoredEntry], list[SignedTreeHead]]:
    """A ledger of n entries (data + stored leaf hash), a head signed every `every` appends."""
    log = MerkleLog()
    entries: list[StoredEntry] = []
    heads: list[SignedTreeHead] = []
    for i in range(n):
        data = f'{{"kind": "signing", "n": {i}}}'.encode()
        log.append(data)
        entries.append(StoredEntry(data, leaf_hash(data)))
        if (i + 1) % every == 0 or i == n - 1:
            heads.append(signer.sign(len(log), log.root(), START + timedelta(seconds=i)))
    return entries, heads


@pytest.fixture
def signer(tmp_path: Path) -> TreeHeadSigner:
    return TreeHeadSigner(tmp_path)


def kinds(findings: list[Finding]) -> list[FindingKind]:
    return [f.kind for f in findings]


@pytest.mark.parametrize("every", [1, 4, 50])
def test_honest_log_has_no_findings(signer: TreeHeadSigner, every: int) -> None:
    entries, heads = build(signer, 37, every)
    assert check_log(entries, heads, signer.public_key_pem()) == []
    assert check_log([e.data for e in entries], heads, signer.public_key_pem()) == []
    assert check_log([], [], signer.public_key_pem()) == []


def test_progress_is_reported(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 500)
    calls: list[tuple[int, int]] = []
    assert (
        check_log(
            entries, heads, signer.public_key_pem(), progress=lambda d, t: calls.append((d, t))
        )
        == []
    )
    assert len(calls) > 2
    assert calls[-1] == (500, 500)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("every", [1, 5])
def test_changed_entry_is_named(signer: TreeHeadSigner, every: int) -> None:
    entries, heads = build(signer, 30, every)
    entries[12] = replace(entries[12], data=b'{"kind": "signing", "n": 999}')
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.CHANGED]
    assert (findings[0].entry, findings[0].position) == (12, 12)


def test_changed_entry_with_rewritten_stored_hash(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 30)
    forged = b'{"kind": "signing", "n": 999}'
    entries[12] = StoredEntry(forged, leaf_hash(forged))
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.CHANGED, FindingKind.UNVERIFIABLE]
    assert (findings[0].entry, findings[0].position) == (12, 12)


def test_altered_stored_hash_only(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 20)
    entries[3] = replace(entries[3], leaf_hash=b"\x00" * 32)
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.CHANGED]
    assert findings[0].entry == 3
    assert "stored leaf hash was altered" in findings[0].detail


def test_removed_entry_is_named(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 30)
    del entries[17]
    findings = check_log(entries, heads, signer.public_key_pem())
    assert findings[0].kind is FindingKind.REMOVED
    assert findings[0].entry == 17
    assert FindingKind.UNVERIFIABLE in kinds(findings)


def test_removed_last_entry(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 30)
    del entries[-1]
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.REMOVED]
    assert findings[0].entry == 29


@pytest.mark.parametrize("every", [1, 6])
def test_inserted_entry_is_named(signer: TreeHeadSigner, every: int) -> None:
    entries, heads = build(signer, 30, every)
    forged = b'{"kind": "signing", "n": "forged"}'
    entries.insert(9, StoredEntry(forged, leaf_hash(forged)))
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.INSERTED]
    assert findings[0].position == 9


def test_entry_added_at_the_end_is_unsigned(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 10)
    entries.append(StoredEntry(b"late", leaf_hash(b"late")))
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.UNSIGNED]
    assert findings[0].position == 10


def test_reordered_entry_is_named(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 30)
    moved = entries.pop(20)
    entries.insert(4, moved)
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.REORDERED]
    assert (findings[0].entry, findings[0].position) == (20, 4)


def test_swapped_entries_are_both_named(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 30, every=3)
    entries[5], entries[22] = entries[22], entries[5]
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.REORDERED, FindingKind.REORDERED]
    assert {(f.entry, f.position) for f in findings} == {(5, 22), (22, 5)}


def test_forged_head_is_reported_and_ignored(signer: TreeHeadSigner, tmp_path: Path) -> None:
    entries, heads = build(signer, 10)
    impostor = TreeHeadSigner(tmp_path / "impostor")
    heads.append(impostor.sign(10, b"\x00" * 32, START + timedelta(hours=1)))
    heads[3] = replace(heads[3], root_hash=b"\x01" * 32)
    findings = check_log(entries, heads, signer.public_key_pem())
    assert kinds(findings) == [FindingKind.BAD_SIGNATURE, FindingKind.BAD_SIGNATURE]
    assert {f.head for f in findings} == {3, 10}


def test_forked_heads_are_reported(signer: TreeHeadSigner) -> None:
    entries, heads = build(signer, 10)
    heads.append(signer.sign(5, b"\x02" * 32, START + timedelta(hours=1)))
    findings = check_log(entries, heads, signer.public_key_pem())
    assert FindingKind.INCONSISTENT_HEADS in kinds(findings)
