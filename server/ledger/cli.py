"""``concord ledger verify``: recompute the ledger from the database and name what is wrong.

Exit status: 0 only when every entry, signed head and proof verifies; 1 when anything does
not (or the ledger cannot be read); 2 for usage errors (including an unusable
``--public-key`` file, which is the caller's input, not the ledger's fault).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from recordings.tree_head import KEY_FILE_NAME, LedgerKeyError, TreeHeadSigner
from server.config import Config
from server.db import Database
from server.ledger import operations as ops

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


async def _load(config: Config) -> ops.LoadedLog:
    database = Database(config.database_url)
    try:
        async with database.session() as db:
            return await ops.load_log(db)
    finally:
        await database.close()


def verify_command(config: Config, public_key: Path | None) -> int:
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
    try:
        loaded = asyncio.run(_load(config))
    except SQLAlchemyError as error:
        print(f"concord: cannot read the ledger ({type(error).__name__}): {error}", file=sys.stderr)
        print("concord: is the database upgraded (concord db upgrade)?", file=sys.stderr)
        return 1
    if pem is None:
        if not loaded.entries and not loaded.heads:
            print("the ledger is empty")
            return 0
        key_path = config.data_dir / ops.KEY_DIRECTORY / KEY_FILE_NAME
        print(f"concord: no ledger key at {key_path}; give --public-key", file=sys.stderr)
        return 1
    try:
        findings = ops.verify(loaded, pem, Progress(sys.stderr))
    except LedgerKeyError as error:
        print(f"concord: {error}", file=sys.stderr)
        return 2 if public_key is not None else 1
    for finding in findings:
        print(f"{ops.where(finding, loaded)}: {finding.kind.value}: {finding.detail}")
    if findings:
        print(f"concord: the ledger does not verify: {len(findings)} finding(s)", file=sys.stderr)
        return 1
    print(f"the ledger verifies: {len(loaded.entries)} entries, {len(loaded.heads)} signed heads")
    return 0
