"""Which quality of a site's camera each receiver gets, and which qualities a site sends.

Every site publishes its camera twice: ``camera`` (full size) and ``camera.low`` (half the
width and height, at most 100 kbit/s). Each receiving slot that shows a camera gets one
of them, chosen for that receiver alone from two inputs:

- the size the slot is shown at: console grid tiles are thumbnails and always get the low
  quality;
- what the receiver's link carries, from its own feedback (``Downlink``): the latest REMB
  (the receiver's estimate of its available bandwidth) and the loss in its receiver reports.
  When the media a receiver is sent would not fit, its least important slots step down
  (high to low, then low to paused) until it fits; audio is never stepped down, so video
  gives way before a voice suffers. A step back up waits until the link has held for a
  while and the higher quality fits with room to spare.

A choice is applied by switching the slot between the two sources (``Slot.switch``: at a key
frame of the new one, without renegotiation). ``Publishing`` tells each site which of its two
qualities nobody receives, so that its browser stops encoding and sending it.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from rooms.forwarding import Slot, SlotSender, Source

log = logging.getLogger(__name__)

HIGH = "camera"
LOW = "camera.low"
Step = Literal["high", "low", "paused"]

#: Bitrates assumed for a quality that has not been measured yet (or is paused), bit/s.
ASSUMED = {"high": 800_000.0, "low": 150_000.0}
#: Audio slots are counted at this rate when not measured (Opus with FEC), bit/s.
AUDIO = 48_000.0
#: The share of the estimate the chosen media may fill (the rest: RTCP, retransmissions).
HEADROOM = 0.85
#: Step up only when the higher quality fits within this share of the estimate...
STEP_UP_ROOM = 0.7
#: ...and the receiver has not had to step down for this long (seconds).
STEP_UP_AFTER = 20.0
#: A step down this soon (seconds) after a step up means the link could not take it: the
#: wait before the next try doubles, up to LONGEST_WAIT, and is back to STEP_UP_AFTER once
#: the link has held for HELD seconds.
PROBE_FAILED = 30.0
LONGEST_WAIT = 120.0
HELD = 60.0
#: Feedback older than this (seconds) is not used.
FRESH = 5.0
#: Receiver-reported loss from which the loss alone says the link is full.
LOSSY = 0.1
#: A REMB that fell (below REMB_FALL of the highest of the last REMB_MEMORY) to below
#: REMB_SHORT of what the receiver is sent says its link is short; so does a loss of LOSSY
#: or more.
REMB_SHORT = 0.9
REMB_FALL = 0.97
REMB_MEMORY = 5  # measurements (seconds) a REMB is compared with
#: ...and (both) only while the round trip is this much (seconds) over the shortest seen.
QUEUED = 0.1
#: Without a sign of a short link, the estimate grows by GROWTH a measurement (about a
#: second), until UNLIMITED bit/s, where it is dropped.
GROWTH = 1.05
UNLIMITED = 20_000_000.0
#: A quality nobody has received for this long (seconds) is paused at its publisher.
PAUSE_AFTER = 2.0

#: Slots in order of importance when a receiver's link is short: the floor holder first.
PRIORITY = {"floor.video": 0, "hall.video": 1, "programme.video": 1}


def priority(slot_name: str) -> int:
    """Lower is more important; grid tiles come last, in grid order."""
    if slot_name in PRIORITY:
        return PRIORITY[slot_name]
    parts = slot_name.split(".")
    if parts[0] == "grid" and len(parts) == 3 and parts[1].isdigit():
        return 100 + int(parts[1])
    return 50


def thumbnail(slot_name: str) -> bool:
    """A slot shown small (a console grid tile): the low quality is enough."""
    return slot_name.startswith("grid.")


class Feedback(Protocol):
    """What a receiver's senders learnt from its RTCP (``aiortc_hooks.ForwardingSender``)."""

    @property
    def remb(self) -> tuple[float, float, tuple[int, ...]] | None: ...  # bit/s, when, SSRCs

    @property
    def reported_loss(self) -> float | None: ...

    @property
    def reported_at(self) -> float: ...

    @property
    def round_trip(self) -> float | None: ...

    @property
    def packets_sent(self) -> int: ...


