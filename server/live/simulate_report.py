"""What a synthetic site (``server.live.simulate``) reports: frames, fps, gaps, reconnections."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

from rooms.synthetic import Received


@dataclass
class SiteReport:
    site: str
    frames_received: int
    fps: float
    audio_packets_received: int
    packets_lost: int
    reconnects: int = 0
    longest_media_gap_s: float = 0.0
    revoked: str | None = None

    def line(self) -> str:
        return json.dumps(self.__dict__)


@dataclass
class VideoRun:
    """One video slot over every peer connection a site had: frames, fps, longest gap."""

    frames: int
    fps: float
    longest_gap: float

    @classmethod
    def of(cls, runs: Sequence[Received], now: float) -> VideoRun:
        """``runs``: the slot's counts per peer connection, oldest first. The gap counts the
        time between connections and since the last frame; fps is over the time since the
        first frame, so an outage lowers it."""
        runs = [r for r in runs if r.frames and r.first_at is not None and r.last_at is not None]
        if not runs:
            return cls(0, 0.0, 0.0)
        frames = sum(r.frames for r in runs)
        gap = max(r.longest_gap for r in runs)
        for before, after in itertools.pairwise(runs):
            gap = max(gap, (after.first_at or 0.0) - (before.last_at or 0.0))
        gap = max(gap, now - (runs[-1].last_at or now))
        elapsed = now - (runs[0].first_at or now)
        fps = (frames - 1) / elapsed if frames > 1 and elapsed > 0 else 0.0
        return cls(frames, fps, gap)
