"""Forwarding encoded RTP: sources (what a site publishes) and slots (what a site receives).

A ``Source`` is one published track (a site's camera, microphone or screen). A ``Slot`` is one
receiving track of a site ("floor video", "hall audio"...) whose source can change at any time
without renegotiation: the slot keeps its own SSRC, sequence numbers and timestamps, rewrites
each forwarded packet into them, and for video switches only at a key frame of the new source
(which it asks for), so the picture never breaks up. Nothing here decodes or encodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol

from aiortc.rtp import RtpPacket
from typing_extensions import TypeVar  # a TypeVar default (PEP 696): bare ``Slot`` as before

from rooms.aiortc_hooks import ForwardingSender
from rooms.rtp import is_vp8_keyframe, uint16, uint32

log = logging.getLogger(__name__)

KEYFRAME_REQUEST_INTERVAL = 0.5  # seconds between PLIs sent to one publisher's track


class SlotSender(Protocol):
    """What a ``Slot`` needs of its sender: a site's ``ForwardingSender`` (RTP to a peer
    connection) or an in-process one (``rooms.subscriber``: the recorder)."""

    @property
    def ready(self) -> asyncio.Event: ...

    @property
    def clock_rate(self) -> int: ...

    def header_extensions(self, packet: RtpPacket, cache: dict[object, bytes]) -> bytes: ...

    async def send(self, packet: RtpPacket, sequence: int, timestamp: int, ext: bytes) -> None: ...


SenderT = TypeVar("SenderT", bound=SlotSender, covariant=True, default=ForwardingSender)


class Source:
    """One published track; fans its packets out to the slots showing it."""

    def __init__(
        self,
        site_id: str,
        name: str,
        kind: str,
        send_pli: Callable[[int], object],
        keyframe_interval: float = KEYFRAME_REQUEST_INTERVAL,
    ) -> None:
        self.site_id = site_id
        self.name = name  # camera, microphone, screen
        self.kind = kind
        self.slots: set[Slot[Any]] = set()
        self.media_ssrc: int | None = None
        #: The same camera at a lower quality (``rooms.quality``), when the site sends one.
        self.low: Source | None = None
        #: The site was told not to send it: nobody receives it now (``rooms.quality``).
        self.held = False
        self.packets = 0
        self.octets = 0  # payload bytes received: the bitrate's counter
        self.frames = 0  # video frames received (RTP marker bits): the frame rate's counter
        self.keyframes = 0
        self.keyframe_requests_sent = 0
        self.audio_level: int | None = None  # -dBov of the last packet (0 loudest, 127 silent)
        self._peak: tuple[int, int, int] = (127, 127, -1)  # (last second's, this one's, second)
        self.last_packet_at = 0.0
        self._send_pli = send_pli
        self._interval = keyframe_interval
        self._last_request = -1e9
        self._deferred: asyncio.TimerHandle | None = None
        self._closed = False

    async def on_packet(self, packet: RtpPacket) -> None:
        self.media_ssrc = packet.ssrc
        self.packets += 1
        self.octets += len(packet.payload)
        if packet.marker and self.kind == "video":
            self.frames += 1
        self.last_packet_at = time.monotonic()
        keyframe = self.kind == "video" and is_vp8_keyframe(packet.payload)
        if keyframe:
            self.keyframes += 1
        elif self.kind == "audio" and packet.extensions.audio_level is not None:
            level = self.audio_level = packet.extensions.audio_level[1]
            previous, current, second = self._peak
            now = int(self.last_packet_at)
            if now != second:
                previous, current, second = (current if now == second + 1 else 127), 127, now
            self._peak = (previous, min(current, level), second)
        blocks: dict[object, bytes] = {}  # header-extension blocks built for this packet
        for slot in list(self.slots):
            try:
                await slot.push(self, packet, keyframe, blocks)
            except Exception:  # one broken subscriber must not close the publisher's transport
                log.exception("forwarding to %s/%s failed", slot.site_id, slot.name)

    @property
    def peak_level(self) -> int | None:
        """The loudest level (-dBov) of the last one to two seconds: a meter polled once a
        second would otherwise read single packets and miss beeps and syllables."""
        if self.audio_level is None or time.monotonic() - self.last_packet_at >= 2:
            return None
        previous, current, second = self._peak
        if int(time.monotonic()) > second + 1:
            return None
        return min(previous, current)

    def request_keyframe(self) -> None:
        """Ask the publisher for a key frame, at most once per interval (later ones coalesce)."""
        if self.kind != "video" or self._closed:
            return
        now = time.monotonic()
        wait = self._last_request + self._interval - now
        if wait <= 0:
            self._send_now()
        elif self._deferred is None:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._send_now)

    def _send_now(self) -> None:
        self._deferred = None
        if self._closed or self.media_ssrc is None:
            # Nothing received yet: the first packets will do, ask again shortly.
            if not self._closed and self._deferred is None:
                self._deferred = asyncio.get_running_loop().call_later(
                    self._interval, self._send_now
                )
            return
        self._last_request = time.monotonic()
        self.keyframe_requests_sent += 1
        self._send_pli(self.media_ssrc)

    def close(self) -> None:
        self._closed = True
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        for slot in list(self.slots):
            slot.source_closed(self)


class Slot(Generic[SenderT]):
    """A receiving track of one site, fed from a switchable source."""

    def __init__(self, site_id: str, name: str, kind: str, sender: SenderT) -> None:
        self.site_id = site_id
        self.name = name
        self.kind = kind
        self.sender = sender
        self.source: Source | None = None
        self.pending: Source | None = None  # video: switching to it at its next key frame
        self.forwarded = 0  # packets sent from this slot (its sources' RTP), and their payload
        self.forwarded_bytes = 0
        self._seq_offset = 0
        self._ts_offset = 0
        self._last_seq = random.randrange(0, 32768)
        self._last_ts = random.randrange(0, 1 << 32)
        self._last_sent_at: float | None = None
        self._rebase_next = True

    @property
    def showing(self) -> Source | None:
        """The source the site will see: the pending one once switched, else the current."""
        return self.pending or self.source

    def switch(self, source: Source | None) -> None:
        """Show ``source`` from now on (None: nothing). Video waits for a key frame."""
        if source is self.showing:
            return
        if self.pending is not None:
            self.pending.slots.discard(self)
            self.pending = None
        if source is self.source:
            return  # switched back before the other source's key frame: nothing to do
        if source is None:
            self._detach()
            return
        source.slots.add(self)
        if self.kind == "video":
            self.pending = source
            if self.sender.ready.is_set():  # otherwise the site peer asks once it is
                source.request_keyframe()
        else:
            self._detach()
            self.source = source
            self._rebase_next = True

    def request_keyframe(self) -> None:
        """The site lost picture (PLI/FIR): ask whoever feeds this slot."""
        target = self.pending or self.source
        if target is not None:
            target.request_keyframe()

    async def push(
        self, source: Source, packet: RtpPacket, keyframe: bool, blocks: dict[object, bytes]
    ) -> None:
        if not self.sender.ready.is_set():
            return  # not negotiated yet: a switch waits for a key frame it can send whole
        if source is self.pending:
            if not keyframe:
                return
            self._detach()
            self.source, self.pending = source, None
            self._rebase(packet)
        elif source is not self.source:
            return
        elif self._rebase_next:
            self._rebase(packet)
        sequence = uint16(packet.sequence_number + self._seq_offset)
        timestamp = uint32(packet.timestamp + self._ts_offset)
        self._last_seq, self._last_ts = sequence, timestamp
        self._last_sent_at = time.monotonic()
        self.forwarded += 1
        self.forwarded_bytes += len(packet.payload)
        extensions = self.sender.header_extensions(packet, blocks)
        await self.sender.send(packet, sequence, timestamp, extensions)

    def _rebase(self, packet: RtpPacket) -> None:
        """Continue this slot's numbering from ``packet`` on (a new source, or the first)."""
        self._rebase_next = False
        elapsed = 0.02 if self._last_sent_at is None else time.monotonic() - self._last_sent_at
        ticks = max(1, int(elapsed * self.sender.clock_rate))
        self._seq_offset = uint16(self._last_seq + 1 - packet.sequence_number)
        self._ts_offset = uint32(self._last_ts + ticks - packet.timestamp)

    def _detach(self) -> None:
        if self.source is not None:
            self.source.slots.discard(self)
            self.source = None

    def source_closed(self, source: Source) -> None:
        if self.pending is source:
            self.pending = None
        if self.source is source:
            self.source = None
        source.slots.discard(self)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.switch(None)
