"""Signed tree heads kept outside the database, and the check of a log against them.

A log and its signed heads in one database prove nothing against whoever can edit that
database: delete the last entries together with their heads and what remains is a shorter,
perfectly consistent log. RFC 6962 logs answer this by handing signed heads to others who
keep them (monitors, gossip). Concord does the same in two ways:

- the **witness file**: every head, as it is signed, appended as one JSON line
  (:meth:`SignedTreeHead.to_dict`) to a file outside the database, opened ``O_APPEND`` and
  fsynced before the append returns;
- **kept heads**: the head of each attested entry is printed on the documents the parties
  take away (signing certificate, permit decision).

:func:`check_kept_heads` proves that the log extends every such head. A head the log cannot
reach (it is larger than the log, or than the log's latest signed head) means the log was
truncated; a head whose root the log does not reproduce, or from which no consistency proof
leads to the log's latest head, means the log was forked (rewritten with the same key).

Nothing here touches a database: the caller passes the log's leaf hashes and latest head.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from recordings.ledger.merkle import MerkleLog, verify_consistency
from recordings.ledger.tree_head import SignedTreeHead, verify_tree_head
from recordings.ledger.verify import Finding, FindingKind

__all__ = [
    "HEAD_FIELDS",
    "HeadInputError",
    "WitnessFile",
    "append_heads",
    "check_kept_heads",
    "head_line",
    "parse_heads",
    "read_witness",
]

HEAD_FIELDS = ("tree_size", "timestamp", "root_hash", "signature")
"""The fields of a head in its JSON form; no others are accepted."""


class HeadInputError(ValueError):
    """A head given to check is unusable: not JSON, wrong fields, bad encoding or signature."""


def head_line(head: SignedTreeHead) -> bytes:
    """One head as one line of the witness file (compact JSON, sorted keys, newline)."""
    return json.dumps(head.to_dict(), sort_keys=True, separators=(",", ":")).encode() + b"\n"


def append_heads(path: Path, heads: Sequence[SignedTreeHead]) -> None:
    """Append ``heads`` to the witness file at ``path`` and fsync it.

    One ``write`` of whole lines on an ``O_APPEND`` descriptor under an exclusive ``flock``:
    two processes never interleave lines, and the file is never rewritten, only extended.
    A newly created file's directory is fsynced too, so the file itself survives a crash.
    """
    if not heads:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = b"".join(head_line(head) for head in heads)
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    if created:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _head(value: Any, where: str) -> SignedTreeHead:
    if not isinstance(value, dict):
        raise HeadInputError(f"{where}: a head must be a JSON object, got {type(value).__name__}")
    missing = [name for name in HEAD_FIELDS if name not in value]
    unknown = sorted(set(value) - set(HEAD_FIELDS))
    if missing or unknown:
        wrong = [f"missing {', '.join(missing)}"] if missing else []
        wrong += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise HeadInputError(f"{where}: wrong fields ({'; '.join(wrong)})")
    for name in ("tree_size", "timestamp"):
        if not isinstance(value[name], int) or isinstance(value[name], bool):
            raise HeadInputError(f"{where}: {name} must be a whole number")
    for name in ("root_hash", "signature"):
        if not isinstance(value[name], str):
            raise HeadInputError(f"{where}: {name} must be a base64 string")
        try:
            base64.b64decode(value[name], validate=True)
        except binascii.Error:
            raise HeadInputError(f"{where}: {name} is not valid base64") from None
    try:
        return SignedTreeHead.from_dict(value)
    except (ValueError, KeyError) as error:
        raise HeadInputError(f"{where}: {error}") from None


def parse_heads(text: str, source: str) -> list[SignedTreeHead]:
    """Heads from ``text``: one JSON head, a JSON array of heads, or one JSON head per line
    (the witness file's form). Raises :class:`HeadInputError` naming ``source`` and the line."""
    stripped = text.strip()
    if not stripped:
        raise HeadInputError(f"{source}: no head given (empty)")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
        lines = [(n, line) for n, line in enumerate(stripped.splitlines(), 1) if line.strip()]
        heads = []
        for number, line in lines:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise HeadInputError(f"{source} line {number}: not JSON ({error.msg})") from None
            heads.append(_head(value, f"{source} line {number}"))
        return heads
    if isinstance(whole, list):
        if not whole:
            raise HeadInputError(f"{source}: an empty list of heads")
        return [_head(item, f"{source} head {n}") for n, item in enumerate(whole, 1)]
    return [_head(whole, source)]


@dataclass
class WitnessFile:
    """The heads read from a witness file. ``problems`` are lines that are not heads
    (a tampered file); ``torn`` is an incomplete last line (a crash in mid-write)."""

    heads: list[SignedTreeHead] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the line number of each head
    problems: list[str] = field(default_factory=list)
    torn: bool = False


def read_witness(path: Path) -> WitnessFile:
    """Read the witness file; raises ``OSError`` if it cannot be read at all."""
    data = path.read_bytes()
    found = WitnessFile()
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    elif chunks:  # no newline after the last line: its write never finished
        chunks.pop()
        found.torn = True
    for number, chunk in enumerate(chunks, 1):
        if not chunk.strip():
            continue
        try:
            value = json.loads(chunk.decode("utf-8"))
            found.heads.append(_head(value, f"line {number}"))
            found.lines.append(number)
        except (UnicodeDecodeError, json.JSONDecodeError):
            found.problems.append(f"line {number} is not a JSON head")
        except HeadInputError as error:
            found.problems.append(str(error))
    return found


def check_kept_heads(
    leaves: Sequence[bytes],
    latest: SignedTreeHead | None,
    kept: Sequence[SignedTreeHead],
    key: Ed25519PublicKey,
) -> list[Finding]:
    """Does the log extend every kept head? Empty exactly when it does.

    ``leaves`` are the log's leaf hashes in position order (hashed from the entries' data),
    ``latest`` its latest signed head. Each finding's ``head`` is an index into ``kept``.
    A kept head with a bad signature is reported and proves nothing either way.
    """
    log = MerkleLog(leaves)
    reach = latest.tree_size if latest is not None else 0
    findings: list[Finding] = []
    for index, head in enumerate(kept):
        size = head.tree_size
        said = f"a kept head of size {size} (signed {head.time:%Y-%m-%d %H:%M:%S} UTC)"
        if not verify_tree_head(head, key):
            findings.append(
                Finding(
                    FindingKind.BAD_SIGNATURE,
                    f"{said} is not signed by the ledger key; it proves nothing",
                    head=index,
                )
            )
        elif size > len(log):
            findings.append(
                Finding(
                    FindingKind.TRUNCATED,
                    f"{said}, but the log has only {len(log)} entries: it was truncated",
                    head=index,
                )
            )
        elif size > reach:
            findings.append(
                Finding(
                    FindingKind.TRUNCATED,
                    f"{said}, but the log's latest signed head has size {reach}: "
                    "its later heads were deleted",
                    head=index,
                )
            )
        elif log.root(size) != head.root_hash:
            findings.append(
                Finding(
                    FindingKind.FORKED,
                    f"{said}: the log's first {size} entries have a different root; "
                    "the log was forked (rewritten) at or before that size",
                    head=index,
                )
            )
        elif (
            latest is not None
            and latest.tree_size <= len(log)  # else the entries' own check reports removals
            and not verify_consistency(
                size,
                latest.tree_size,
                head.root_hash,
                latest.root_hash,
                log.consistency_proof(size, latest.tree_size),
            )
        ):
            findings.append(
                Finding(
                    FindingKind.FORKED,
                    f"{said}: no valid consistency proof leads from it to the log's latest "
                    f"head (size {latest.tree_size}); the log was forked",
                    head=index,
                )
            )
    return findings
