"""What a site's people experienced over the last window: received video that froze, audio the
browser had to conceal (made up for lost or late packets), and reconnections.

Only the page knows the first two (its ``getStats()``: ``freezeCount``/``totalFreezesDuration``
of inbound video, ``concealedSamples``/``totalSamplesReceived`` of inbound audio); the page
and Concord both count reconnections (new peer connections after the first: the page counts
those it made, Concord those it answered for an admitted site), and the larger count is taken,
since either may miss some (a page's report sent while its socket was down is lost; an offer
the page made while the server was unreachable never reached Concord).

``ExperienceLog`` keeps, per subject, each page report and each server-counted reconnection
with the time it arrived, and sums them over the last ``window`` seconds (the concealed share
once the window holds 10 s of received audio). Each report is
counted once, however many 2-s health windows it stays fresh for. It is pure and clock-driven
(every method takes ``now``), so it is tested without media.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

#: Seconds the experience is summed over, by default (``Thresholds.experience_window``).
WINDOW = 30.0
#: Page reports with received audio the window must hold before its concealed share counts
#: (pages report every 2 s: 10 s of audio). Over less, one 0.1-s glitch, or the jitter buffer
#: settling on a new connection, reads as several percent.
MIN_AUDIO_REPORTS = 5


@dataclass(frozen=True)
class Experience:
    """One subject's experience over the window."""

    freezes: int = 0  # received video freezes
    frozen_seconds: float = 0.0  # how long they lasted, together
    concealed: float | None = None  # share of received audio concealed (None: no audio)
    reconnections: int = 0  # new peer connections after the first
    window: float = WINDOW

    @property
    def frozen_share(self) -> float:
        return min(1.0, self.frozen_seconds / self.window) if self.window > 0 else 0.0

    def public(self) -> dict[str, Any]:
        return {
            "freezes": self.freezes,
            "frozen_seconds": round(self.frozen_seconds, 2),
            "concealed": None if self.concealed is None else round(self.concealed, 4),
            "reconnections": self.reconnections,
            "window": self.window,
        }


@dataclass(frozen=True)
class _Report:
    at: float
    freezes: int
    frozen_seconds: float
    concealed_samples: float  # concealed share × samples: the weighted part
    samples: int
    reconnections: int


@dataclass
class _Subject:
    reports: deque[_Report] = field(default_factory=deque)
    reconnected: deque[tuple[float, int]] = field(default_factory=deque)  # server-counted
    page_total: int | None = None  # the page's own cumulative count, as last reported


class ExperienceLog:
    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._subjects: dict[str, _Subject] = {}

    def page(self, subject: str, now: float, summary: dict[str, Any]) -> None:
        """A page's report (``BrowserStats``): its deltas since its previous report, and its
        cumulative reconnection count (which starts again at 0 when the page is reloaded)."""
        state = self._subjects.setdefault(subject, _Subject())
        total = summary.get("reconnections")
        reconnections = 0
        if isinstance(total, int) and not isinstance(total, bool):
            before = state.page_total
            if before is not None:
                # A count lower than the last one is a new page (reloaded): all of it is new.
                reconnections = total if total < before else total - before
            # (The first report only sets the baseline: what came before it, Concord counted.)
            state.page_total = total
        samples = int(summary.get("audio_samples") or 0)
        concealed = float(summary.get("concealed_audio") or 0.0)
        state.reports.append(
            _Report(
                at=now,
                freezes=int(summary.get("freezes_delta") or 0),
                frozen_seconds=float(summary.get("freeze_seconds_delta") or 0.0),
                concealed_samples=concealed * samples,
                samples=samples,
                reconnections=reconnections,
            )
        )
        self._trim(state, now)

    def reconnected(self, subject: str, now: float, count: int = 1) -> None:
        """Concord answered ``count`` new peer connections of the subject (after its first)."""
        if count > 0:
            state = self._subjects.setdefault(subject, _Subject())
            state.reconnected.append((now, count))

    def of(self, subject: str, now: float) -> Experience:
        state = self._subjects.get(subject)
        if state is None:
            return Experience(window=self.window)
        self._trim(state, now)
        reports = state.reports
        heard = [r for r in reports if r.samples > 0]
        samples = sum(r.samples for r in heard) if len(heard) >= MIN_AUDIO_REPORTS else 0
        return Experience(
            freezes=sum(r.freezes for r in reports),
            frozen_seconds=sum(r.frozen_seconds for r in reports),
            concealed=sum(r.concealed_samples for r in heard) / samples if samples else None,
            reconnections=max(
                sum(r.reconnections for r in reports), sum(n for _, n in state.reconnected)
            ),
            window=self.window,
        )

    def forget(self, subject: str) -> None:
        self._subjects.pop(subject, None)

    def _trim(self, state: _Subject, now: float) -> None:
        start = now - self.window
        while state.reports and state.reports[0].at < start:
            state.reports.popleft()
        while state.reconnected and state.reconnected[0][0] < start:
            state.reconnected.popleft()
