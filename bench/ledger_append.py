"""What one ledger append costs as the log grows (``python -m bench ledger-append``, issue 19).

For each size N (default 1,000, 10,000 and 100,000 entries) a fresh database is filled with N
entries and a signed head, then ``server.ledger.operations.append`` adds entries one per
transaction, as the signing ceremony and the permit decisions do, two ways in the same run:

- **frontier**: the last head carries the tree's frontier (what the code does now: one head
  read, O(log n) hashes);
- **every leaf**: the last head has none, as heads signed before migration 0021 (the old way:
  every leaf hash read and the tree rebuilt), made so before each timed append.

It prints the median and 90th percentile of each, their ratio, and writes
``bench/results/ledger_append.json``. SQLite in a temporary directory by default;
``--database-url`` for PostgreSQL (an empty database: the run drops its tables first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from recordings.ledger.merkle import Frontier, leaf_hash
from server.db import Database
from server.ledger import operations as ops
from server.models import Base, LedgerEntry, LedgerHead, utcnow

RESULTS = Path(__file__).resolve().parent / "results" / "ledger_append.json"
BATCH = 5_000  # rows per INSERT while filling


async def fill(database: Database, signer: ops.LedgerSigner, size: int) -> None:
    """``size`` entries and the head that signs them (with its frontier), written in bulk."""
    frontier = Frontier()
    now = utcnow()
    async with database.session() as db, db.begin():
        for start in range(0, size, BATCH):
            rows: list[dict[str, Any]] = []
            for position in range(start, min(size, start + BATCH)):
                payload = {"sha256": f"{position:064x}"}
                data = ops.canonical("recording", f"recording:{position}", payload)
                value = leaf_hash(data)
                frontier.append_leaf_hash(value)
                rows.append(
                    {
                        "position": position,
                        "kind": "recording",
                        "ref": f"recording:{position}",
                        "payload": payload,
                        "data": data,
                        "leaf_hash": value,
                        "appended_at": now,
                    }
                )
            await db.execute(insert(LedgerEntry), rows)
        head = signer.sign(size, frontier.root(), now)
        db.add(
            LedgerHead(
                tree_size=size,
                timestamp=head.timestamp,
                root_hash=head.root_hash,
                signature=head.signature,
                frontier=frontier.to_bytes(),
            )
        )


async def timed_appends(
    database: Database,
    signer: ops.LedgerSigner,
    count: int,
    before_each: Callable[[], Awaitable[None]] | None = None,
) -> list[float]:
    """Seconds each of ``count`` appends took, each in its own transaction."""
    times: list[float] = []
    for index in range(count):
        if before_each is not None:
            await before_each()
        start = time.perf_counter()
        async with database.session() as db, db.begin():
            await ops.append(db, signer, "signing", f"signing:{index}", {"n": index})
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1e3,
    }


async def measure(url: str, data_dir: Path, size: int, count: int) -> dict[str, Any]:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
        await database.upgrade()
        signer = ops.ledger_signer(data_dir)
        started = time.perf_counter()
        await fill(database, signer, size)
        filled = time.perf_counter() - started

        async def forget_frontier() -> None:
            async with database.session() as db, db.begin():
                await db.execute(update(LedgerHead).values(frontier=None))

        # Alternate the two ways in rounds, so that both meet the same machine.
        frontier: list[float] = []
        every_leaf: list[float] = []
        for _ in range(max(1, count // 10)):
            frontier += await timed_appends(database, signer, 10)
            every_leaf += await timed_appends(database, signer, 10, forget_frontier)
        return {
            "entries": size,
            "fill_s": filled,
            "appends_each": len(frontier),
            "frontier": summary(frontier),
            "every_leaf": summary(every_leaf),
            "ratio_of_medians": statistics.median(every_leaf) / statistics.median(frontier),
        }
    finally:
        await database.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ledger-append", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="entries before the timed appends, comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument("--appends", type=int, default=50, help="timed appends per way")
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    args = parser.parse_args(argv)
    try:
        sizes = [int(v) for v in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: give whole numbers, e.g. 1000,100000")
    if not sizes or min(sizes) < 1 or args.appends < 1:
        parser.error("sizes and --appends must be at least 1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="concord-ledger-bench-") as tmp:
        for size in sizes:
            url = args.database_url or f"sqlite+aiosqlite:///{tmp}/ledger-{size}.db"
            row = asyncio.run(measure(url, Path(tmp), size, args.appends))
            rows.append(row)
            print(
                f"{size:>8} entries: frontier {row['frontier']['median_ms']:7.2f} ms "
                f"(p90 {row['frontier']['p90_ms']:.2f}), every leaf "
                f"{row['every_leaf']['median_ms']:8.2f} ms (p90 {row['every_leaf']['p90_ms']:.2f})"
                f", ratio of medians {row['ratio_of_medians']:.1f}",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"database": args.database_url or "sqlite", "runs": rows}))
    return 0
