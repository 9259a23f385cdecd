"""The post-conference quality report: how each site's and interpreter's connection fared.

Built from the stored ``health_samples`` (one per subject every 2 s) and the health and site
events of ``room_events``. The heavy work is SQL aggregation (per subject and level, per
subject and minute, medians with window functions), so a long conference (40 sites × 8 h =
576,000 samples) never comes into Python row by row: Python sees one row per subject and
level, one per subject and minute, and the events.

Disconnections of a subject are its transitions into ``down``: counted from the
``health.level`` events when it has any, otherwise from consecutive samples (the events are
what the dashboard showed; the samples are the fallback when the timeline was not kept).
A site's ``site.left`` and ``site.reconnecting`` events are counted beside them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import HealthSample, RoomEventRecord

SAMPLE_SECONDS = 2
LEVELS = ("good", "fair", "poor", "down")
WORST_MINUTES = 3
#: The charts get at most this many points per subject (per-minute averages, merged further
#: for conferences longer than 10 hours).
MAX_POINTS = 600
EVENT_TYPES = (
    "health.level",
    "health.alert",
    "health.acknowledged",
    "health.cleared",
    "site.left",
    "site.reconnecting",
)


@dataclass(frozen=True)
class Window:
    """The part of the conference reported on: ``start`` ≤ at < ``end`` (either open)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def samples(self, conference_id: int) -> list[ColumnElement[bool]]:
        return self._where(conference_id, HealthSample.conference_id, HealthSample.at)

    def events(self, conference_id: int) -> list[ColumnElement[bool]]:
        return self._where(conference_id, RoomEventRecord.conference_id, RoomEventRecord.at)

    def _where(self, conference_id: int, cid: Any, at: Any) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [cid == conference_id]
        if self.start is not None:
            where.append(at >= self.start)
        if self.end is not None:
            where.append(at < self.end)
        return where


@dataclass(frozen=True)
class Minute:
    """One bucket of samples (a minute, or several for the charts of a long conference)."""

    at: dt.datetime
    samples: int
    score: float
    rtt: float | None
    up_loss: float | None
    down_loss: float | None


@dataclass
class AlertLine:
    id: Any
    at: dt.datetime
    kind: str
    detail: str
    acknowledged_by: str | None = None
    acknowledged_at: dt.datetime | None = None
    cleared_at: dt.datetime | None = None


@dataclass(frozen=True)
class Outage:
    """A disconnection or a site event: ``kind`` is ``down``, ``left`` or ``reconnecting``."""

    at: dt.datetime
    kind: str


@dataclass
class SubjectReport:
    subject: str
    name: str
    kind: str  # "site" or "interpreter"
    first: dt.datetime
    last: dt.datetime
    samples: int
    seconds: dict[str, int]
    percent: dict[str, float]
    average_score: float
    worst_score: int
    median_rtt: float | None = None
    median_up_loss: float | None = None
    median_down_loss: float | None = None
    worst_minutes: list[Minute] = field(default_factory=list)
    disconnections: int = 0
    left: int = 0
    reconnecting: int = 0
    outages: list[Outage] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    chart: list[Minute] = field(default_factory=list)

    @property
    def connected_seconds(self) -> int:
        return self.samples * SAMPLE_SECONDS

    @property
    def alerts_raised(self) -> int:
        return len(self.alerts)

    @property
    def alerts_acknowledged(self) -> int:
        return sum(1 for a in self.alerts if a.acknowledged_by is not None)

    @property
    def worst_level(self) -> str:
        return next((lv for lv in reversed(LEVELS) if self.seconds.get(lv)), "good")


@dataclass
class QualityReport:
    conference_id: int
    window: Window
    subjects: list[SubjectReport]

    @property
    def first(self) -> dt.datetime | None:
        return min((s.first for s in self.subjects), default=None)

    @property
    def last(self) -> dt.datetime | None:
        return max((s.last for s in self.subjects), default=None)


def subject_kind(subject: str) -> str:
    return subject.partition(":")[0]


