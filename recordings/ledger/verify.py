"""Checking a whole ledger against its signed tree heads, and naming what was tampered with.

Pure: the caller reads the entries and the signed heads (from the database, files, a backup)
and passes them in; nothing here touches storage.

What the evidence is
--------------------
Each stored entry is its ``data`` plus, ideally, the ``leaf_hash`` computed when it was
appended (:class:`StoredEntry`). The signed tree heads are the only evidence that cannot be
forged without the private key; everything in the entries table is taken as a claim.
The ledger should sign a head after every append (the ledger sees a few entries per
conference, and an Ed25519 signature costs microseconds): the denser the heads, the more
precisely a problem can be located.

How the entries are checked
---------------------------
The verifier rebuilds the committed log slot by slot. Going through the valid heads in order
of size, it asks which rows, appended to the prefix already proven, reproduce the next
head's root (``MerkleLog.root_with``). The first hypothesis is always "the next rows in
table order, with their stored leaf hashes", so an honest log costs one root per head. When
that fails, it tries, in order: the same rows with their *data* hashes (a stored hash was
edited), leaving out one row (an insertion), swapping two rows of the window, and moving any
other unused row into the window (a reordering). A hypothesis is accepted only if it
reproduces the signed root, so every accepted placement is proven, not guessed (up to
SHA-256 collisions). Then:

- **changed**: a slot was filled by a row whose *stored* leaf hash matches the signed heads
  but whose data no longer hashes to it. This needs the stored leaf hash: with plain
  ``bytes`` entries a changed entry looks like a lost one (below).
- **reordered**: every slot was filled, but not in table order. The rows that have to move
  are the complement of a longest increasing subsequence of their positions: the smallest
  set of entries whose moving explains the order (one for a moved entry, both for a swap
  of non-neighbours, one of the two for neighbours: no evidence can tell those apart).
- **inserted**: a row that no signed head accounts for, sitting among rows that are.
- **unsigned**: rows after the last signed entry. An entry appended after the latest head
  and a row added at the very end look the same; that is why heads should be signed on
  every append, and why this is still reported.
- **removed** / **changed** (rewritten with its stored hash): when no row fits a slot, the
  leaf committed there is simply not in the table. If fewer rows remain than signed slots,
  the entry was removed; otherwise the row standing in its place was rewritten (data and
  stored hash together).

Limits, honestly
----------------
- After a removed or rewritten entry nothing later can be checked against the heads: every
  later root hashes the lost leaf, and a root reveals nothing about its leaves. The verifier
  says so (**unverifiable**) instead of guessing, and still reports rows whose data no longer
  matches their own stored hash. Proofs of inclusion stored with each entry at append time
  would let each later entry be checked on its own; that is for the ledger's storage layer.
- With sparse heads a problem is located only to the window between two heads, unless the
  stored hash pins the slot. Only single edits per window are searched (one insertion, one
  swap, one moved row), with a budget of root computations; several edits in one window
  may be reported as a removal or change at the window's first entry.
- Forged or forked heads (bad signature, two roots for one size, a log that shrank) are
  reported and not used as evidence; which of two forked heads is genuine cannot be told.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recordings.ledger.merkle import EMPTY_ROOT, MerkleLog, leaf_hash, verify_consistency
from recordings.ledger.tree_head import SignedTreeHead, load_public_key, verify_tree_head

__all__ = ["Finding", "FindingKind", "StoredEntry", "check_log"]

Progress = Callable[[int, int], None]

_MOVE_BUDGET = 200_000
"""Root computations allowed per window when searching for a row moved from elsewhere."""

_SWAP_WINDOW = 64
"""Largest window in which all swaps of two rows are tried (quadratic)."""


class FindingKind(StrEnum):
    """What the verifier found; the value is a stable code for CLIs and JSON."""

    CHANGED = "changed"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"
    UNSIGNED = "unsigned"
    UNVERIFIABLE = "unverifiable"
    BAD_SIGNATURE = "bad_signature"
    INCONSISTENT_HEADS = "inconsistent_heads"
    TRUNCATED = "truncated"
    FORKED = "forked"
    MISSING_HEAD = "missing_head"
    BROKEN_REFERENCE = "broken_reference"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem. ``entry`` is an index in the log as the signed heads commit it,
    ``position`` an index into the ``entries`` given, ``head`` an index into the ``heads``
    given; each is ``None`` when it does not apply."""

    kind: FindingKind
    detail: str
    entry: int | None = None
    position: int | None = None
    head: int | None = None


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry as stored: its data and the leaf hash recorded when it was appended."""

    data: bytes
    leaf_hash: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    data_hash: bytes
    stored: bytes | None

    @property
    def claimed(self) -> bytes:
        return self.data_hash if self.stored is None else self.stored


@dataclass(frozen=True, slots=True)
class _Evidence:
    size: int
    root: bytes
    head: int


def check_log(
    entries: Sequence[bytes | StoredEntry],
    heads: Sequence[SignedTreeHead],
    public_key_pem: bytes | str,
    *,
    progress: Progress | None = None,
) -> list[Finding]:
    """Check every head's signature, every root and the heads' consistency against the
    entries, and name each entry that was changed, removed, inserted or reordered.

    ``entries`` are in storage order (``bytes`` = data only, or :class:`StoredEntry`).
    Returns an empty list exactly when everything verifies. ``progress(done, total)`` is
    called as entries are checked and finally with ``done == total``. Raises
    ``LedgerKeyError`` if the public key is unusable. See the module doc for the method.
    """
    key = load_public_key(public_key_pem)
    findings: list[Finding] = []
    rows = [
        _Row(leaf_hash(e), None) if isinstance(e, bytes) else _Row(leaf_hash(e.data), e.leaf_hash)
        for e in entries
    ]
    evidence = _evidence(heads, key, findings)
    committed = evidence[-1].size if evidence else 0
    total = max(committed, len(rows))
    aligner = _Aligner(rows)
    reported = 0
    stuck = False
    for item in evidence:
        start = len(aligner.log)
        placement = aligner.fit(item.size - start, item.root)
        if placement is None:
            findings.extend(aligner.diagnose_lost(start, item.size, committed))
            stuck = True
            break
        aligner.commit(placement)
        if progress is not None and item.size - reported >= max(1, total // 200):
            progress(item.size, total)
            reported = item.size
    if not stuck:
        findings.extend(aligner.diagnose_placed())
    findings.extend(_check_consistency(evidence, aligner.log))
    if progress is not None:
        progress(total, total)
    return findings


def _evidence(
    heads: Sequence[SignedTreeHead], key: Ed25519PublicKey, findings: list[Finding]
) -> list[_Evidence]:
    """Valid, unforked heads as (size, root), by increasing size; problems go to findings."""
    valid: list[tuple[int, SignedTreeHead]] = []
    for index, head in enumerate(heads):
        if verify_tree_head(head, key):
            valid.append((index, head))
        else:
            findings.append(
                Finding(
                    FindingKind.BAD_SIGNATURE,
                    f"tree head {index} (size {head.tree_size}) has an invalid signature; "
                    "it is not used as evidence",
                    head=index,
                )
            )
    by_size: dict[int, list[tuple[int, SignedTreeHead]]] = {}
    for index, head in valid:
        by_size.setdefault(head.tree_size, []).append((index, head))
    evidence: list[_Evidence] = []
    for size in sorted(by_size):
        group = by_size[size]
        roots = {head.root_hash for _, head in group}
        if len(roots) > 1 or (size == 0 and roots != {EMPTY_ROOT}):
            findings.append(
                Finding(
                    FindingKind.INCONSISTENT_HEADS,
                    f"signed heads {[i for i, _ in group]} give size {size} different roots "
                    "(or a non-empty root for size 0): the log was forked; not used as evidence",
                    head=group[0][0],
                )
            )
        elif size > 0:
            evidence.append(_Evidence(size, group[0][1].root_hash, group[0][0]))
    in_time = sorted(valid, key=lambda item: (item[1].timestamp, item[1].tree_size))
    for (_, earlier), (index, later) in itertools.pairwise(in_time):
        if later.tree_size < earlier.tree_size:
            findings.append(
                Finding(
                    FindingKind.INCONSISTENT_HEADS,
                    f"tree head {index} (size {later.tree_size}) was signed after a head of "
                    f"size {earlier.tree_size}: the log shrank",
                    head=index,
                )
            )
    return evidence


def _check_consistency(evidence: Sequence[_Evidence], log: MerkleLog) -> Iterator[Finding]:
    """Consistency proofs between consecutive proven heads, checked as an outsider would.

    Each head's root was already reproduced from the entries, so a failure here means the
    proof code and the root code disagree: reported rather than assumed impossible.
    """
    proven = [item for item in evidence if item.size <= len(log)]
    for old, new in itertools.pairwise(proven):
        proof = log.consistency_proof(old.size, new.size)
        if not verify_consistency(old.size, new.size, old.root, new.root, proof):
            yield Finding(
                FindingKind.INCONSISTENT_HEADS,
                f"signed heads of sizes {old.size} and {new.size} are not consistent",
                head=new.head,
            )


class _Aligner:
    """Rebuilds the committed log from the rows, one signed head at a time."""

    def __init__(self, rows: Sequence[_Row]) -> None:
        self.rows = rows
        self.used = [False] * len(rows)
        self.low = 0  # no unused row before this position
        self.log = MerkleLog()
        self.placed: list[tuple[int, bytes]] = []  # per slot: (position, leaf hash)

    def _unused(self, start: int, count: int) -> list[int]:
        found: list[int] = []
        position = start
        while position < len(self.rows) and len(found) < count:
            if not self.used[position]:
                found.append(position)
            position += 1
        return found

    def _advance_low(self) -> None:
        while self.low < len(self.rows) and self.used[self.low]:
            self.low += 1

    def _hypotheses(self, width: int, ahead: list[int]) -> Iterator[list[int]]:
        """Candidate row positions for the next ``width`` slots, most likely first."""
        window = ahead[:width]
        if len(window) == width:
            yield window
        for skip in range(min(width, len(ahead))):  # one inserted row among the next ones
            candidate = ahead[:skip] + ahead[skip + 1 : width + 1]
            if len(candidate) == width:
                yield candidate
        if len(window) == width and 1 < width <= _SWAP_WINDOW:  # two rows swapped
            for a in range(width):
                for b in range(a + 1, width):
                    swapped = list(window)
                    swapped[a], swapped[b] = swapped[b], swapped[a]
                    yield swapped
        base = ahead[: width - 1]
        if len(base) == width - 1:  # one row moved here from anywhere else
            taken = set(window)
            budget = _MOVE_BUDGET
            for position in range(len(self.rows)):
                if self.used[position] or position in taken:
                    continue
                for slot in range(width):
                    yield [*base[:slot], position, *base[slot:]]
                    budget -= 1
                    if budget <= 0:
                        return

    def fit(self, width: int, target: bytes) -> list[tuple[int, bytes]] | None:
        """Rows (with the hash that fits) reproducing ``target`` for the next slots."""
        self._advance_low()
        ahead = self._unused(self.low, width + 1)
        for candidate in self._hypotheses(width, ahead):
            claimed = [self.rows[p].claimed for p in candidate]
            if self.log.root_with(claimed) == target:
                return list(zip(candidate, claimed, strict=True))
            data = [self.rows[p].data_hash for p in candidate]
            if data != claimed and self.log.root_with(data) == target:
                return list(zip(candidate, data, strict=True))
        return None

    def commit(self, placement: Sequence[tuple[int, bytes]]) -> None:
        for position, value in placement:
            self.log.append_leaf_hash(value)
            self.used[position] = True
            self.placed.append((position, value))

    def diagnose_placed(self) -> Iterator[Finding]:
        """Findings once every signed slot has been filled by a proven row."""
        for slot, (position, value) in enumerate(self.placed):
            row = self.rows[position]
            if row.data_hash != value:
                yield Finding(
                    FindingKind.CHANGED,
                    f"entry {slot} (row {position}): its data no longer hashes to the leaf "
                    "hash the signed tree heads commit to",
                    entry=slot,
                    position=position,
                )
            elif row.stored is not None and row.stored != value:
                yield Finding(
                    FindingKind.CHANGED,
                    f"entry {slot} (row {position}): its stored leaf hash was altered; the "
                    "data itself still matches the signed tree heads",
                    entry=slot,
                    position=position,
                )
        in_order = _longest_increasing([position for position, _ in self.placed])
        for slot, (position, _) in enumerate(self.placed):
            if slot not in in_order:
                yield Finding(
                    FindingKind.REORDERED,
                    f"entry {slot} was found at row {position}, out of its signed order",
                    entry=slot,
                    position=position,
                )
        last = max((position for position, _ in self.placed), default=-1)
        leftover = [p for p in range(len(self.rows)) if not self.used[p]]
        for position in leftover:
            if position < last:
                yield Finding(
                    FindingKind.INSERTED,
                    f"row {position} is in no signed tree head but sits among signed entries: "
                    "it was inserted",
                    position=position,
                )
        tail = [p for p in leftover if p > last]
        if tail:
            yield Finding(
                FindingKind.UNSIGNED,
                f"{len(tail)} row(s) at positions {tail[0]}..{tail[-1]} are covered by no "
                "signed tree head (appended after the latest head, or added at the end)",
                position=tail[0],
            )

    def diagnose_lost(self, start: int, end: int, committed: int) -> Iterator[Finding]:
        """Findings when no row fits slots ``start..end-1`` of a log signed up to
        ``committed`` entries: the leaf committed there is not in the table any more."""
        self._advance_low()
        where = f"entry {start}" if end - start == 1 else f"one of entries {start}..{end - 1}"
        remaining = self.used.count(False)
        suspect: int | None = None
        if remaining < committed - start:
            yield Finding(
                FindingKind.REMOVED,
                f"{where} is missing: no row reproduces the signed tree head of size {end}, "
                f"and {remaining} row(s) remain for {committed - start} signed entries",
                entry=start,
            )
        else:
            suspect = self.low
            yield Finding(
                FindingKind.CHANGED,
                f"{where} was rewritten: the row in its place (row {suspect}) and every other "
                f"remaining row fail to reproduce the signed tree head of size {end}",
                entry=start,
                position=suspect,
            )
        if committed > start + 1 or remaining > 1:
            yield Finding(
                FindingKind.UNVERIFIABLE,
                f"entries after {start} cannot be checked against the signed tree heads: "
                "every later root depends on the lost leaf",
                entry=start + 1,
            )
        for position, row in enumerate(self.rows):
            if self.used[position] or position == suspect:
                continue
            if row.stored is not None and row.stored != row.data_hash:
                yield Finding(
                    FindingKind.CHANGED,
                    f"row {position}: its data no longer matches the leaf hash stored with it",
                    position=position,
                )


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence of ``values`` (O(n log n))."""
    tails: list[int] = []  # tails[k]: smallest last value of an increasing run of length k+1
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for index, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(index)
        else:
            tails[k] = value
            tail_index[k] = index
        previous[index] = tail_index[k - 1] if k > 0 else -1
    chosen: set[int] = set()
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        chosen.add(index)
        index = previous[index]
    return chosen
