"""Connection health: a level and a score per site and interpreter, alerts, and where the
trouble is.

Levels follow the thresholds the industry uses (Zoom's and WebRTC's own quality indicators):
packet loss under 1% is good, under 3% fair, otherwise poor; jitter over 40 ms or a round
trip over 300 ms lowers the level by one; so does a frozen camera or a microphone that sends
nothing but silence while the site is not muted. What the site's people experienced over the
last 30 s (``rooms.experience``: received video that froze, received audio the browser had to
conceal, reconnections) lowers the score, and past its thresholds the level: concealed audio
and frozen received video count against the downlink, reconnections against the whole link.
No packet for ``Thresholds.down_after`` seconds, or a closed connection, is "down". A site
that sends no media at all (no camera, no microphone) is "listening": graded on what it
receives, and down only when its receiver reports stop while Concord sends to it. Each
direction is graded on its own, so the dashboard can say whether a site's uplink, its downlink
or Concord's server is in trouble. The trouble is put at the server only from the server's
own measures (its event loop late, its CPU busy: ``ServerLoad``) or when every connected site
(at least 3) is poor at once; otherwise each site's trouble is its own link's, however many
sites share it (2 of 3 sites on bad links are two bad links, not a bad server).

Alerts carry ``facts`` (numbers and codes) besides their English ``detail``, so that each page
words them in its user's language.

``HealthTracker`` turns a subject's samples into levels and alerts (poor for ``poor_for``
seconds, down, an interpreter silent on air); it is pure and clock-driven, so it is tested
without media. ``rooms.monitor.HealthMonitor`` runs it for a room every 2 s.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from rooms.experience import WINDOW, Experience
from rooms.link_stats import Direction, LinkSample

Level = Literal["good", "fair", "poor", "down"]
LEVELS: tuple[Level, ...] = ("good", "fair", "poor", "down")
Where = Literal["uplink", "downlink", "both", "server"]
AlertKind = Literal["poor", "down", "silent_on_air"]

#: -dBov at or above which audio counts as silence (RFC 6464: 127 is digital silence).
SILENT_LEVEL = 127


@dataclass(frozen=True)
class Thresholds:
    """When a link turns fair or poor, and how long before an alert; all configurable."""

    loss_fair: float = 0.01  # packet loss at or above this: fair
    loss_poor: float = 0.03  # at or above this: poor
    jitter: float = 0.040  # seconds; above it, one level lower
    rtt: float = 0.300  # seconds; above it, one level lower
    poor_for: float = 10.0  # seconds poor (or worse) before an alert
    down_after: float = 5.0  # seconds without a packet before a site counts as down
    silent_for: float = 5.0  # seconds an on-air interpreter may be silent before an alert
    frozen_after: float = 3.0  # seconds of a camera at 0 frames/s before it counts as frozen
    server_lag: float = 0.25  # seconds the server's event loop woke late: the server strained
    server_cpu: float = 0.9  # share of a core the server's process used in the window
    # What people experienced over ``experience_window`` seconds: at or above the fair
    # threshold, one level lower; at or above the poor one, poor.
    concealed_fair: float = 0.03  # share of received audio concealed
    concealed_poor: float = 0.10
    frozen_fair: float = 0.05  # share of the window received video stood frozen
    frozen_poor: float = 0.20
    reconnections_fair: int = 1  # new peer connections after the first
    reconnections_poor: int = 3
    experience_window: float = WINDOW


@dataclass(frozen=True)
class ServerLoad:
    """The server's own state over the window: how late its event loop woke, its CPU."""

    loop_lag: float  # seconds
    cpu: float  # share of one core, 0–1 (and above, with threads)

    def strained(self, t: Thresholds) -> bool:
        return self.loop_lag >= t.server_lag or self.cpu >= t.server_cpu

    def public(self) -> dict[str, float]:
        return {"loop_lag": round(self.loop_lag, 3), "cpu": round(self.cpu, 3)}


def _lower(level: Level) -> Level:
    return "poor" if level in ("fair", "poor") else "fair"


def grade_direction(direction: Direction, rtt: float | None, t: Thresholds) -> Level:
    """One direction's level from its loss, jitter and the link's round trip."""
    loss = direction.loss or 0.0
    level: Level = "good" if loss < t.loss_fair else "fair" if loss < t.loss_poor else "poor"
    slow = rtt is not None and rtt > t.rtt
    if slow or (direction.jitter is not None and direction.jitter > t.jitter):
        level = _lower(level)
    return level


