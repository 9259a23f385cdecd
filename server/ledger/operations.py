"""Appending to the ledger and reading it back for proofs and for ``concord ledger verify``.

The Merkle tree, the signatures and the whole-log check are pure code in ``recordings``
(``merkle``, ``tree_head``, ``audit_log``); this module only stores their inputs and outputs.

Every append signs a head for the new size. Heads are cheap (an Ed25519 signature is
microseconds, the ledger grows by a few entries per conference) and dense heads are what let
``recordings.ledger.verify.check_log`` name the exact entry that was changed, removed, reordered
or inserted, instead of "something before head N".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from recordings.ledger.merkle import Frontier, MerkleLog, leaf_hash
from recordings.ledger.tree_head import SignedTreeHead, TreeHeadSigner
from recordings.ledger.verify import Finding, FindingKind, StoredEntry, check_log
from recordings.ledger.witness import append_heads
from server.config import default_ledger_witness
from server.errors import InvalidInput, NotFound
from server.i18n_strings import N_
from server.models import LEDGER_KINDS, LedgerEntry, LedgerHead, PermitApplication, utcnow

LEDGER_LOCK = 0x434E4C47
"""The PostgreSQL advisory lock key that serialises appends ("CNLG")."""

KEY_DIRECTORY = "ledger"
"""Where the ledger key lives inside the data directory."""

_WITNESS_PENDING = "concord.ledger.witness"
"""``Session.info`` key: heads signed in the open transaction, for the witness at commit."""

log = logging.getLogger(__name__)


class LedgerSigner(TreeHeadSigner):
    """The ledger key, and the witness file that every head it signs on append goes to."""

    def __init__(self, directory: Path, witness: Path) -> None:
        super().__init__(directory)
        self.witness = witness


def ledger_signer(data_dir: Path, witness: Path | None = None) -> LedgerSigner:
    """The ledger's signer over ``data_dir / "ledger"``; creates the key on first use.
    ``witness`` is the configured witness file (``Config.ledger_witness``); its default is
    the configuration's default for that data directory."""
    return LedgerSigner(data_dir / KEY_DIRECTORY, witness or default_ledger_witness(data_dir))


@event.listens_for(Session, "after_commit")
def _write_witness(session: Session) -> None:
    """Append the heads of a committed transaction to the witness file.

    After the commit, not before: a head written for a transaction that then rolled back
    would describe a log that never existed, and verify would call it a fork. A crash
    between commit and write leaves the witness a head behind, which is not a finding (the
    witness is checked as a subset of the log). A failed write must not turn a committed
    transaction into an error for its caller, so it is logged loudly instead.
    """
    pending: list[tuple[Path, SignedTreeHead]] = session.info.pop(_WITNESS_PENDING, [])
    by_path: dict[Path, list[SignedTreeHead]] = {}
    for path, head in pending:
        by_path.setdefault(path, []).append(head)
    for path, heads in by_path.items():
        try:
            append_heads(path, heads)
        except OSError:
            log.exception("could not append %d ledger head(s) to the witness %s", len(heads), path)


@event.listens_for(Session, "after_rollback")
def _drop_witness(session: Session) -> None:
    session.info.pop(_WITNESS_PENDING, None)


