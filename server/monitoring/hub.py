"""Where every room's health reports go: the technicians' dashboards, the database, the
timeline, and the latest figures the metrics read.

Rooms call ``report`` every 2 s (from their monitor task); one pump task, owned by the hub,
keeps the last 5 minutes per subject in memory (the dashboard's sparklines), stores the
samples and the changes (levels, connection states, alerts raised and cleared: the site's
event timeline, in ``room_events``) in one transaction per report, and emits the report to the
conference's ``health`` socket.io room. Another task deletes samples older than the
retention period once an hour.

The 5 minutes in memory start from the stored samples: a room that opens on this node after
running on another (a failover, a drain, a restart) keeps its sparklines, and a dashboard that
opens before the room's first report here is shown them from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from rooms.health import Change
from rooms.monitor import HealthReport
from server.conferences.lifecycle import ROOM_CLOSED
from server.db import Database
from server.events import StatusChanged
from server.models import Conference, ConferenceStatus, HealthSample, RoomEventRecord
from server.monitoring.sent import HealthUpdate, alert_notice
from server.sent import Sent

log = logging.getLogger(__name__)

Emit = Callable[[Sent, str], Awaitable[None]]
#: Samples per subject kept for the sparklines: 5 minutes at one every 2 s.
HISTORY = 150
HISTORY_SECONDS = 300.0
PRUNE_EVERY = 3600.0


def health_room(conference_id: int) -> str:
    """The socket.io room of the conference's health dashboards."""
    return f"health-{conference_id}"


def site_of(subject: str) -> int | None:
    kind, _, number = subject.partition(":")
    return int(number) if kind == "site" and number.isdigit() else None


def compact(row: dict[str, Any]) -> dict[str, Any]:
    """One sparkline point of a report row."""
    up, down = row.get("uplink") or {}, row.get("downlink") or {}
    jitters = [j for j in (up.get("jitter"), down.get("jitter")) if j is not None]
    return {
        "t": row.get("at"),
        "level": row["level"],
        "score": row["score"],
        "rtt": row.get("rtt"),
        "up_loss": up.get("loss"),
        "down_loss": down.get("loss"),
        "jitter": max(jitters) if jitters else None,
        "up_bitrate": up.get("bitrate"),
        "down_bitrate": down.get("bitrate"),
        "frame_rate": row.get("frame_rate"),
    }


@dataclass
class _Room:
    history: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    latest: HealthReport | None = None


