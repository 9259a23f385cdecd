"""``concord archive prune [--dry-run] [--now ISO]``: delete what retention says has expired.

Prints one line per conference and kind (what is, or with ``--dry-run`` would be, deleted),
the conferences skipped because they are on legal hold, and the totals.

Exit status: 0 when everything planned was deleted (or, with ``--dry-run``, planned);
1 when some media files could not be removed (those recordings are left as they were and
named on stderr; the rest is deleted) or the database cannot be used; 2 for usage errors
(a ``--now`` that is not an ISO 8601 time with a zone, or in the future without
``--dry-run``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from server.archive.retention import KINDS, Plan, Retention, plan, prune
from server.config import Config
from server.db import Database

LABELS = {
    "recordings": "recordings (media files)",
    "room_events": "room events",
    "health_samples": "health samples",
    "minutes_drafts": "draft revisions of final minutes",
}
FUTURE_SLACK = dt.timedelta(minutes=1)


class UsageError(ValueError):
    """A bad argument, named."""


def parse_now(text: str | None, real_now: dt.datetime) -> dt.datetime:
    """``--now``: an ISO 8601 time with its zone (``2027-01-01T00:00:00Z``), or a date
    (midnight UTC); the real time when absent."""
    if text is None:
        return real_now
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime.combine(day, dt.time(), dt.UTC)
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO 8601 date or time (e.g. 2027-01-31T00:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise UsageError(f"--now {text!r} has no time zone: add Z or an offset such as +07:00")
    return value.astimezone(dt.UTC)


def report(found: Plan, dry_run: bool, out: TextIO) -> None:
    verb = "would delete" if dry_run else "deleted"
    for batch in found.batches:
        label = LABELS[batch.kind]
        extra = f" ({len(batch.files)} files)" if batch.kind == "recordings" else ""
        out.write(
            f"conference {batch.conference_id} ({batch.conference_title}): "
            f"{verb} {len(batch.ids)} {label}{extra}\n"
        )
    for conference_id, title in found.held:
        out.write(f"conference {conference_id} ({title}): on legal hold, skipped\n")
    counts = found.counts()
    totals = ", ".join(f"{counts[kind]} {LABELS[kind]}" for kind in KINDS)
    out.write(f"{'dry run: ' if dry_run else ''}{verb} {totals} (as of {found.now.isoformat()})\n")


async def run(config: Config, dry_run: bool, now: dt.datetime, out: TextIO) -> Plan:
    retention = Retention.from_config(config)
    database = Database(config.database_url)
    try:
        await database.upgrade()
        async with database.session() as db:
            if dry_run:
                return await plan(db, retention, now)
            async with db.begin():
                return await prune(db, retention, config.data_dir, now)
    finally:
        await database.close()


def prune_command(config: Config, dry_run: bool, now_text: str | None) -> int:
    real_now = dt.datetime.now(dt.UTC)
    try:
        now = parse_now(now_text, real_now)
        if now > real_now + FUTURE_SLACK and not dry_run:
            raise UsageError(
                "--now is in the future: that would delete what has not expired yet "
                "(use it with --dry-run to preview)"
            )
    except UsageError as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return 2
    try:
        found = asyncio.run(run(config, dry_run, now, sys.stdout))
    except (SQLAlchemyError, OSError) as exc:
        print(f"concord: the archive could not be pruned: {exc}", file=sys.stderr)
        return 1
    report(found, dry_run, sys.stdout)
    for problem in found.failed:
        print(f"concord: could not remove {problem}", file=sys.stderr)
    return 1 if found.failed else 0