#: Score points each experienced trouble costs (see ``experience_penalties``).
CONCEALED_POINTS = 5.0  # a percent of received audio concealed
FREEZE_POINTS = 5.0  # a received video freeze
FROZEN_POINTS = 1.0  # a percent of the window the received video stood frozen
RECONNECTION_POINTS = 15.0  # a reconnection


def experience_penalties(experience: Experience | None) -> dict[str, float]:
    """What each experienced trouble costs the score, by the flag that names it; only those
    that cost at least a point (the reasons a row shows)."""
    if experience is None:
        return {}
    costs = {
        "concealed_audio": (experience.concealed or 0.0) * 100 * CONCEALED_POINTS,
        "frozen_received_video": experience.freezes * FREEZE_POINTS
        + experience.frozen_share * 100 * FROZEN_POINTS,
        "reconnected": experience.reconnections * RECONNECTION_POINTS,
    }
    return {flag: cost for flag, cost in costs.items() if cost >= 1.0}


def score(sample: LinkSample, t: Thresholds, experience: Experience | None = None) -> int:
    """0–100: 100 minus penalties for loss (10 a percent), jitter over half the threshold,
    round trip over half the threshold, and what the site's people experienced (5 a percent
    of audio concealed, 5 a video freeze and 1 a percent of the window frozen, 15 a
    reconnection); a number to sort and chart, the level is what counts. A link that is down
    scores 0, whatever its last figures said: its people got nothing."""
    loss = max(sample.uplink.loss or 0.0, sample.downlink.loss or 0.0)
    jitter = max(sample.uplink.jitter or 0.0, sample.downlink.jitter or 0.0)
    rtt = sample.rtt or 0.0
    penalty = loss * 1000 + max(0.0, jitter - t.jitter / 2) * 500
    penalty += max(0.0, rtt - t.rtt / 2) * 100
    penalty += sum(experience_penalties(experience).values())
    return max(0, min(100, round(100 - penalty)))


def _stepped(level: Level, value: float, fair: float, poor: float) -> Level:
    """``level`` after one measure: poor at or above ``poor``, one lower at or above ``fair``."""
    if value >= poor:
        return "poor"
    return _lower(level) if value >= fair else level


def grade_experience(
    downlink: Level, link: Level, experience: Experience | None, t: Thresholds
) -> tuple[Level, Level]:
    """The downlink's level after the received audio's concealment and the received video's
    freezes, and the link's (the worse direction's, lowered as the downlink was) after the
    reconnections."""
    if experience is None:
        return downlink, link
    down = _stepped(downlink, experience.concealed or 0.0, t.concealed_fair, t.concealed_poor)
    down = _stepped(down, experience.frozen_share, t.frozen_fair, t.frozen_poor)
    overall = _stepped(
        worst(link, down),
        experience.reconnections,
        t.reconnections_fair,
        t.reconnections_poor,
    )
    return down, overall


def dead_link(sample: LinkSample, t: Thresholds) -> bool:
    """Gone: the connection closed or failed; a publishing site sent nothing for
    ``down_after`` seconds; a listening one sent no receiver report for as long while Concord
    sent it media (with nothing sent to it, a listener has nothing to report on)."""
    if sample.connection in ("closed", "failed"):
        return True
    if sample.publishing:
        return sample.silent_for >= t.down_after
    return sample.downlink.packets > 0 and sample.reported_for >= t.down_after


def worst(*levels: Level) -> Level:
    return max(levels, key=LEVELS.index)


@dataclass
class Health:
    """A subject's health after its latest sample (what the dashboard shows in its row)."""

    subject: str
    level: Level
    score: int
    uplink: Level
    downlink: Level
    where: Where | None  # None while the level is good
    flags: tuple[str, ...]  # "frozen_video", "silent_microphone"
    since: float  # UNIX time the level was reached
    sample: LinkSample | None
    experience: Experience | None = None

    def public(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "level": self.level,
            "score": self.score,
            "uplink": self.uplink,
            "downlink": self.downlink,
            "where": self.where,
            "flags": list(self.flags),
            "since": round(self.since, 3),
            **(self.sample.public() if self.sample else {}),
            "experience": self.experience.public() if self.experience else None,
        }