@dataclass
class Downlink:
    """One receiver's link as its feedback tells it, and its slots' steps.

    ``choose`` is what routing asks for every slot; ``rebalance`` (about once a second)
    moves the steps so that the receiver's media fits its estimate.
    """

    steps: dict[str, Step] = field(default_factory=dict)  # slots not at their best quality
    wanted: dict[str, Source] = field(default_factory=dict)  # video slot: the camera it shows
    estimate: float | None = None  # bit/s; None: nothing says the link is short
    sent_rate: float = 0.0  # bit/s forwarded to the receiver in the last interval
    lossy: bool = False  # its reports lose LOSSY or more: video may pause, not only step down
    _last_down: float = -math.inf
    _last_up: float = -math.inf
    _rembs: deque[float] = field(default_factory=lambda: deque(maxlen=REMB_MEMORY))
    _base_trip: float = math.inf  # the shortest round trip its reports have shown
    _counts: dict[int, int] = field(default_factory=dict)  # sender: packets sent, last time
    _short_reports: int = 0  # measurements in a row that said the link is short
    _up_wait: float = STEP_UP_AFTER
    _sent: tuple[int, float] | None = None  # (bytes forwarded, when)
    _held: dict[str, Step] | None = None  # the steps before the last step up, while it is tried

    def choose(self, slot_name: str, source: Source | None) -> Source | None:
        """The source a slot should show instead of a site's full-size ``camera``."""
        if source is None or source.low is None:
            self.wanted.pop(slot_name, None)
            return source
        self.wanted[slot_name] = source
        step = self.steps.get(slot_name, "low" if thumbnail(slot_name) else "high")
        if step == "paused":
            return None
        if step == "low" or thumbnail(slot_name):
            return source.low
        return source

    def measure(
        self, slots: Mapping[str, Slot[SlotSender]], senders: Iterable[Feedback], now: float
    ) -> None:
        """Update ``estimate`` from the receiver's latest REMB and receiver reports (loss,
        round trip)."""
        sent = sum(slot.forwarded_bytes for slot in slots.values())
        before = self.sent_rate
        if self._sent is not None and now > self._sent[1]:
            self.sent_rate = (sent - self._sent[0]) * 8 / (now - self._sent[1])
        self._sent = (sent, now)
        senders = list(senders)
        # One REMB per set of SSRCs it covers (a browser's covers them all), added up.
        rembs = {s.remb[2]: s.remb[0] for s in senders if s.remb and now - s.remb[1] < FRESH}
        remb = sum(rembs.values()) if rembs else None
        fresh = [s for s in senders if now - s.reported_at < FRESH]
        loss = self._loss(fresh)
        trips = [s.round_trip for s in fresh if s.round_trip is not None]
        queued = 0.0  # seconds the round trip grew over the shortest seen: a queue filling
        if trips:
            self._base_trip = min(self._base_trip, *trips)
            queued = max(trips) - self._base_trip
        # A receive-side estimate (REMB) starts low, grows only a little above what arrives
        # and falls when packets come late, as they do from a busy machine as well as through
        # a full queue: it says the link is short only when it falls below what is sent (and
        # was sent a moment ago: it lags behind a new stream). Loss says it when the reports
        # lose LOSSY or more (random loss on an idle link does not fall by sending less).
        # Either counts only while the round trip shows a queue, two measurements in a row
        # (one report's burst, a key frame's, or a busy moment, is not a link).
        recent = max(self._rembs, default=None)  # the highest of the last few seconds
        fell = remb is not None and recent is not None and remb < recent * REMB_FALL
        below = remb is not None and remb < min(before, self.sent_rate) * REMB_SHORT
        if remb is not None:
            self._rembs.append(remb)
        short: list[float] = []
        if fell and below and remb is not None:
            short.append(remb)
        lost = loss >= LOSSY and self.sent_rate > 0
        if lost:
            short.append(self.sent_rate * (1 - loss))  # what arrives is what the link carries
        self._short_reports = self._short_reports + 1 if short and queued >= QUEUED else 0
        self.lossy = lost and self._short_reports >= 2
        if self._short_reports < 2:
            short = []
        if short:
            self.estimate = min(short)
        elif self.estimate is not None and loss < LOSSY:
            self.estimate *= GROWTH  # no sign of a short link: probe upwards, slowly
            if self.estimate > UNLIMITED:
                self.estimate = None

    def _loss(self, senders: list[Feedback]) -> float:
        """The receivers' reported loss, weighted by what each sender sent since the last
        measurement (a slot that sent two packets and lost one is not a 50% lossy link)."""
        total = weight = 0.0
        counts = {}
        for sender in senders:
            counts[id(sender)] = sender.packets_sent
            sent = sender.packets_sent - self._counts.get(id(sender), sender.packets_sent)
            if sender.reported_loss is not None and sent > 0:
                total += sender.reported_loss * sent
                weight += sent
        self._counts = counts
        return total / weight if weight else 0.0

    def rebalance(self, audio: int, rate: Callable[[Source, Step], float], now: float) -> bool:
        """Step slots down until the media fits the estimate (with ``audio`` audio slots
        playing), or one step up when there is room to spare. Returns whether a step changed."""
        shown = self.wanted
        self.steps = {name: step for name, step in self.steps.items() if name in shown}
        before = dict(self.steps)
        order = sorted(shown, key=priority)  # most important first

        def need(steps: Mapping[str, Step]) -> float:
            total = audio * AUDIO
            for name in order:
                step = steps.get(name, self._best(name))
                if step != "paused":
                    total += rate(shown[name], step)
            return total

        limit = math.inf if self.estimate is None else self.estimate
        if need(self.steps) > limit * HEADROOM:
            lower = self._stepped_down(order, need, limit, now)
            if lower != self.steps:
                if now - self._last_up < PROBE_FAILED:  # the last step up did not hold
                    self._up_wait = min(self._up_wait * 2, LONGEST_WAIT)
                self.steps, self._held, self._last_down = lower, None, now
                return self.steps != before
            # Nothing left to step down (the sound alone is over the estimate): only a try
            # of the small picture on a quiet link may follow (``_step_up``).
        if now - max(self._last_down, self._last_up) >= self._up_wait:
            # A step up waits as long after the last step up as after a step down: the link
            # shows whether it carries the new step before the next one is tried.
            self._step_up(order, need, limit, now)
            if now - self._last_down > HELD:
                self._up_wait = STEP_UP_AFTER
        return self.steps != before

    def _stepped_down(
        self,
        order: list[str],
        need: Callable[[Mapping[str, Step]], float],
        limit: float,
        now: float,
    ) -> dict[str, Step]:
        """The steps that fit ``limit``: back to those before the last step up if it has not
        held (the link carried them a moment ago; an estimate measured while it was overfull
        says less, and once paused a 500 kbit/s link's picture for a minute); otherwise all
        to low before any pauses, and pauses only while packets are being lost (a falling
        REMB alone, a queue or the site's own uplink, steps down)."""
        if self._held is not None and now - self._last_up < PROBE_FAILED:
            if self.estimate is not None:
                self.estimate = max(self.estimate, need(self._held) / HEADROOM)
            return dict(self._held)
        steps = dict(self.steps)
        targets: tuple[Step, ...] = ("low", "paused") if self.lossy else ("low",)
        for target in targets:
            for name in reversed(order):
                if need(steps) <= limit * HEADROOM:
                    break
                if _rank(steps.get(name, self._best(name))) < _rank(target):
                    steps[name] = target
        return steps

    def _step_up(
        self,
        order: list[str],
        need: Callable[[Mapping[str, Step]], float],
        limit: float,
        now: float,
    ) -> None:
        """The most important slot not at its best goes up one step, if it fits: from paused,
        the small picture is tried whenever the link loses little (an estimate that fell
        with a lossy link grows back only 5% a second; a failed try returns to paused)."""
        for name in order:
            step = self.steps.get(name)
            if step is None:
                continue
            up: Step = "low" if step == "paused" else "high"
            trial = {**self.steps, name: up}
            quiet = step == "paused" and not self.lossy
            if need(trial) <= limit * STEP_UP_ROOM or quiet:
                if quiet and self.estimate is not None:
                    self.estimate = max(self.estimate, need(trial) / STEP_UP_ROOM)
                self._held = dict(self.steps)
                if up == self._best(name):
                    trial.pop(name)
                self.steps = trial
                self._last_up = now
            break

    @staticmethod
    def _best(slot_name: str) -> Step:
        return "low" if thumbnail(slot_name) else "high"


