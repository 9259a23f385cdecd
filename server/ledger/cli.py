"""``concord ledger verify``: recompute the ledger from the database and name what is wrong.

Beyond the entries and their signed heads it checks what the database alone cannot vouch
for: the rows elsewhere that point into the ledger (``server.ledger.references``), the
witness file of heads kept outside the database, and any heads a party kept (``--head``),
which the log must extend (``recordings.ledger.witness``).

Exit status: 0 only when every entry, signed head, reference and kept head verifies; 1 when
anything does not (or the ledger cannot be read); 2 for usage errors (including an unusable
``--public-key`` file or ``--head`` input, which are the caller's input, not the ledger's
fault; nothing is read from the database then).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from recordings.ledger.merkle import leaf_hash
from recordings.ledger.tree_head import (
    KEY_FILE_NAME,
    LedgerKeyError,
    SignedTreeHead,
    TreeHeadSigner,
    load_public_key,
    verify_tree_head,
)
from recordings.ledger.verify import Finding
from recordings.ledger.witness import HeadInputError, check_kept_heads, parse_heads, read_witness
from server.config import Config
from server.db import Database
from server.ledger import operations as ops
from server.ledger.references import check_references

PROGRESS_FROM = 1000
"""Logs at least this long show progress on stderr; shorter ones check in a blink."""


class Progress:
    """A progress line on ``stream``: redrawn in place on a terminal, every 10 % otherwise
    (so a log file or CI output gets a few lines, not thousands)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        percent = done * 100 // total
        if self.tty:
            end = "\n" if done >= total else ""
            self.stream.write(f"\rchecking the ledger: {done}/{total} entries ({percent}%){end}")
        elif percent // 10 > self.shown // 10 or done >= total:
            self.stream.write(f"checking the ledger: {done}/{total} entries ({percent}%)\n")
        self.shown = percent
        self.stream.flush()


def _stored_public_key(config: Config) -> bytes | None:
    """The data directory's key, without creating one (a new key would verify nothing)."""
    directory = config.data_dir / ops.KEY_DIRECTORY
    if not (directory / KEY_FILE_NAME).exists():
        return None
    return TreeHeadSigner(directory).public_key_pem()


@dataclass
class _Read:
    loaded: ops.LoadedLog
    references: list[Finding]


async def _load(config: Config) -> _Read:
    database = Database(config.database_url)
    try:
        async with database.session() as db:
            loaded = await ops.load_log(db)
            signed = loaded.heads[-1].tree_size if loaded.heads else 0
            return _Read(loaded, await check_references(db, signed))
    finally:
        await database.close()


def _kept_heads(values: list[str], pem: bytes) -> list[tuple[str, SignedTreeHead]]:
    """The heads given with ``--head``, each with a label naming where it came from.

    Raises ``HeadInputError`` for anything unusable, a head with a bad signature included:
    a head the ledger key did not sign is the caller's bad input, not evidence of tampering.
    """
    kept: list[tuple[str, SignedTreeHead]] = []
    key = load_public_key(pem)
    for value in values:
        inline = value.lstrip().startswith(("{", "["))
        source = "--head (inline JSON)" if inline else f"--head {value}"
        if inline:
            text = value
        else:
            try:
                text = Path(value).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise HeadInputError(f"{source}: cannot read the file: {error}") from None
        heads = parse_heads(text, source)
        for number, head in enumerate(heads, 1):
            label = source if len(heads) == 1 else f"{source} head {number}"
            if not verify_tree_head(head, key):
                raise HeadInputError(
                    f"{label}: the signature does not verify with the ledger's public key "
                    "(a head from another ledger, or altered)"
                )
            kept.append((label, head))
    return kept