@dataclass
class Alert:
    id: int
    subject: str
    kind: AlertKind
    raised_at: float
    detail: str  # in English, for logs and the API
    facts: dict[str, Any] = field(default_factory=dict)  # what pages word in their language
    cleared_at: float | None = None
    acknowledged_by: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "kind": self.kind,
            "raised_at": round(self.raised_at, 3),
            "detail": self.detail,
            "facts": self.facts,
            "cleared_at": None if self.cleared_at is None else round(self.cleared_at, 3),
            "acknowledged_by": self.acknowledged_by,
        }


@dataclass
class _SubjectState:
    health: Health | None = None
    poor_since: float | None = None
    frozen_since: float | None = None
    silent_since: float | None = None
    alerts: dict[AlertKind, Alert] = field(default_factory=dict)  # open ones, by kind


@dataclass(frozen=True)
class Observation:
    """What the tracker is told about a subject each window."""

    subject: str
    sample: LinkSample
    muted: bool = False  # the site's microphone is muted (by the chair or itself)
    on_air: bool = False  # an interpreter now on air
    browser: dict[str, Any] | None = None  # the page's own getStats() summary
    experience: Experience | None = None  # what its people experienced over the window


@dataclass(frozen=True)
class Change:
    """What a window changed: a subject's level, an alert raised or cleared."""

    type: Literal["level", "connection", "alert", "cleared", "acknowledged"]
    subject: str
    data: dict[str, Any]