def _rank(step: Step) -> int:
    return ("high", "low", "paused").index(step)


@dataclass
class Rates:
    """Each source's bitrate, measured from its byte counter between two calls of ``update``;
    a quality not flowing now is assumed to cost what it last cost (or ``ASSUMED``)."""

    _seen: dict[int, tuple[int, float]] = field(default_factory=dict)  # id: (bytes, when)
    _rate: dict[int, float] = field(default_factory=dict)

    def update(self, sources: Iterable[Source], now: float) -> None:
        alive = set()
        for source in sources:
            key = id(source)
            alive.add(key)
            previous = self._seen.get(key)
            if previous is not None and now - previous[1] > 0.5:
                rate = (source.octets - previous[0]) * 8 / (now - previous[1])
                if rate > 0:
                    self._rate[key] = rate
            if previous is None or now - previous[1] > 0.5:
                self._seen[key] = (source.octets, now)
        for key in set(self._seen) - alive:
            self._seen.pop(key, None)
            self._rate.pop(key, None)

    def of(self, camera: Source, step: Step) -> float:
        source = camera.low if step == "low" and camera.low is not None else camera
        return self._rate.get(id(source), ASSUMED[step if step != "paused" else "low"])


class Receiving(Protocol):
    """A receiver ``fit`` adjusts: a site's or console's peer."""

    @property
    def site_id(self) -> str: ...

    @property
    def downlink(self) -> Downlink: ...

    @property
    def slots(self) -> Mapping[str, Slot[Any]]: ...


