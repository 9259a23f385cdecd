"""The room's health monitor: every 2 s it measures each site's and interpreter's connection
(``link_stats``), grades them and raises or clears alerts (``health``), and hands one
``HealthReport`` to the control plane, which shows it to technicians, stores the samples and
exports the metrics. Owned by the ``BridgeRoom``; ``close()`` is safe to call twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from rooms.channels import Channels
from rooms.experience import ExperienceLog
from rooms.health import Change, HealthTracker, Observation, ServerLoad, Thresholds
from rooms.link_stats import LinkMeter, LinkSample
from rooms.roster import SiteState
from rooms.site import SitePeer
from rooms.tasks import cancelled

log = logging.getLogger(__name__)

INTERVAL = 2.0
#: How long a page's own report is used (seconds): a little over two of its 2-s periods.
BROWSER_FRESH = 5.0
#: The largest browser report kept (bytes of its JSON, checked by the control plane too).
BROWSER_KEYS = frozenset(
    {
        "inbound_loss",
        "inbound_jitter",
        "frames_decoded",
        "freezes",
        "freezes_delta",
        "outbound_bitrate",
        "limitation",
        "candidate_rtt",
        "candidate_type",
        "audio_level",
        "devices_changed",
        "freeze_seconds_delta",
        "concealed_audio",
        "audio_samples",
        "reconnections",
    }
)


@dataclass(frozen=True)
class Watched:
    """Someone the monitor watches: a site or an interpreter, with their connection if any."""

    subject: str  # "site:12" or "interpreter:5"
    name: str
    kind: Literal["site", "interpreter"]
    peer: SitePeer | None  # None: expected but not connected now
    muted: bool = False
    on_air: bool = False
    booth: str | None = None  # the interpreter's booth (target language)
    reconnections: int = 0  # new peer connections Concord answered after the first


@dataclass(frozen=True)
class HealthReport:
    at: float
    rows: list[dict[str, Any]]  # one per subject: its health, its figures, who it is
    changes: list[Change]
    alerts: list[dict[str, Any]]  # the open ones
    server: ServerLoad | None = None  # the server's own state over the window


class HealthMonitor:
    def __init__(
        self,
        watched: Callable[[], list[Watched]],
        on_report: Callable[[HealthReport], None],
        thresholds: Thresholds | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.tracker = HealthTracker(thresholds)
        self.experience = ExperienceLog(self.tracker.thresholds.experience_window)
        self._reconnections: dict[str, int] = {}  # the count each subject had last window
        self.interval = interval
        self._watched = watched
        self._on_report = on_report
        self._meters: dict[str, LinkMeter] = {}
        self._browser: dict[str, tuple[float, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name="room-health")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)

    def browser_report(self, subject: str, summary: dict[str, Any]) -> None:
        """The page's own ``getStats()`` summary; used while fresh (``BROWSER_FRESH``): pages
        report every 2 s on their own clock, so a window may see none."""
        kept = {k: v for k, v in summary.items() if k in BROWSER_KEYS}
        now = time.monotonic()
        self._browser[subject] = (now, kept)
        self.experience.page(subject, now, kept)

    def _page(self, subject: str) -> dict[str, Any] | None:
        found = self._browser.get(subject)
        if found is None or time.monotonic() - found[0] > BROWSER_FRESH:
            self._browser.pop(subject, None)
            return None
        return found[1]

    def acknowledge(self, alert_id: int, by: str) -> dict[str, Any] | None:
        alert = self.tracker.acknowledge(alert_id, by)
        return alert.public() if alert is not None else None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked, cpu_before = loop.time(), time.process_time()
            await asyncio.sleep(self.interval)
            woke = loop.time()
            load = ServerLoad(
                loop_lag=max(0.0, woke - asked - self.interval),
                cpu=(time.process_time() - cpu_before) / max(1e-3, woke - asked),
            )
            try:
                self._on_report(await self.measure(load))
            except Exception:
                log.exception("health sampling failed")

    async def measure(self, server: ServerLoad | None = None) -> HealthReport:
        """One window: sample every watched connection and grade it. ``server``: how late
        this process's event loop woke for it and its CPU over the window (the trouble is put
        at the server only when that, or every site at once, says so)."""
        now, clock = time.time(), time.monotonic()
        watched = self._watched()
        observations: list[Observation] = []
        who: dict[str, Watched] = {}
        for w in watched:
            meter = self._meters.get(w.subject)
            if w.peer is not None and (meter is None or meter.peer is not w.peer):
                meter = self._meters[w.subject] = LinkMeter(w.peer)
            if meter is None:
                continue  # never connected: offline, nothing to grade
            sample = meter.sample() if w.peer is not None else LinkSample.closed(now)
            page = self._page(w.subject)
            if sample.rtt is None and page and page.get("candidate_rtt") is not None:
                # Nothing sent to the site (a main hall while nobody has the floor): no
                # receiver reports, but its page measures the path's round trip itself.
                sample = replace(sample, rtt=float(page["candidate_rtt"]))
            who[w.subject] = w
            before = self._reconnections.get(w.subject, 0)
            # (A lower count: the site left and came back, its count started again.)
            new = w.reconnections - before if w.reconnections >= before else w.reconnections
            self.experience.reconnected(w.subject, clock, new)
            self._reconnections[w.subject] = w.reconnections
            lived = self.experience.of(w.subject, clock)
            observations.append(
                Observation(w.subject, sample, w.muted, w.on_air, page, experience=lived)
            )
        browser = {o.subject: o.browser for o in observations if o.browser}
        changes = self.tracker.update(observations, time.time(), server)
        gone = set(self._meters) - {w.subject for w in watched}
        for subject in gone:
            del self._meters[subject]
            self._reconnections.pop(subject, None)
            self.experience.forget(subject)
            changes += self.tracker.forget(subject, now)
        rows = []
        for health in self.tracker.health():
            one = who.get(health.subject)
            if one is None:
                continue
            row = {**health.public(), "name": one.name, "kind": one.kind, "booth": one.booth}
            rows.append(row | {"browser": browser.get(health.subject)})
        alerts = [a.public() for a in self.tracker.open_alerts()]
        return HealthReport(now, rows, changes, alerts, server)


def watched_connections(sites: Mapping[str, SiteState], channels: Channels) -> list[Watched]:
    """Whom a room's health monitor watches: admitted sites and interpreters at work."""
    rows = [
        Watched(
            f"site:{s.site_id}",
            s.info.name,
            "site",
            s.peer,
            muted=s.muted,
            reconnections=s.reconnections,
        )
        for s in sites.values()
        if s.admission == "admitted"
    ]
    booths = channels.interpretation.booths
    for interpreter, (language, peer) in channels.interpreters.items():
        booth = booths.get(language)
        name = booth.info.name_of(interpreter) if booth else interpreter
        on_air = booth is not None and booth.on_air == interpreter
        rows.append(Watched(interpreter, name, "interpreter", peer, on_air=on_air, booth=language))
    return rows
