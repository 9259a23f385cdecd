"""From forwarded RTP packets to encoded frames: reordering and depacketising, no decoding.

The recorder receives what a site would receive: packets in arrival order, with the network's
reordering, duplicates (retransmissions that raced the original) and losses. A ``ReorderBuffer``
puts them back in sequence-number order; a ``Vp8Assembler`` or ``OpusFrames`` turns the ordered
packets into the frames a container stores (one Matroska block / Ogg packet each).

Only aiortc is used here (its VP8 payload descriptor parser); ``rooms`` is not imported, so the
archive plane stays independent of the media plane's internals.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RtpPacket

VP8_START_CODE = b"\x9d\x01\x2a"


@dataclass
class StreamCounts:
    """What happened to one input stream's packets (for the manifest and for tests)."""

    received: int = 0
    duplicates: int = 0  # already buffered or already passed on
    late: int = 0  # arrived after its place in the order was given up: dropped
    lost: int = 0  # never arrived in time (gaps in the sequence numbers passed on)
    frames: int = 0  # frames passed on to the container
    dropped_frames: int = 0  # incomplete frames, or inter frames waiting for a key frame


@dataclass(frozen=True)
class Frame:
    """One encoded frame: RTP timestamp (extended past 32-bit wrap), data, key frame or not."""

    timestamp: int
    data: bytes
    keyframe: bool
    size: tuple[int, int] | None = None  # VP8 key frames: (width, height) from the header


def extend(value: int, reference: int | None, bits: int) -> int:
    """``value`` (a ``bits``-bit counter) extended to the unwrapped value nearest ``reference``."""
    if reference is None:
        return value
    modulus = 1 << bits
    delta = (value - reference) % modulus
    if delta >= modulus // 2:
        delta -= modulus
    return reference + delta


class ReorderBuffer:
    """A fixed-depth jitter buffer keyed by extended sequence number.

    It always holds up to ``depth`` packets and passes on the lowest one when a new packet
    would exceed that: reordering by less than ``depth`` packets is undone, at the cost of
    ``depth`` packets of latency, which a recorder can afford (a crash loses those too, a
    fraction of a second). A waiting rule (release the next packet as soon as it is
    contiguous) would be faster but would treat the very first packets, which have nothing
    before them, as in order whichever came first.
    """

    def __init__(self, depth: int, max_hold: float = 0.5) -> None:
        self.depth = depth
        self.max_hold = max_hold  # seconds: a packet is passed on by then whatever is missing
        self.counts = StreamCounts()
        self._heap: list[int] = []
        self._packets: dict[int, tuple[float, RtpPacket]] = {}
        self._highest: int | None = None
        self._released: int | None = None  # extended seq of the last packet passed on
        self._recent: deque[int] = deque(maxlen=1024)  # passed on: tells duplicates from late
        self._recent_set: set[int] = set()

    def push(self, packet: RtpPacket, arrival: float = 0.0) -> list[tuple[int, RtpPacket]]:
        """Add ``packet`` (arrived at ``arrival``, monotonic seconds); return the packets now
        due, in order, with extended numbers."""
        self.counts.received += 1
        seq = extend(packet.sequence_number, self._highest, 16)
        if seq in self._packets or seq in self._recent_set:
            self.counts.duplicates += 1
            return []
        if self._released is not None and seq <= self._released:
            self.counts.late += 1
            return []
        self._highest = seq if self._highest is None else max(self._highest, seq)
        self._packets[seq] = (arrival, packet)
        heapq.heappush(self._heap, seq)
        due = []
        while len(self._heap) > self.depth:
            due.append(self._pop())
        return due + self.expire(arrival)

    def expire(self, now: float) -> list[tuple[int, RtpPacket]]:
        """The packets held longer than ``max_hold`` at ``now`` (and those before them): a
        stream that stops (a camera switched off) must not leave its last packets in memory,
        where a crash would lose them."""
        due: list[tuple[int, RtpPacket]] = []
        oldest = min((self._packets[s][0] for s in self._heap), default=now)
        while self._heap and now - oldest > self.max_hold:
            due.append(self._pop())
            oldest = min((self._packets[s][0] for s in self._heap), default=now)
        return due

    def flush(self) -> list[tuple[int, RtpPacket]]:
        """Everything still buffered, in order (the stream ended)."""
        return [self._pop() for _ in range(len(self._heap))]

    def _pop(self) -> tuple[int, RtpPacket]:
        seq = heapq.heappop(self._heap)
        if self._released is not None and seq > self._released + 1:
            self.counts.lost += seq - self._released - 1
        self._released = seq
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(seq)
        self._recent_set.add(seq)
        return seq, self._packets.pop(seq)[1]


class Vp8Assembler:
    """Ordered VP8 RTP packets (RFC 7741) to whole frames.

    A frame is the packets sharing one timestamp, from the one that starts partition 0 (S=1,
    PID=0) to the one with the marker bit, with no sequence gap. After any gap a frame may be
    missing altogether, and an inter frame decoded without its references shows garbage until
    the next key frame, so everything up to the next key frame is dropped (``needs_keyframe``
    tells the owner to ask the publisher for one). The stream also starts at a key frame.
    """

    def __init__(self, counts: StreamCounts) -> None:
        self.counts = counts
        self.needs_keyframe = True
        self._last_seq: int | None = None
        self._timestamp: int | None = None
        self._ts_reference: int | None = None
        self._parts: list[bytes] = []
        self._broken = False

    def push(self, seq: int, packet: RtpPacket) -> Frame | None:
        gap = self._last_seq is not None and seq != self._last_seq + 1
        self._last_seq = seq
        if gap:
            self.needs_keyframe = True
            self._broken = True
        if packet.timestamp != self._timestamp:
            if self._parts:  # the previous frame never saw its marker packet
                self.counts.dropped_frames += 1
            self._timestamp = packet.timestamp
            self._parts = []
            self._broken = False
        try:
            descriptor, data = VpxPayloadDescriptor.parse(packet.payload)
        except ValueError:
            self._broken = True
            data = b""
        else:
            if not self._parts and not (descriptor.partition_start and not descriptor.partition_id):
                self._broken = True  # the frame's first packet is missing
        self._parts.append(data)
        if not packet.marker:
            return None
        parts, broken = self._parts, self._broken
        self._parts, self._timestamp = [], None
        frame_data = b"".join(parts)
        if broken or not frame_data:
            self.counts.dropped_frames += 1
            return None
        size = vp8_keyframe_size(frame_data)
        if size is None and self.needs_keyframe:
            self.counts.dropped_frames += 1
            return None
        self.needs_keyframe = False
        self._ts_reference = extend(packet.timestamp, self._ts_reference, 32)
        return Frame(self._ts_reference, frame_data, size is not None, size)


class OpusFrames:
    """Ordered Opus RTP packets to frames: RFC 7587 puts exactly one Opus packet in each."""

    def __init__(self, counts: StreamCounts) -> None:
        self.counts = counts
        self._ts_reference: int | None = None

    def push(self, seq: int, packet: RtpPacket) -> Frame | None:
        if not packet.payload:
            return None
        self._ts_reference = extend(packet.timestamp, self._ts_reference, 32)
        return Frame(self._ts_reference, bytes(packet.payload), True)


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) of a VP8 key frame (RFC 6386 §9.1), None for an inter frame."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != VP8_START_CODE:
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height