def fit(receivers: Iterable[Receiving], rates: Rates, now: float) -> bool:
    """Measure every receiver's link and fit its qualities to it; whether any step changed
    (the room then routes again)."""
    changed = False
    for receiver in receivers:
        downlink = receiver.downlink
        senders = [slot.sender for slot in receiver.slots.values()]
        downlink.measure(receiver.slots, senders, now)
        audio = sum(
            1 for s in receiver.slots.values() if s.kind == "audio" and s.showing is not None
        )
        if downlink.rebalance(audio, rates.of, now):
            changed = True
            log.info(
                "%s: link estimate %s kbit/s (sent %.0f), video steps %s",
                receiver.site_id,
                "unknown" if downlink.estimate is None else f"{downlink.estimate / 1000:.0f}",
                downlink.sent_rate / 1000,
                downlink.steps or "all at their best",
            )
    return changed


class Publishing:
    """Which of each site's camera qualities nobody receives (``PAUSE_AFTER`` seconds on):
    ``update`` returns the sites whose paused set changed, for the room to tell them."""

    def __init__(self) -> None:
        #: site: (its camera source, the qualities it need not send); a new connection has a
        #: new camera, and its browser starts out sending both.
        self.paused: dict[str, tuple[int, frozenset[str]]] = {}
        self._unwanted_since: dict[int, float] = {}

    def update(
        self, sites: Mapping[str, Mapping[str, Source]], now: float
    ) -> dict[str, frozenset[str]]:
        changed: dict[str, frozenset[str]] = {}
        alive: set[int] = set()
        for site_id, sources in sites.items():
            camera = sources.get(HIGH)
            if camera is None or camera.low is None:
                continue
            paused = set()
            for source in (camera, camera.low):
                alive.add(id(source))
                if source.slots:
                    self._unwanted_since.pop(id(source), None)
                    continue
                since = self._unwanted_since.setdefault(id(source), now)
                if now - since >= PAUSE_AFTER:
                    paused.add(source.name)
            new = frozenset(paused)
            camera.held, camera.low.held = HIGH in new, LOW in new
            before = self.paused.get(site_id)
            if new != (before[1] if before and before[0] == id(camera) else frozenset()):
                changed[site_id] = new
            self.paused[site_id] = (id(camera), new)
        for key in set(self._unwanted_since) - alive:
            del self._unwanted_since[key]
        for site_id in set(self.paused) - set(sites):
            del self.paused[site_id]
        return changed


class Qualities:
    """A room's quality work, once a second: each source's bitrate, each receiver's steps,
    and which camera qualities each site is told it need not send (``on_publishing``)."""

    def __init__(self, on_publishing: Callable[[str, frozenset[str]], None]) -> None:
        self._rates = Rates()
        self._publishing = Publishing()
        self._on_publishing = on_publishing

    def fit(
        self,
        receivers: Sequence[Receiving],
        published: Mapping[str, Mapping[str, Source]],
        now: float,
    ) -> bool:
        """Fit the receivers' qualities and tell sites what to pause; whether a receiver's
        steps changed (the room then routes again)."""
        sources = (source for site in published.values() for source in site.values())
        self._rates.update(sources, now)
        changed = fit(receivers, self._rates, now)
        for site_id, paused in self._publishing.update(published, now).items():
            try:
                self._on_publishing(site_id, paused)
            except Exception:  # a broken subscriber must not break the room
                log.exception("could not tell site %s what to send", site_id)
        return changed
