"""``GET /metrics``: the node's live rooms in the Prometheus text format.

Technicians build dashboards on these names (README.md, "Metrics"): keep them stable. Every
figure is read from the live state when Prometheus scrapes (``RoomCollector``), so a room's
label sets disappear as soon as the room ends. The counters stay monotonic across rooms and
connections that end: the collector remembers what each slot and source had counted when it
last saw it and keeps that once the object is gone.

Each application owns its registry (``Metrics``, under the ``METRICS`` key): nothing lives at
module level, so two apps in one process (the tests) do not share figures.

Access: from an address inside ``HealthSettings.metrics_allow`` (loopback by default), or with
``Authorization: Bearer <HealthSettings.metrics_token>``; anything else is refused with 403.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rooms.forwarding import Slot, Source
from rooms.health import LEVELS
from rooms.monitor import HealthReport
from rooms.room import BridgeRoom
from rooms.tasks import cancelled
from server.allocator import HeapTrimmer
from server.keys import CONFIG, DATABASE, HEALTH_HUB, LIVE_ROOMS, METRICS, SOCKETS
from server.live.heartbeat import node_of
from server.monitoring.memory import MemoryProbe
from server.monitoring.scrapers import may_scrape
from server.monitoring.statements import StatementCount
from server.route_table import PUBLIC, RouteTable

#: How often the event loop lag is measured, seconds, and how many measurements are kept.
LAG_INTERVAL = 0.5
LAG_KEPT = 240


class LoopLag:
    """How late the event loop wakes a task that sleeps ``interval`` seconds: a loop busy with
    blocking work shows here first. Owned by the app (``metrics_ctx``); ``close()`` is safe to
    call twice."""

    def __init__(self, interval: float = LAG_INTERVAL) -> None:
        self.interval = interval
        self.lag = 0.0  # seconds, the latest measurement
        self.recent: deque[float] = deque(maxlen=LAG_KEPT)  # the last 2 minutes
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name="event-loop-lag")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.lag = max(0.0, loop.time() - expected)
            self.recent.append(self.lag)

    def summary(self) -> dict[str, float | None]:
        """The lag over the last 2 minutes: p99 and max, seconds (None before a measurement)."""
        if not self.recent:
            return {"p99": None, "max": None}
        ordered = sorted(self.recent)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        return {"p99": round(p99, 4), "max": round(ordered[-1], 4)}


class Totals:
    """Monotonic sums over objects that come and go (slots, sources), each holding counters
    that only grow while it lives. What a vanished object had counted when last seen stays."""

    def __init__(self, width: int) -> None:
        self._retired = [0] * width
        # id(object) → (a weak reference to it, its counters when last seen)
        self._last: dict[int, tuple[weakref.ref[Any], tuple[int, ...]]] = {}

    def update(self, current: Iterable[tuple[object, tuple[int, ...]]]) -> tuple[int, ...]:
        seen: dict[int, tuple[weakref.ref[Any], tuple[int, ...]]] = {}
        for thing, counts in current:
            seen[id(thing)] = (weakref.ref(thing), counts)
        for key, (ref, counts) in self._last.items():
            again = seen.get(key)
            if again is None or again[0]() is not ref():  # gone (or its id was reused)
                self._retired = [a + b for a, b in zip(self._retired, counts, strict=True)]
        self._last = seen
        totals = list(self._retired)
        for _, counts in seen.values():
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        return tuple(totals)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class RoomCollector(Collector):
    """Reads the live rooms, the latest health reports and the sockets at scrape time."""

    def __init__(
        self,
        rooms: Callable[[], dict[int, BridgeRoom]],
        health: Callable[[], dict[int, HealthReport]],
        connections: Callable[[], int],
        lag: LoopLag,
    ) -> None:
        self._rooms = rooms
        self._health = health
        self._connections = connections
        self._lag = lag
        self._forwarded = Totals(2)
        self._sources = Totals(2)

    def collect(self) -> Iterator[Metric]:
        rooms = self._rooms()
        yield GaugeMetricFamily("concord_rooms_live", "Live rooms on this node.", value=len(rooms))

        connected = GaugeMetricFamily(
            "concord_sites_connected",
            "Sites of the room whose media connection is up.",
            labels=["conference"],
        )
        slots: list[tuple[object, tuple[int, ...]]] = []
        sources: list[tuple[object, tuple[int, ...]]] = []
        for conference_id, room in sorted(rooms.items()):
            up = [s for s in room.sites.values() if s.peer is not None and s.link == "connected"]
            connected.add_metric([str(conference_id)], len(up))
            for peer in room.peers():
                slots += [(slot, _slot_counts(slot)) for slot in peer.slots.values()]
                sources += [(source, _source_counts(source)) for source in peer.sources.values()]
        yield connected

        packets, octets = self._forwarded.update(slots)
        yield CounterMetricFamily(
            "concord_forwarded_packets",
            "RTP packets forwarded to sites, consoles and listeners.",
            value=packets,
        )
        yield CounterMetricFamily(
            "concord_forwarded_bytes",
            "Payload bytes of the RTP packets forwarded.",
            value=octets,
        )
        received, keyframes = self._sources.update(sources)
        yield CounterMetricFamily(
            "concord_received_packets",
            "RTP packets received from the published tracks.",
            value=received,
        )
        yield CounterMetricFamily(
            "concord_keyframe_requests",
            "Key frames requested of the publishing sites.",
            value=keyframes,
        )

        reports = {cid: r for cid, r in self._health().items() if cid in rooms}
        yield from _health_families(reports)

        yield GaugeMetricFamily(
            "concord_socketio_connections",
            "Clients connected to the /room socket.io namespace.",
            value=self._connections(),
        )
        yield GaugeMetricFamily(
            "concord_event_loop_lag_seconds",
            "How late the event loop woke a task sleeping 0.5 s, last measured.",
            value=self._lag.lag,
        )


def _slot_counts(slot: Slot) -> tuple[int, ...]:
    return (slot.forwarded, slot.forwarded_bytes)


def _source_counts(source: Source) -> tuple[int, ...]:
    return (source.packets, source.keyframe_requests_sent)


def _health_families(reports: dict[int, HealthReport]) -> Iterator[Metric]:
    site, direction = ["conference", "site"], ["conference", "site", "direction"]
    rtt = GaugeMetricFamily(
        "concord_site_rtt_seconds", "Round-trip time to the site or interpreter.", labels=site
    )
    loss = GaugeMetricFamily(
        "concord_site_loss_ratio",
        "Fraction of packets lost, per direction.",
        labels=direction,
    )
    jitter = GaugeMetricFamily(
        "concord_site_jitter_seconds", "Interarrival jitter, per direction.", labels=direction
    )
    score = GaugeMetricFamily(
        "concord_site_score", "Connection score, 0 (worst) to 100 (best).", labels=site
    )
    level = GaugeMetricFamily(
        "concord_site_level", "Connection level: 0 good, 1 fair, 2 poor, 3 down.", labels=site
    )
    alerts = GaugeMetricFamily(
        "concord_health_alerts_open", "Health alerts open in the room.", labels=["conference"]
    )
    for conference_id, report in sorted(reports.items()):
        conference = str(conference_id)
        alerts.add_metric([conference], len(report.alerts))
        for row in report.rows:
            subject = str(row.get("subject", ""))
            if not subject:
                continue
            labels = [conference, subject]
            if (value := _number(row.get("rtt"))) is not None:
                rtt.add_metric(labels, value)
            if (value := _number(row.get("score"))) is not None:
                score.add_metric(labels, value)
            if row.get("level") in LEVELS:  # as a number: 0 good, 1 fair, 2 poor, 3 down
                level.add_metric(labels, LEVELS.index(row["level"]))
            for name, key in (("up", "uplink"), ("down", "downlink")):
                figures = row.get(key)
                if not isinstance(figures, dict):
                    continue
                if (value := _number(figures.get("loss"))) is not None:
                    loss.add_metric([*labels, name], value)
                if (value := _number(figures.get("jitter"))) is not None:
                    jitter.add_metric([*labels, name], value)
    yield from (rtt, loss, jitter, score, level, alerts)


@dataclass
class Metrics:
    """The app's metrics: its own registry, the loop lag probe, the memory probe's baseline,
    and the heap trimmer (``server.allocator``)."""

    registry: CollectorRegistry
    lag: LoopLag
    memory: MemoryProbe
    heap: HeapTrimmer

    def render(self) -> bytes:
        return generate_latest(self.registry)


class NodeLabelled(Collector):
    """Another collector's families with ``node="<id>"`` on every sample: each node of a
    cluster serves its own /metrics, and sums over nodes need to tell them apart whatever
    Prometheus calls its targets."""

    def __init__(self, inner: Collector, node: str) -> None:
        self._inner = inner
        self._node = node

    def collect(self) -> Iterator[Metric]:
        for family in self._inner.collect():
            family.samples = [
                sample._replace(labels={"node": self._node, **sample.labels})
                for sample in family.samples
            ]
            yield family


def setup(app: web.Application) -> Metrics:
    """Create the app's registry (``METRICS``) and start the lag probe with the app."""
    lag = LoopLag()
    registry = CollectorRegistry(auto_describe=False)

    def rooms() -> dict[int, BridgeRoom]:
        live = app.get(LIVE_ROOMS)
        return live.live() if live is not None else {}

    def health() -> dict[int, HealthReport]:
        hub = app.get(HEALTH_HUB)
        return hub.latest() if hub is not None else {}

    def connections() -> int:
        sockets = app.get(SOCKETS)
        namespace = sockets.namespace_handlers.get("/room") if sockets is not None else None
        members = getattr(namespace, "members", None)
        return len(members) if isinstance(members, dict) else 0

    node = node_of(app[CONFIG])
    registry.register(NodeLabelled(RoomCollector(rooms, health, connections, lag), node))
    metrics = app[METRICS] = Metrics(registry, lag, MemoryProbe(), HeapTrimmer())

    async def metrics_ctx(app: web.Application) -> AsyncIterator[None]:
        counted = StatementCount(app[DATABASE].engine)
        statements = NodeLabelled(counted, node)
        registry.register(statements)
        lag.start()
        metrics.heap.start()
        yield
        await metrics.heap.close()
        await lag.close()
        if metrics.memory.since is not None:
            metrics.memory.stop()  # (the tracing this app's /debug/memory started)
        registry.unregister(statements)
        counted.close()

    app.cleanup_ctx.append(metrics_ctx)
    return metrics


async def metrics_view(request: web.Request) -> web.Response:
    may_scrape(request, "the metrics")
    body = request.app[METRICS].render()
    return web.Response(
        body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )


def add_routes(table: RouteTable) -> None:
    table.get("/metrics", metrics_view, PUBLIC, name="metrics")