async def quality_report(
    db: AsyncSession, conference_id: int, window: Window | None = None
) -> QualityReport:
    """Everything the report page shows, for the samples and events in ``window``."""
    window = window or Window()
    where = window.samples(conference_id)
    subjects = await _summaries(db, where)
    await _levels(db, where, subjects)
    for column, attribute in (
        (HealthSample.rtt, "median_rtt"),
        (HealthSample.up_loss, "median_up_loss"),
        (HealthSample.down_loss, "median_down_loss"),
    ):
        for subject, median in (await _medians(db, where, column)).items():
            if subject in subjects:
                setattr(subjects[subject], attribute, median)
    minutes = await _minutes(db, where)
    for subject, buckets in minutes.items():
        if subject in subjects:
            ranked = sorted(buckets, key=lambda m: (m.score, m.at))
            subjects[subject].worst_minutes = ranked[:WORST_MINUTES]
            subjects[subject].chart = downsample(buckets)
    down_from_samples = await _down_transitions(db, where)
    await _events(db, window.events(conference_id), subjects, down_from_samples)
    ordered = sorted(subjects.values(), key=lambda s: (s.average_score, s.name, s.subject))
    return QualityReport(conference_id, window, ordered)


async def _summaries(
    db: AsyncSession, where: list[ColumnElement[bool]]
) -> dict[str, SubjectReport]:
    query = (
        select(
            HealthSample.subject,
            func.max(HealthSample.name),
            func.count(),
            func.avg(HealthSample.score),
            func.min(HealthSample.score),
            func.min(HealthSample.at),
            func.max(HealthSample.at),
        )
        .where(*where)
        .group_by(HealthSample.subject)
    )
    found: dict[str, SubjectReport] = {}
    for subject, name, count, average, worst, first, last in await db.execute(query):
        found[subject] = SubjectReport(
            subject=subject,
            name=name or subject,
            kind=subject_kind(subject),
            first=aware(first),
            last=aware(last),
            samples=int(count),
            seconds=dict.fromkeys(LEVELS, 0),
            percent=dict.fromkeys(LEVELS, 0.0),
            average_score=float(average),
            worst_score=int(worst),
        )
    return found


async def _levels(
    db: AsyncSession, where: list[ColumnElement[bool]], subjects: dict[str, SubjectReport]
) -> None:
    query = (
        select(HealthSample.subject, HealthSample.level, func.count())
        .where(*where)
        .group_by(HealthSample.subject, HealthSample.level)
    )
    for subject, level, count in await db.execute(query):
        report = subjects[subject]
        report.seconds[level] = int(count) * SAMPLE_SECONDS
        report.percent[level] = 100.0 * int(count) / report.samples