def _witness_lines(config: Config, loaded: ops.LoadedLog, pem: bytes) -> list[str]:
    """Findings of the log against the witness file, as printable lines."""
    path = config.ledger_witness
    if not path.exists():
        if loaded.heads:
            print(
                f"concord: warning: no witness file at {path}; the log was not checked "
                "against it (heads are written there from the next append on)",
                file=sys.stderr,
            )
        return []
    witness = read_witness(path)
    if witness.torn:
        print(
            f"concord: warning: the last line of {path} is incomplete (a crash while "
            "writing it); it is ignored",
            file=sys.stderr,
        )
    out = [f"witness {path}: unreadable: {problem}" for problem in witness.problems]
    found = check_kept_heads(_leaves(loaded), _latest(loaded), witness.heads, load_public_key(pem))
    for finding in found:
        line = witness.lines[finding.head or 0]
        out.append(f"witness {path} line {line}: {finding.kind.value}: {finding.detail}")
    return out


def _leaves(loaded: ops.LoadedLog) -> list[bytes]:
    """The log as its rows' data hashes: the content, whatever the stored hashes claim."""
    return [leaf_hash(entry.data) for entry in loaded.entries]


def _latest(loaded: ops.LoadedLog) -> SignedTreeHead | None:
    return loaded.heads[-1] if loaded.heads else None


def verify_command(config: Config, public_key: Path | None, heads: list[str] | None = None) -> int:
    """Run the check; prints one line per finding on stdout, diagnostics on stderr."""
    if public_key is not None:
        try:
            pem: bytes | None = public_key.read_bytes()
        except OSError as error:
            print(f"concord: cannot read {public_key}: {error}", file=sys.stderr)
            return 2
    else:
        try:
            pem = _stored_public_key(config)
        except LedgerKeyError as error:
            print(f"concord: {error}", file=sys.stderr)
            return 1
    kept: list[tuple[str, SignedTreeHead]] = []
    if heads:
        if pem is None:
            print(
                "concord: --head needs the ledger's public key; give --public-key", file=sys.stderr
            )
            return 2
        try:
            kept = _kept_heads(heads, pem)
        except HeadInputError as error:
            print(f"concord: {error}", file=sys.stderr)
            return 2
        except LedgerKeyError as error:
            print(f"concord: {error}", file=sys.stderr)
            return 2
    try:
        read = asyncio.run(_load(config))
    except SQLAlchemyError as error:
        print(f"concord: cannot read the ledger ({type(error).__name__}): {error}", file=sys.stderr)
        print("concord: is the database upgraded (concord db upgrade)?", file=sys.stderr)
        return 1
    loaded = read.loaded
    if pem is None:
        if not loaded.entries and not loaded.heads and not read.references:
            print("the ledger is empty")
            return 0
        key_path = config.data_dir / ops.KEY_DIRECTORY / KEY_FILE_NAME
        print(f"concord: no ledger key at {key_path}; give --public-key", file=sys.stderr)
        return 1
    try:
        findings = ops.verify(loaded, pem, Progress(sys.stderr))
        witnessed = _witness_lines(config, loaded, pem)
    except LedgerKeyError as error:
        print(f"concord: {error}", file=sys.stderr)
        return 2 if public_key is not None else 1
    except OSError as error:
        print(f"concord: cannot read the witness file: {error}", file=sys.stderr)
        return 1
    out = [f"{ops.where(f, loaded)}: {f.kind.value}: {f.detail}" for f in findings]
    out += [f"{ops.where(f, loaded)}: {f.kind.value}: {f.detail}" for f in read.references]
    out += witnessed
    labels = [label for label, _ in kept]
    found = check_kept_heads(
        _leaves(loaded), _latest(loaded), [head for _, head in kept], load_public_key(pem)
    )
    out += [f"{labels[f.head or 0]}: {f.kind.value}: {f.detail}" for f in found]
    for line in out:
        print(line)
    if out:
        print(f"concord: the ledger does not verify: {len(out)} finding(s)", file=sys.stderr)
        return 1
    print(f"the ledger verifies: {len(loaded.entries)} entries, {len(loaded.heads)} signed heads")
    if kept:
        print(
            f"it extends every kept head given ({len(kept)}), up to size "
            f"{max(head.tree_size for _, head in kept)}"
        )
    return 0