class HealthTracker:
    """Levels and alerts of a room's subjects, fed one window of observations at a time."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self._subjects: dict[str, _SubjectState] = {}
        self._ids = itertools.count(1)
        self.alerts: list[Alert] = []  # every alert of the room, oldest first

    def health(self) -> list[Health]:
        return [s.health for s in self._subjects.values() if s.health is not None]

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if a.cleared_at is None]

    def acknowledge(self, alert_id: int, by: str) -> Alert | None:
        found = next((a for a in self.alerts if a.id == alert_id), None)
        if found is not None and found.acknowledged_by is None:
            found.acknowledged_by = by
        return found

    def forget(self, subject: str, now: float) -> list[Change]:
        """The subject left the room for good: its open alerts are cleared."""
        state = self._subjects.pop(subject, None)
        if state is None:
            return []
        return [self._clear(state, kind, now) for kind in list(state.alerts)]

    def update(
        self, observations: list[Observation], now: float, server: ServerLoad | None = None
    ) -> list[Change]:
        changes: list[Change] = []
        graded = {o.subject: self._grade(o, now) for o in observations}
        connected = [h for h in graded.values() if h.level != "down"]
        poor = [h for h in connected if h.level == "poor"]
        everyone = len(connected) >= 3 and len(poor) == len(connected)
        server_trouble = everyone or (server is not None and server.strained(self.thresholds))
        for o in observations:
            health = graded[o.subject]
            if server_trouble and health.level == "poor":
                health = replace(health, where="server")
            changes += self._apply(o, health, now)
        return changes

    def _grade(self, o: Observation, now: float) -> Health:
        t, sample = self.thresholds, o.sample
        state = self._subjects.setdefault(o.subject, _SubjectState())
        up = grade_direction(sample.uplink, sample.rtt, t)
        down = grade_direction(sample.downlink, sample.rtt, t)
        flags: list[str] = []
        frozen = sample.frame_rate is not None and sample.frame_rate < 0.5
        state.frozen_since = _since(state.frozen_since, frozen, now)
        if state.frozen_since is not None and now - state.frozen_since >= t.frozen_after:
            flags.append("frozen_video")
        listening = not sample.publishing
        if listening:
            flags.append("listening")
        quiet = sample.audio_level is None or sample.audio_level >= SILENT_LEVEL
        quiet = quiet and not o.muted and not listening  # (a listener has no microphone)
        state.silent_since = _since(state.silent_since, quiet, now)
        if state.silent_since is not None and now - state.silent_since >= t.silent_for:
            flags.append("silent_microphone")
        if o.browser and o.browser.get("limitation") not in (None, "", "none"):
            flags.append(f"limited_by_{o.browser['limitation']}")
        flags += experience_penalties(o.experience)
        level = worst(up, down)
        if {"frozen_video", "silent_microphone"} & set(flags) and level != "poor":
            level = _lower(level)
        down, level = grade_experience(down, level, o.experience, t)
        if dead_link(sample, t):
            level = "down"
        where: Where | None = None
        if level in ("fair", "poor"):
            ranks = LEVELS.index(up), LEVELS.index(down)
            where = (
                "uplink" if ranks[0] > ranks[1] else "downlink" if ranks[1] > ranks[0] else "both"
            )
        previous = state.health
        since = previous.since if previous is not None and previous.level == level else now
        return Health(
            o.subject,
            level,
            0 if level == "down" else score(sample, t, o.experience),  # (nothing got through)
            up,
            down,
            where,
            tuple(flags),
            since,
            sample,
            o.experience,
        )

    def _apply(self, o: Observation, health: Health, now: float) -> list[Change]:
        t, state = self.thresholds, self._subjects[o.subject]
        changes: list[Change] = []
        before = state.health.level if state.health is not None else None
        was = state.health.sample.connection if state.health and state.health.sample else None
        state.health = health
        now_state = health.sample.connection if health.sample else None
        if was is not None and now_state != was:
            changes.append(Change("connection", o.subject, {"from": was, "to": now_state}))
        if before != health.level:
            changes.append(
                Change(
                    "level", o.subject, {"from": before, "to": health.level, "where": health.where}
                )
            )
        state.poor_since = _since(state.poor_since, health.level == "poor", now)
        wanted: dict[AlertKind, tuple[str, dict[str, Any]]] = {}
        if health.level == "down" and before not in (None, "down"):
            silent = o.sample.silent_for
            gone = silent == float("inf") or o.sample.connection in ("closed", "failed")
            gone = gone or not o.sample.publishing
            wanted["down"] = (
                ("connection lost", {"gone": True})
                if gone
                else (f"no media from it for {silent:.0f} s", {"silent_for": round(silent)})
            )
        elif health.level == "down" and "down" in state.alerts:
            kept = state.alerts["down"]
            wanted["down"] = (kept.detail, kept.facts)
        if state.poor_since is not None and now - state.poor_since >= t.poor_for:
            wanted["poor"] = _poor_detail(health)
        if o.on_air and "silent_microphone" in health.flags:
            quiet = now - (now if state.silent_since is None else state.silent_since)
            wanted["silent_on_air"] = (
                f"on air and silent for {quiet:.0f} s",
                {"silent_for": round(quiet)},
            )
        for kind, (detail, facts) in wanted.items():
            if kind not in state.alerts:
                alert = Alert(next(self._ids), o.subject, kind, now, detail, facts)
                state.alerts[kind] = alert
                self.alerts.append(alert)
                changes.append(Change("alert", o.subject, alert.public()))
        for kind in [k for k in state.alerts if k not in wanted]:
            if kind == "poor" and health.level == "down":
                continue  # gone from poor to down: the poor alert stays until it recovers
            changes.append(self._clear(state, kind, now))
        return changes

    def _clear(self, state: _SubjectState, kind: AlertKind, now: float) -> Change:
        alert = state.alerts.pop(kind)
        alert.cleared_at = now
        return Change("cleared", alert.subject, alert.public())


def _since(started: float | None, holds: bool, now: float) -> float | None:
    """When a condition started holding (``None`` once it no longer holds)."""
    if not holds:
        return None
    return now if started is None else started


def _poor_detail(health: Health) -> tuple[str, dict[str, Any]]:
    """A poor alert's English detail and its facts: where, each direction's loss, the RTT."""
    sample = health.sample
    facts: dict[str, Any] = {"where": health.where}
    if sample is None:
        return "poor", facts
    parts = []
    for name, direction in (("uplink", sample.uplink), ("downlink", sample.downlink)):
        if direction.loss is not None:
            parts.append(f"{name} loss {direction.loss:.1%}")
            facts[f"{name}_loss"] = round(direction.loss, 4)
    if sample.rtt is not None:
        parts.append(f"RTT {sample.rtt * 1000:.0f} ms")
        facts["rtt"] = round(sample.rtt, 3)
    lived = health.experience
    if lived is not None and "concealed_audio" in health.flags and lived.concealed is not None:
        parts.append(f"audio concealed {lived.concealed:.1%}")
        facts["concealed"] = round(lived.concealed, 4)
    if lived is not None and "frozen_received_video" in health.flags:
        parts.append(f"{lived.freezes} video freeze(s) ({lived.frozen_seconds:.1f} s)")
        facts["freezes"], facts["frozen_seconds"] = lived.freezes, round(lived.frozen_seconds, 2)
    if lived is not None and "reconnected" in health.flags:
        parts.append(f"{lived.reconnections} reconnection(s)")
        facts["reconnections"] = lived.reconnections
    where = f" ({health.where})" if health.where else ""
    return "poor" + where + ": " + ", ".join(parts), facts
