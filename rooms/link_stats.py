"""What Concord's side of one peer connection measures, window by window.

Every window (2 s) the meter reads the connection's aiortc statistics and the forwarding
counters and turns cumulative counters into rates for the window:

- uplink (site → Concord): Concord's receivers count packets received and lost (from RTP
  sequence numbers) and the interarrival jitter of each published track (read from the
  receivers themselves: ``aiortc_hooks.received_streams``);
- downlink (Concord → site): the site's RTCP receiver reports on Concord's senders give the
  fraction lost and jitter, and with Concord's sender reports the round-trip time (the
  latest report's, per sender: ``ForwardingSender.round_trip``);
- the transport's byte counters give both bitrates; the camera's RTP marker bits its frame
  rate (of whichever of its two qualities sends more: one may be paused); keyframe requests
  sent to the site and NACKs it sent are counted too.

Loss is the loss over the last ``LOSS_WINDOWS`` windows (6 s): a 2-second window holds
100–200 packets, too few for a steady percentage (5% loss reads anywhere from 2% to 8%), and
a level that flickers between fair and poor would never stay poor long enough to alert.

Nothing here decodes media. ``silent_for`` (seconds since the site's last packet) is what tells
a dead site from a quiet one: a browser keeps sending audio packets even in silence. A site that
has sent no media at all (no camera, no microphone: it only listens) is ``publishing`` False;
``reported_for`` (seconds since its last RTCP receiver report) tells whether it still receives.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from rooms import aiortc_hooks as hooks
from rooms.site import SitePeer

#: Receiver reports older than this (seconds) are left out.
REPORT_FRESH = 5.0
#: Windows the loss is measured over (see the module docstring).
LOSS_WINDOWS = 3


@dataclass(frozen=True)
class Direction:
    """One direction of a link over one window."""

    loss: float | None  # fraction of packets lost (None: nothing to measure)
    jitter: float | None  # seconds
    bitrate: float | None  # bits per second
    packets: int  # packets in the window

    def public(self) -> dict[str, Any]:
        return {
            "loss": _round(self.loss, 4),
            "jitter": _round(self.jitter, 4),
            "bitrate": _round(self.bitrate, 0),
            "packets": self.packets,
        }


@dataclass(frozen=True)
class LinkSample:
    """One window of one peer connection, as Concord measured it."""

    at: float  # UNIX time of the end of the window
    connection: str  # the RTCPeerConnection's state
    rtt: float | None  # seconds, from the site's receiver reports
    uplink: Direction
    downlink: Direction
    frame_rate: float | None  # the site's camera, frames per second received
    keyframe_requests: int  # key frames Concord asked of the site in the window
    nacks: int  # packets the site asked Concord to send again in the window
    silent_for: float  # seconds since the last packet from the site (inf: none yet)
    audio_level: int | None  # the microphone's -dBov (0 loudest, 127 silence), if fresh
    publishing: bool = True  # it has sent media (False: it only receives, no camera or mic)
    reported_for: float = 0.0  # seconds since its last receiver report (RTCP) or connecting

    @classmethod
    def closed(cls, at: float) -> LinkSample:
        """A connection that is gone: nothing measured, nothing heard."""
        nothing = Direction(None, None, None, 0)
        return cls(at, "closed", None, nothing, nothing, None, 0, 0, float("inf"), None)

    def public(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 3),
            "connection": self.connection,
            "rtt": _round(self.rtt, 4),
            "uplink": self.uplink.public(),
            "downlink": self.downlink.public(),
            "frame_rate": _round(self.frame_rate, 1),
            "keyframe_requests": self.keyframe_requests,
            "nacks": self.nacks,
            "silent_for": None if self.silent_for == float("inf") else round(self.silent_for, 1),
            "audio_level": self.audio_level,
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class _Counters:
    at: float
    received: int = 0
    lost: int = 0
    sent: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    frames: int = 0
    low_frames: int = 0  # the camera's second quality (camera.low)
    keyframe_requests: int = 0
    nacks: int = 0


class LinkMeter:
    """Samples one ``SitePeer``; the first sample's rates cover the time since creation."""

    def __init__(self, peer: SitePeer) -> None:
        self.peer = peer
        self._since = time.monotonic()
        self._last = _Counters(at=self._since)
        self._primed = False
        self._up_loss: deque[tuple[int, int]] = deque(maxlen=LOSS_WINDOWS)  # (lost, expected)
        self._down_loss: deque[tuple[float, float]] = deque(maxlen=LOSS_WINDOWS)

    def sample(self) -> LinkSample:
        """One window, read synchronously from the connection's objects (no ``getStats()``:
        it gathers a task per transceiver, hundreds per pass in a room of 40 sites)."""
        peer, now = self.peer, time.monotonic()
        counters = _Counters(at=now)
        up_jitter: list[float] = []
        down_loss: list[tuple[float, int]] = []
        down_jitter: list[float] = []
        if peer.state != "closed":
            counters.bytes_in, counters.bytes_out = hooks.transport_bytes(peer.pc)
        senders = [s.sender for s in peer.slots.values()]
        # A slot with nothing to send gets no more reports: its last one goes stale.
        fresh = [s for s in senders if now - s.reported_at < REPORT_FRESH]
        for sender in fresh:
            if sender.reported_loss is not None:
                down_loss.append((sender.reported_loss, max(1, sender.packets_sent)))
            if sender.reported_jitter is not None:
                down_jitter.append(sender.reported_jitter)
        for receiver in peer.receivers.values():
            for stream in hooks.received_streams(receiver):
                counters.received += stream.received
                counters.lost += max(0, stream.lost)
                up_jitter.append(stream.jitter)
        rtts = [t for s in fresh if (t := s.round_trip) is not None and t > 0]
        camera, low = peer.sources.get("camera"), peer.sources.get("camera.low")
        if camera is not None and not any(c and c.last_packet_at for c in (camera, low)):
            camera = None  # offered but never sent (no camera): no frame rate, not "frozen"
        counters.frames = camera.frames if camera else 0
        counters.low_frames = low.frames if low else 0
        counters.keyframe_requests = sum(s.keyframe_requests_sent for s in peer.sources.values())
        counters.nacks = sum(slot.sender.nacked for slot in peer.slots.values())
        counters.sent = sum(slot.sender.packets_sent for slot in peer.slots.values())
        last, self._last = self._last, counters
        first, self._primed = not self._primed, True
        if first:
            # The first reading only sets the counters: what they hold was counted since the
            # connection began, not in a window; its rates are unknown.
            last = replace(counters, at=last.at)
        seconds = max(1e-3, now - last.at)
        received = max(0, counters.received - last.received)
        lost = max(0, counters.lost - last.lost)
        self._up_loss.append((lost, received + lost))
        expected = sum(e for _, e in self._up_loss)
        uplink = Direction(
            loss=sum(n for n, _ in self._up_loss) / expected if expected else None,
            jitter=max(up_jitter) if up_jitter else None,
            bitrate=None if first else max(0, counters.bytes_in - last.bytes_in) * 8 / seconds,
            packets=received,
        )
        if down_loss:
            weight = sum(w for _, w in down_loss)
            self._down_loss.append((sum(f * w for f, w in down_loss), weight))
        down_weight = sum(w for _, w in self._down_loss)
        downlink = Direction(
            loss=sum(f for f, _ in self._down_loss) / down_weight if down_weight else None,
            jitter=max(down_jitter) if down_jitter else None,
            bitrate=None if first else max(0, counters.bytes_out - last.bytes_out) * 8 / seconds,
            packets=max(0, counters.sent - last.sent),
        )
        heard = [s.last_packet_at for s in peer.sources.values() if s.last_packet_at]
        microphone = peer.sources.get("microphone")
        return LinkSample(
            at=time.time(),
            connection=peer.state,
            rtt=sum(rtts) / len(rtts) if rtts else None,
            uplink=uplink,
            downlink=downlink,
            # (the quality it sends: one nobody receives is paused, rooms.quality; a camera
            # paused whole has no frame rate, it is not frozen)
            frame_rate=(
                max(counters.frames - last.frames, counters.low_frames - last.low_frames) / seconds
                if camera and not first and not (camera.held and (low is None or low.held))
                else None
            ),
            keyframe_requests=max(0, counters.keyframe_requests - last.keyframe_requests),
            nacks=max(0, counters.nacks - last.nacks),
            silent_for=now - max(heard) if heard else float("inf"),
            audio_level=microphone.peak_level if microphone else None,
            publishing=bool(heard),
            # (counted from the meter's start: a site just connected has had no time to report)
            reported_for=now - max([self._since, *(s.reported_at for s in senders)]),
        )
