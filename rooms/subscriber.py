"""A room member inside the process: the recorder (or anything else that wants the forwarded
packets themselves rather than a peer connection).

A ``Subscriber`` has slots like a site's peer: the same ``Slot`` objects, routed by the room
like every other peer's (``BridgeRoom.add_subscriber``), so it receives exactly what a site
would, renumbered into the slot's own sequence numbers and timestamps. Only the last step
differs: each slot's sender is an ``InProcessSender`` that hands the packet to a callback
instead of an RTP transport. No header extensions are written (nobody parses them), there are
no retransmissions and no RTCP; a lost key frame is asked for again with ``request_keyframe``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping

from aiortc.rtp import RtpPacket

from rooms.forwarding import Slot

CLOCK_RATES = {"video": 90000, "audio": 48000}


class InProcessSender:
    """A ``Slot``'s sender (``forwarding.SlotSender``) that calls back instead of sending."""

    def __init__(self, kind: str, deliver: Callable[[RtpPacket], None]) -> None:
        self.ready = asyncio.Event()
        self.ready.set()  # nothing to negotiate: the first forwarded packet can go out
        self.clock_rate = CLOCK_RATES[kind]
        self.ssrc = random.randrange(1, 1 << 32)
        self.packets_sent = 0
        self._deliver = deliver
        self.closed = False

    def header_extensions(self, packet: RtpPacket, cache: dict[object, bytes]) -> bytes:
        return b""

    async def send(self, packet: RtpPacket, sequence: int, timestamp: int, ext: bytes) -> None:
        if self.closed:
            return
        # A copy: the source hands the same packet object to every slot showing it.
        copy = RtpPacket(
            payload_type=packet.payload_type,
            marker=packet.marker,
            sequence_number=sequence,
            timestamp=timestamp,
            ssrc=self.ssrc,
            payload=packet.payload,
        )
        copy.extensions = packet.extensions
        self.packets_sent += 1
        self._deliver(copy)


class Subscriber:
    """A room member inside the process (the recorder): it receives slots exactly like a site's
    peer (the same Slot objects and routing), but each slot's packets go to a callback.

    ``slots`` maps slot names ("programme.video", "interpretation.audio"...) to "audio" or
    "video"; ``on_packet(slot_name, packet)`` gets each packet as the slot renumbered it.
    ``close()`` is safe to call twice; the room's ``remove_subscriber`` calls it.
    """

    def __init__(
        self,
        subscriber_id: str,
        slots: Mapping[str, str],
        on_packet: Callable[[str, RtpPacket], None],
    ) -> None:
        if not subscriber_id:
            raise ValueError("a subscriber needs an id")
        if not slots:
            raise ValueError("a subscriber needs at least one slot")
        wrong = {name: kind for name, kind in slots.items() if kind not in CLOCK_RATES}
        if wrong:
            name, kind = next(iter(wrong.items()))
            raise ValueError(f"slot {name!r} must be 'audio' or 'video', not {kind!r}")
        self.site_id = subscriber_id  # Slot and routing use peer.site_id
        self.downlink = None  # the recorder keeps every picture at its full quality
        self._on_packet = on_packet
        self.slots: dict[str, Slot[InProcessSender]] = {
            name: Slot(subscriber_id, name, kind, InProcessSender(kind, self._deliverer(name)))
            for name, kind in slots.items()
        }
        self.closed = False

    def _deliverer(self, name: str) -> Callable[[RtpPacket], None]:
        def deliver(packet: RtpPacket) -> None:
            self._on_packet(name, packet)

        return deliver

    def request_keyframe(self, slot_name: str) -> None:
        """Ask whoever feeds a video slot for a key frame (rate-limited by the source)."""
        slot = self.slots.get(slot_name)
        if slot is None:
            raise KeyError(f"this subscriber has no slot {slot_name!r}")
        if not self.closed:
            slot.request_keyframe()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for slot in self.slots.values():
            slot.sender.closed = True
            slot.close()