def canonical(kind: str, ref: str, payload: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted-keys compact UTF-8 JSON of kind, ref and payload.

    One value has exactly one serialisation, so anyone holding the payload can recompute the
    leaf hash. The bytes are stored too (``LedgerEntry.data``): a database's JSON column
    need not give back the same formatting, and verification must not depend on it.
    """
    document = {"kind": kind, "ref": ref, "payload": payload}
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """The hex SHA-256 of ``data``: how payloads attest documents without carrying them."""
    return hashlib.sha256(data).hexdigest()


async def _lock(db: AsyncSession) -> None:
    """Make appends serial, so positions stay dense and each head covers its predecessors.

    PostgreSQL: a transaction-scoped advisory lock (released at commit or rollback), as
    ``server.conferences.bookings`` does for scheduling. SQLite has one writer; a no-op
    write takes the write lock now, before the last position is read, so a second writer
    waits (busy timeout) instead of reading the same position and failing on the unique key.
    """
    await db.flush()
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LEDGER_LOCK})
    else:
        await db.execute(text("UPDATE ledger_heads SET tree_size = tree_size WHERE 1 = 0"))


async def stored_leaf_hashes(db: AsyncSession) -> list[bytes]:
    """Every entry's stored leaf hash, in position order."""
    rows = await db.scalars(select(LedgerEntry.leaf_hash).order_by(LedgerEntry.position))
    return list(rows)


async def _frontier(db: AsyncSession) -> Frontier:
    """The log's frontier, from its last head when that head has one and covers every entry;
    from every leaf otherwise (a head signed before migration 0021: once)."""
    size = await db.scalar(select(func.max(LedgerEntry.position)))
    size = 0 if size is None else size + 1
    last = (
        await db.execute(
            select(LedgerHead.tree_size, LedgerHead.frontier)
            .order_by(LedgerHead.tree_size.desc())
            .limit(1)
        )
    ).first()
    if last is not None and last.tree_size == size and last.frontier is not None:
        return Frontier.from_bytes(size, last.frontier)
    return Frontier.of(await stored_leaf_hashes(db))


async def append(
    db: AsyncSession,
    signer: TreeHeadSigner,
    kind: str,
    ref: str,
    payload: dict[str, Any],
) -> LedgerEntry:
    """Append one entry and sign the head of the grown log, inside the caller's transaction.

    If the caller's transaction rolls back, the entry and its head go with it: the ledger
    attests only what was committed. The new root comes from the last head's frontier
    (``Frontier``: O(log n) hashes and one row read, whatever the log's length), and the new
    head keeps the grown frontier for the next append.
    """
    if kind not in LEDGER_KINDS:
        raise InvalidInput(f"unknown ledger entry kind {kind!r}", code="ledger_kind")
    data = canonical(kind, ref, payload)
    await _lock(db)
    frontier = await _frontier(db)
    position = frontier.size
    value = leaf_hash(data)
    frontier.append_leaf_hash(value)
    now = utcnow()
    entry = LedgerEntry(
        position=position,
        kind=kind,
        ref=ref,
        payload=payload,
        data=data,
        leaf_hash=value,
        appended_at=now,
    )
    head = signer.sign(frontier.size, frontier.root(), now)
    db.add(entry)
    db.add(
        LedgerHead(
            tree_size=head.tree_size,
            timestamp=head.timestamp,
            root_hash=head.root_hash,
            signature=head.signature,
            frontier=frontier.to_bytes(),
        )
    )
    await db.flush()
    if isinstance(signer, LedgerSigner):
        db.info.setdefault(_WITNESS_PENDING, []).append((signer.witness, head))
    return entry


def as_signed(head: LedgerHead) -> SignedTreeHead:
    return SignedTreeHead(head.tree_size, head.timestamp, head.root_hash, head.signature)


async def latest_head(db: AsyncSession) -> SignedTreeHead | None:
    """The head of the largest signed size, or ``None`` while the ledger is empty."""
    head = await db.scalar(select(LedgerHead).order_by(LedgerHead.tree_size.desc()).limit(1))
    return as_signed(head) if head is not None else None


async def entry_head(db: AsyncSession, position: int) -> SignedTreeHead | None:
    """The head signed when the entry at ``position`` was appended (its size is
    ``position + 1``): what the documents of that entry print for the parties to keep."""
    head = await db.scalar(select(LedgerHead).where(LedgerHead.tree_size == position + 1))
    return as_signed(head) if head is not None else None


def shown_head(head: SignedTreeHead) -> dict[str, Any]:
    """A head as documents print it: its fields, and the JSON line that
    ``concord ledger verify --head`` takes back (the witness file's form)."""
    fields = head.to_dict()
    return {
        **fields,
        "time": head.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "json": json.dumps(fields, sort_keys=True, separators=(",", ":")),
    }


@dataclass(frozen=True)
class EntryProof:
    """An entry with what an outsider needs to check it against a signed head."""

    entry: LedgerEntry
    head: SignedTreeHead
    proof: list[bytes]


async def entry_with_proof(db: AsyncSession, position: int) -> EntryProof:
    """The entry at ``position``, the latest head, and its inclusion proof in that head.

    The proof is computed from the stored leaf hashes. If the table was tampered with, the
    proof simply fails to verify against the signed root: the outsider's check is the point.
    """
    entry = await db.scalar(select(LedgerEntry).where(LedgerEntry.position == position))
    head = await latest_head(db)
    if entry is None or head is None or position >= head.tree_size:
        raise NotFound(
            N_("there is no ledger entry %(position)s"),
            code="ledger_entry_not_found",
            params={"position": str(position)},
        )
    leaves = await stored_leaf_hashes(db)
    size = min(head.tree_size, len(leaves))
    proof = MerkleLog(leaves[:size]).inclusion_proof(position, size) if position < size else []
    return EntryProof(entry, head, proof)


async def count(db: AsyncSession) -> int:
    return (await db.scalar(select(func.count()).select_from(LedgerEntry))) or 0


@dataclass(frozen=True)
class LoadedLog:
    """The stored ledger as ``check_log`` takes it, with what only the database can tell."""

    entries: list[StoredEntry]  # in position order
    heads: list[SignedTreeHead]  # by tree size
    positions: list[int]  # the stored position of each entry (gaps show deleted rows)
    findings: list[Finding]  # rows whose columns disagree with their signed data


async def load_log(db: AsyncSession) -> LoadedLog:
    """Read the whole ledger. A row whose ``kind``/``ref``/``payload`` columns no longer
    serialise to its ``data`` is a finding here: those columns are what pages show, the
    data is what the heads sign, and ``check_log`` sees only the data."""
    rows = await db.scalars(select(LedgerEntry).order_by(LedgerEntry.position))
    loaded = LoadedLog([], [], [], [])
    for index, row in enumerate(rows):
        data = bytes(row.data)
        loaded.entries.append(StoredEntry(data, bytes(row.leaf_hash)))
        loaded.positions.append(row.position)
        try:
            shown = canonical(row.kind, row.ref, row.payload)
        except (TypeError, ValueError):
            shown = b""
        if shown != data:
            loaded.findings.append(
                Finding(
                    FindingKind.CHANGED,
                    f"entry at position {row.position} (row {index}): its kind, ref or "
                    "payload no longer match the data that was signed",
                    position=index,
                )
            )
    loaded.heads.extend(
        as_signed(head)
        for head in await db.scalars(select(LedgerHead).order_by(LedgerHead.tree_size))
    )
    return loaded


def verify(
    loaded: LoadedLog,
    public_key_pem: bytes,
    progress: Callable[[int, int], None] | None = None,
) -> list[Finding]:
    """Every problem with the loaded ledger (empty exactly when it verifies): the column
    checks of :func:`load_log`, then ``check_log`` over the entries and signed heads.
    Raises ``LedgerKeyError`` if the public key is unusable."""
    found = check_log(loaded.entries, loaded.heads, public_key_pem, progress=progress)
    return loaded.findings + found + missing_heads(loaded.heads)


def missing_heads(heads: list[SignedTreeHead]) -> list[Finding]:
    """Sizes without a signed head. :func:`append` signs one for every size, so a gap below
    the latest head is a deleted head (which ``check_log`` alone would not notice: the next
    head still proves the entries around it)."""
    sizes = {head.tree_size for head in heads}
    top = max(sizes, default=0)
    return [
        Finding(
            FindingKind.MISSING_HEAD,
            f"there is no signed tree head of size {size}, although every append signs one "
            f"and a head of size {top} exists: it was deleted",
            entry=size - 1,
        )
        for size in range(1, top)
        if size not in sizes
    ]


def where(finding: Finding, loaded: LoadedLog) -> str:
    """Name a finding's place by stored position, the number people see on entry pages.

    ``finding.entry`` is a slot of the signed log: the position the entry was appended at.
    ``finding.position`` is a row index; its stored position names it (after a deletion
    the two differ, which is why rows are not named by index).
    """
    if finding.kind is FindingKind.MISSING_HEAD and finding.entry is not None:
        return f"tree head of size {finding.entry + 1}"
    if finding.entry is not None:
        return f"position {finding.entry}"
    if finding.position is not None and finding.position < len(loaded.positions):
        return f"position {loaded.positions[finding.position]}"
    if finding.head is not None and finding.head < len(loaded.heads):
        return f"tree head of size {loaded.heads[finding.head].tree_size}"
    return "ledger"


async def attest_permit_decision(
    db: AsyncSession,
    signer: TreeHeadSigner,
    application: PermitApplication,
    outcome: str,
    comment: str,
) -> LedgerEntry:
    """Append a permit decision. The decision document is rendered on demand in each reader's
    language, so it has no fixed bytes to hash: the entry attests the decision's fields,
    naming the decider by user id and the comment by SHA-256 (entries are public: no names
    or texts)."""
    decided_at = application.decided_at or dt.datetime.now(dt.UTC)
    return await append(
        db,
        signer,
        "permit_decision",
        f"permit:{application.id}",
        {
            "application_id": application.id,
            "conference_id": application.conference_id,
            "outcome": outcome,
            "decision_number": application.decision_number,
            "decided_at": decided_at.astimezone(dt.UTC).isoformat(),
            "decided_by": application.decided_by_id,
            "comment_sha256": sha256_hex(comment.encode("utf-8")),
        },
    )
