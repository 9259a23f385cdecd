"""A pre-conference site check: a loopback call through Concord's real media path.

The site's page publishes its camera and microphone and receives them back on two slots,
``echo.video`` and ``echo.audio``: the same ``SitePeer``, sources and slots as in a bridge
room, with each slot showing the site's own source (no special forwarding code). While the
call lasts, a ``LinkMeter`` samples the connection every 2 s, so the check measures round
trip, loss, jitter and bitrates exactly as the health dashboard will on the day. The page adds
its own figures (and whether camera, microphone and speaker worked); ``summary`` folds the
samples into one result. ``close()`` is safe to call twice.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rooms.health import Thresholds
from rooms.link_stats import LinkMeter, LinkSample
from rooms.site import SitePeer
from rooms.tasks import cancelled

ECHO = {"echo.video": "camera", "echo.audio": "microphone"}
#: The least upstream bitrate a site needs to send its camera and voice at a useful quality.
MIN_UPLINK_BITRATE = 250_000
DURATION = 20.0  # seconds the page runs the network test


class CheckError(Exception):
    """The page's offer cannot be used for a check; the message says why."""


@dataclass(frozen=True)
class NetworkResult:
    """The network part of a check, from Concord's side; ``failed`` names what fell short."""

    rtt: float | None
    loss: float | None
    jitter: float | None
    uplink_bitrate: float | None
    downlink_bitrate: float | None
    samples: int
    failed: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {
            "rtt": self.rtt,
            "loss": self.loss,
            "jitter": self.jitter,
            "uplink_bitrate": self.uplink_bitrate,
            "downlink_bitrate": self.downlink_bitrate,
            "samples": self.samples,
            "failed": list(self.failed),
        }


class CheckCall:
    def __init__(
        self, site_id: str, *, ice_addresses: Sequence[str], interval: float = 2.0
    ) -> None:
        self.peer = SitePeer(site_id, ice_addresses=ice_addresses)
        self.samples: list[LinkSample] = []
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def answer(self, offer_sdp: str, layout: Mapping[str, str]) -> str:
        """Answer the page's offer; its layout names camera, microphone and the echo slots."""
        wanted = {"camera", "microphone", *ECHO}
        if set(layout.values()) - wanted:
            raise CheckError(f"a check can only carry {sorted(wanted)}")
        try:
            answer = await self.peer.answer(offer_sdp, layout)
        except Exception as exc:  # NegotiationError and aiortc's own
            raise CheckError(str(exc)) from None
        for slot_name, source_name in ECHO.items():
            slot, source = self.peer.slots.get(slot_name), self.peer.sources.get(source_name)
            if slot is not None and source is not None:
                slot.switch(source)
        if self._task is None:
            self._task = asyncio.create_task(self._sample(), name="site-check")
        return answer

    async def _sample(self) -> None:
        meter = LinkMeter(self.peer)
        while True:
            await asyncio.sleep(self.interval)
            self.samples.append(meter.sample())

    def summary(self, thresholds: Thresholds) -> NetworkResult:
        """The check's figures: medians over its windows (the first, a warm-up, left out)."""
        usable = [s for s in self.samples[1:] if s.connection == "connected"]

        def median(values: list[float | None]) -> float | None:
            found = [v for v in values if v is not None]
            return statistics.median(found) if found else None

        rtt = median([s.rtt for s in usable])
        loss = median([max(s.uplink.loss or 0.0, s.downlink.loss or 0.0) for s in usable])
        jitter = median([max(s.uplink.jitter or 0.0, s.downlink.jitter or 0.0) for s in usable])
        up = median([s.uplink.bitrate for s in usable])
        down = median([s.downlink.bitrate for s in usable])
        failed = []
        if not usable:
            failed.append("connection")
        else:
            if loss is not None and loss >= thresholds.loss_poor:
                failed.append("loss")
            if rtt is not None and rtt > thresholds.rtt:
                failed.append("round_trip")
            if jitter is not None and jitter > thresholds.jitter:
                failed.append("jitter")
            if up is None or up < MIN_UPLINK_BITRATE:
                failed.append("bitrate")
        return NetworkResult(rtt, loss, jitter, up, down, len(usable), tuple(failed))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)
        await self.peer.close()