class HealthHub:
    def __init__(self, database: Database, emit: Emit, retention_days: int = 90) -> None:
        self._database = database
        self._emit = emit
        self.retention = dt.timedelta(days=retention_days)
        self._rooms: dict[int, _Room] = {}
        # A report, or None: the room ended (queued, so reports sent before it come first).
        self._queue: asyncio.Queue[tuple[int, HealthReport | None]] = asyncio.Queue(maxsize=1000)
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def start(self) -> None:
        if not self._tasks and not self._closed:
            self._tasks = [
                asyncio.create_task(self._run(), name="health-hub"),
                asyncio.create_task(self._prune_hourly(), name="health-prune"),
            ]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), 2.0)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- from the rooms ----------------------------------------------------------------------

    def report(self, conference_id: int, report: HealthReport) -> None:
        try:
            self._queue.put_nowait((conference_id, report))
        except asyncio.QueueFull:
            log.warning("health reports are piling up; dropped one of conference %s", conference_id)

    def forget(self, conference_id: int) -> None:
        """The room ended: its figures leave memory (the stored samples stay).

        Reports the room's monitor queued before it was closed are still handled (stored and
        shown) first; only then does the room's history go, so a late report cannot bring
        an ended room back onto a dashboard."""
        try:
            self._queue.put_nowait((conference_id, None))
        except asyncio.QueueFull:
            self._rooms.pop(conference_id, None)

    # --- for the dashboards and the metrics ----------------------------------------------------

    def latest(self) -> dict[int, HealthReport]:
        return {cid: r.latest for cid, r in self._rooms.items() if r.latest is not None}

    async def snapshot(self, conference_id: int) -> dict[str, Any]:
        """What a dashboard shows when it opens: rows, open alerts, the last 5 minutes (from
        the database while this node has had no report of the room)."""
        room = self._rooms.get(conference_id)
        latest = room.latest if room else None
        history = room.history if room else await self._stored_history(conference_id)
        return {
            "conference_id": conference_id,
            "rows": latest.rows if latest else [],
            "alerts": latest.alerts if latest else [],
            "history": {s: list(points) for s, points in history.items()},
        }

    async def announce(self, conference_id: int, change: Change, actor: str = "") -> None:
        """A change made by a person (an alert acknowledged): stored and shown at once."""
        await self._store(conference_id, None, [change], actor)
        await self._emit(alert_notice(change), health_room(conference_id))

    # --- the pump ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            conference_id, report = await self._queue.get()
            if report is None:
                self._rooms.pop(conference_id, None)
                self._queue.task_done()
                continue
            try:
                if conference_id not in self._rooms:
                    history = await self._stored_history(conference_id)
                    self._rooms[conference_id] = _Room(history=history)
                self._remember(conference_id, report)
                await self._store(conference_id, report, report.changes, "")
                await self._emit(HealthUpdate.of(conference_id, report), health_room(conference_id))
            except Exception:
                log.exception("could not handle the health report of conference %s", conference_id)
            finally:
                self._queue.task_done()

    def _remember(self, conference_id: int, report: HealthReport) -> None:
        room = self._rooms.setdefault(conference_id, _Room())
        room.latest = report
        for row in report.rows:
            points = room.history.setdefault(row["subject"], deque(maxlen=HISTORY))
            points.append(compact(row))
        watched = {row["subject"] for row in report.rows}
        for subject in set(room.history) - watched:
            del room.history[subject]

    async def _stored_history(self, conference_id: int) -> dict[str, deque[dict[str, Any]]]:
        """The conference's stored samples of the last 5 minutes, as sparkline points."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=HISTORY_SECONDS)
        query = (
            select(HealthSample)
            .where(HealthSample.conference_id == conference_id, HealthSample.at >= since)
            .order_by(HealthSample.at, HealthSample.id)
        )
        history: dict[str, deque[dict[str, Any]]] = {}
        async with self._database.session() as db:
            for sample in await db.scalars(query):
                points = history.setdefault(sample.subject, deque(maxlen=HISTORY))
                points.append(_point(sample))
        return history

    async def _store(
        self, conference_id: int, report: HealthReport | None, changes: list[Change], actor: str
    ) -> None:
        rows: list[Any] = []
        if report is not None:
            at = dt.datetime.fromtimestamp(report.at, dt.UTC)
            rows += [_sample(conference_id, at, row) for row in report.rows]
        now = dt.datetime.now(dt.UTC)
        rows += [
            RoomEventRecord(
                conference_id=conference_id,
                at=now,
                type=f"health.{change.type}",
                site_id=site_of(change.subject),
                actor=actor,
                data={"subject": change.subject, **change.data},
            )
            for change in changes
        ]
        if not rows:
            return
        async with self._database.session() as db, db.begin():
            db.add_all(rows)

    async def prune(self, now: dt.datetime | None = None) -> int:
        """Delete the samples older than the retention period, except those of conferences
        on legal hold (``concord archive prune`` keeps them too); how many went."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - self.retention
        held = select(Conference.id).where(Conference.legal_hold.is_(True))
        async with self._database.session() as db, db.begin():
            result = await db.execute(
                delete(HealthSample).where(
                    HealthSample.at < cutoff, HealthSample.conference_id.not_in(held)
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _prune_hourly(self) -> None:
        while True:
            try:
                gone = await self.prune()
                if gone:
                    log.info("deleted %d health samples past their retention", gone)
            except Exception:
                log.exception("could not prune health samples")
            await asyncio.sleep(PRUNE_EVERY)


def _point(sample: HealthSample) -> dict[str, Any]:
    """A stored sample as the sparkline point ``compact`` makes of a report row."""
    jitters = [j for j in (sample.up_jitter, sample.down_jitter) if j is not None]
    at = sample.at if sample.at.tzinfo else sample.at.replace(tzinfo=dt.UTC)  # (SQLite)
    return {
        "t": at.timestamp(),
        "level": sample.level,
        "score": sample.score,
        "rtt": sample.rtt,
        "up_loss": sample.up_loss,
        "down_loss": sample.down_loss,
        "jitter": max(jitters) if jitters else None,
        "up_bitrate": sample.up_bitrate,
        "down_bitrate": sample.down_bitrate,
        "frame_rate": sample.frame_rate,
    }


def _sample(conference_id: int, at: dt.datetime, row: dict[str, Any]) -> HealthSample:
    up, down = row.get("uplink") or {}, row.get("downlink") or {}
    return HealthSample(
        conference_id=conference_id,
        subject=row["subject"],
        name=str(row.get("name", ""))[:200],
        at=at,
        level=row["level"],
        score=row["score"],
        rtt=row.get("rtt"),
        up_loss=up.get("loss"),
        up_jitter=up.get("jitter"),
        up_bitrate=up.get("bitrate"),
        down_loss=down.get("loss"),
        down_jitter=down.get("jitter"),
        down_bitrate=down.get("bitrate"),
        frame_rate=row.get("frame_rate"),
        data={
            "where": row.get("where"),
            "flags": row.get("flags", []),
            "connection": row.get("connection"),
            "kind": row.get("kind"),
            "booth": row.get("booth"),
            "browser": row.get("browser"),
            "experience": row.get("experience"),
        },
    )


async def forget_if_ended(hub: HealthHub, event: StatusChanged) -> None:
    """A conference that ended or was cancelled leaves the dashboards (subscribed after the
    room's own ``close_if_ended``, so the room's last reports are in first)."""
    if ConferenceStatus(event.status) in ROOM_CLOSED:
        hub.forget(event.conference_id)