async def _medians(
    db: AsyncSession, where: list[ColumnElement[bool]], column: Any
) -> dict[str, float]:
    """The median of ``column`` per subject (the mean of the middle two of an even count)."""
    inner = (
        select(
            HealthSample.subject.label("subject"),
            column.label("value"),
            func.row_number()
            .over(partition_by=HealthSample.subject, order_by=column)
            .label("rank"),
            func.count().over(partition_by=HealthSample.subject).label("n"),
        )
        .where(*where, column.is_not(None))
        .subquery()
    )
    query = (
        select(inner.c.subject, func.avg(inner.c.value))
        .where(inner.c["rank"].between((inner.c.n + 1) // 2, (inner.c.n + 2) // 2))
        .group_by(inner.c.subject)
    )
    return {subject: float(value) for subject, value in await db.execute(query)}


def _minute_of(db: AsyncSession) -> ColumnElement[int]:
    """The sample's minute as a number (Unix time // 60), in the database's own terms."""
    if db.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", HealthSample.at), Integer) // 60
    epoch = func.floor(func.extract("epoch", HealthSample.at))
    return cast(epoch, BigInteger) // 60


async def _minutes(db: AsyncSession, where: list[ColumnElement[bool]]) -> dict[str, list[Minute]]:
    minute = _minute_of(db).label("minute")
    query = (
        select(
            HealthSample.subject,
            minute,
            func.count(),
            func.avg(HealthSample.score),
            func.avg(HealthSample.rtt),
            func.avg(HealthSample.up_loss),
            func.avg(HealthSample.down_loss),
        )
        .where(*where)
        .group_by(HealthSample.subject, minute)
        .order_by(HealthSample.subject, minute)
    )
    found: dict[str, list[Minute]] = defaultdict(list)
    for subject, number, count, score, rtt, up, down in await db.execute(query):
        at = dt.datetime.fromtimestamp(int(number) * 60, dt.UTC)
        found[subject].append(
            Minute(at, int(count), float(score), _float(rtt), _float(up), _float(down))
        )
    return found


def downsample(minutes: list[Minute], limit: int = MAX_POINTS) -> list[Minute]:
    """At most ``limit`` points: runs of ``k`` minutes merged, weighted by their samples."""
    if not minutes:
        return []
    span = (minutes[-1].at - minutes[0].at).total_seconds() / 60 + 1
    k = max(1, math.ceil(span / limit))
    if k == 1:
        return list(minutes)
    origin = minutes[0].at
    groups: dict[int, list[Minute]] = defaultdict(list)
    for m in minutes:
        groups[int((m.at - origin).total_seconds() // 60) // k].append(m)
    return [_merge(origin + dt.timedelta(minutes=i * k), group) for i, group in groups.items()]


def _merge(at: dt.datetime, group: list[Minute]) -> Minute:
    total = sum(m.samples for m in group)

    def mean(values: Iterable[tuple[float | None, int]]) -> float | None:
        known = [(v, n) for v, n in values if v is not None]
        weight = sum(n for _, n in known)
        return sum(v * n for v, n in known) / weight if weight else None

    score = mean((m.score, m.samples) for m in group)
    return Minute(
        at,
        total,
        score if score is not None else 0.0,
        mean((m.rtt, m.samples) for m in group),
        mean((m.up_loss, m.samples) for m in group),
        mean((m.down_loss, m.samples) for m in group),
    )


async def _down_transitions(db: AsyncSession, where: list[ColumnElement[bool]]) -> dict[str, int]:
    """Per subject, how many samples are ``down`` right after one that was not."""
    previous = func.lag(HealthSample.level).over(
        partition_by=HealthSample.subject, order_by=(HealthSample.at, HealthSample.id)
    )
    inner = (
        select(HealthSample.subject, HealthSample.level, previous.label("previous"))
        .where(*where)
        .subquery()
    )
    query = (
        select(inner.c.subject, func.count())
        .where(
            inner.c.level == "down",
            inner.c.previous.is_not(None),
            inner.c.previous != "down",
        )
        .group_by(inner.c.subject)
    )
    return {subject: int(count) for subject, count in await db.execute(query)}


async def _events(
    db: AsyncSession,
    where: list[ColumnElement[bool]],
    subjects: dict[str, SubjectReport],
    down_from_samples: dict[str, int],
) -> None:
    query = (
        select(
            RoomEventRecord.at,
            RoomEventRecord.type,
            RoomEventRecord.site_id,
            RoomEventRecord.actor,
            RoomEventRecord.data,
        )
        .where(*where, RoomEventRecord.type.in_(EVENT_TYPES))
        .order_by(RoomEventRecord.at, RoomEventRecord.id)
    )
    level_events: dict[str, int] = defaultdict(int)
    downs: dict[str, int] = defaultdict(int)
    alerts: dict[tuple[str, Any], AlertLine] = {}
    for at, kind, site_id, actor, data in await db.execute(query):
        at = aware(at)
        data = data if isinstance(data, dict) else {}
        if kind.startswith("site."):
            subject = f"site:{site_id}"
        else:
            subject = str(data.get("subject", ""))
        report = subjects.get(subject)
        if report is None:
            continue
        if kind == "health.level":
            level_events[subject] += 1
            if data.get("to") == "down":
                downs[subject] += 1
                report.outages.append(Outage(at, "down"))
        elif kind == "site.left":
            report.left += 1
            report.outages.append(Outage(at, "left"))
        elif kind == "site.reconnecting":
            report.reconnecting += 1
            report.outages.append(Outage(at, "reconnecting"))
        elif kind == "health.alert":
            line = AlertLine(
                data.get("id"), at, str(data.get("kind", "")), str(data.get("detail", ""))
            )
            alerts[subject, line.id] = line
            report.alerts.append(line)
        elif (line_found := alerts.get((subject, data.get("id")))) is not None:
            if kind == "health.acknowledged" and line_found.acknowledged_by is None:
                line_found.acknowledged_by = str(data.get("acknowledged_by") or actor or "")
                line_found.acknowledged_at = at
            elif kind == "health.cleared":
                line_found.cleared_at = at
    for subject, report in subjects.items():
        if level_events.get(subject):
            report.disconnections = downs[subject]
        else:
            report.disconnections = down_from_samples.get(subject, 0)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
