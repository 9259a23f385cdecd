"""Real aiortc peers on loopback: synthetic sites (clients) connected to bridge-side SitePeers.

Every peer gathers ICE candidates on 127.0.0.1 only. ``bridge`` closes everything it opened at
teardown, whether the test passed or not. Nothing sleeps for a fixed time to wait for media:
``until`` polls a condition against a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCPeerConnection

from rooms.site import SitePeer
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

LOOPBACK = ["127.0.0.1"]
WIDTH, HEIGHT, FPS = 320, 180, 30  # small enough for 8+ decoding sites on 2 cores
HALL_SLOTS = (("hall.video", "video"), ("hall.audio", "audio"))
FLOOR_SLOTS = (("floor.video", "video"), ("floor.audio", "audio"))


def private(obj: object, owner: type, name: str) -> Any:
    """``obj``'s name-mangled private attribute ``__name`` of class ``owner`` (aiortc's internals
    the bridge relies on); read by its mangled name, which mypy does not know."""
    return getattr(obj, f"_{owner.__name__}__{name}")


async def until(
    condition: Callable[[], object], within: float = 5.0, interval: float = 0.01, what: str = ""
) -> float:
    """Poll ``condition`` until it is true; return the seconds it took. Fails at the deadline."""
    start = time.monotonic()
    deadline = start + within
    while True:
        if condition():
            return time.monotonic() - start
        if time.monotonic() >= deadline:
            pytest.fail(f"not within {within} s: {what or condition}")
        await asyncio.sleep(interval)


def _watch_connected(pc: RTCPeerConnection, into: dict[str, float]) -> None:
    @pc.on("connectionstatechange")
    def changed() -> None:
        if pc.connectionState == "connected":
            into.setdefault("connected", time.monotonic())


@dataclass
class Joined:
    """One site: the synthetic client and its bridge-side peer connection."""

    name: str
    client: SyntheticSite
    peer: SitePeer
    client_times: dict[str, float] = field(default_factory=dict)
    peer_times: dict[str, float] = field(default_factory=dict)
    offer_sdp: str = ""
    answer_sdp: str = ""

    @property
    def connected_at(self) -> float | None:
        """When both ends reported connectionState 'connected' (monotonic clock)."""
        if "connected" in self.client_times and "connected" in self.peer_times:
            return max(self.client_times["connected"], self.peer_times["connected"])
        return None

    def client_transceiver(self, slot_or_track: str) -> Any:
        """The client's transceiver for a slot ("hall.video") or a published track."""
        mid = next(m for m, name in self.client.layout.items() if name == slot_or_track)
        return next(t for t in self.client.pc.getTransceivers() if t.mid == mid)

    def server_transceivers(self) -> list[Any]:
        return list(self.peer.pc.getTransceivers())


class Bridge:
    """Connects synthetic sites to SitePeers and closes them all at the end."""

    def __init__(self) -> None:
        self.sites: list[Joined] = []

    async def join(
        self,
        name: str,
        *,
        camera: PatternTrack | None = None,
        microphone: ToneTrack | None = None,
        slots: Sequence[tuple[str, str]] = (),
        wait: bool = True,
        on_answer: Callable[[Joined], None] | None = None,
        signalling_delay: float = 0.0,
    ) -> Joined:
        """Connect a synthetic site; ``on_answer`` runs once the bridge has answered, and the
        answer reaches the site ``signalling_delay`` seconds later (a socket.io round trip)."""
        client = SyntheticSite(
            name, camera=camera, microphone=microphone, slots=slots, ice_addresses=LOOPBACK
        )
        peer = SitePeer(name, ice_addresses=LOOPBACK)
        joined = Joined(name, client, peer)
        self.sites.append(joined)  # before anything can fail: teardown closes it
        _watch_connected(client.pc, joined.client_times)
        _watch_connected(peer.pc, joined.peer_times)
        joined.offer_sdp, layout = await client.offer()
        joined.answer_sdp = await peer.answer(joined.offer_sdp, layout)
        if on_answer is not None:
            on_answer(joined)
        if signalling_delay:
            await asyncio.sleep(signalling_delay)
        await client.accept(joined.answer_sdp)
        if wait:
            await self.connected(joined)
        return joined

    async def connected(self, joined: Joined, within: float = 10.0) -> None:
        """Wait until both ends are connected and every slot's sender can forward."""
        await until(
            lambda: (
                joined.connected_at is not None
                and all(s.sender.ready.is_set() for s in joined.peer.slots.values())
            ),
            within,
            what=f"{joined.name} connected",
        )

    async def subscribe(
        self,
        names: Sequence[str],
        slots: Sequence[tuple[str, str]],
        feeds: dict[str, tuple[Joined, str]],
        switch_at: str = "ready",
        signalling_delay: float = 0.0,
    ) -> list[Joined]:
        """Join receiving sites concurrently and switch their slots to ``feeds``
        (slot -> (publishing site, track)) at one of three moments:

        - "answer": as soon as the answer is out, before the connection exists (a room
          re-routes whenever anything changes, so a joining site's slots can switch any time;
          with a ``signalling_delay`` the key frame asked for then comes before the
          connection, every time);
        - "connected": when the bridge side's connectionState becomes 'connected' (what
          rooms.room.Room does), which can precede the slot senders' start by a few ms;
        - "ready": once every slot sender has started (isolates tests from join timing).
        """

        def switch(joined: Joined) -> None:
            for slot, (publisher, track) in feeds.items():
                show(joined, slot, publisher, track)

        async def one(name: str) -> Joined:
            joined = await self.join(
                name,
                slots=slots,
                wait=False,
                on_answer=switch if switch_at == "answer" else None,
                signalling_delay=signalling_delay,
            )
            if switch_at == "connected":
                pc = joined.peer.pc

                @pc.on("connectionstatechange")
                def changed() -> None:
                    if pc.connectionState == "connected":
                        switch(joined)

            await self.connected(joined)
            if switch_at == "ready":
                switch(joined)
            return joined

        assert switch_at in ("answer", "connected", "ready")
        return list(await asyncio.gather(*(one(n) for n in names)))

    async def close(self) -> None:
        async def close_one(closer: Callable[[], Any]) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closer(), 10)

        # Clients first (their decoder threads end with their receivers), then the bridge side.
        await asyncio.gather(*(close_one(s.client.close) for s in self.sites))
        await asyncio.gather(*(close_one(s.peer.close) for s in self.sites))


@pytest.fixture
async def bridge() -> AsyncIterator[Bridge]:
    room = Bridge()
    try:
        yield room
    finally:
        await room.close()


def camera(width: int = WIDTH, height: int = HEIGHT, fps: int = FPS, hue: int = 0) -> PatternTrack:
    return PatternTrack(width, height, fps, hue=hue)


def tone(hz: float) -> ToneTrack:
    return ToneTrack(hz)


def show(joined: Joined, slot: str, source_site: Joined, track: str) -> None:
    """Switch ``joined``'s slot to ``source_site``'s published track."""
    joined.peer.slots[slot].switch(source_site.peer.sources[track])


@dataclass
class Seen:
    """An RTP packet as it arrived at a receiver (before aiortc's RTX unwrapping)."""

    at: float
    ssrc: int
    payload_type: int
    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes
    audio_level: tuple[bool, int] | None


def observe_rtp(receiver: Any) -> list[Seen]:
    """Record every RTP packet the DTLS transport hands to ``receiver``, then let it through."""
    seen: list[Seen] = []
    original = receiver._handle_rtp_packet

    async def handle(packet: Any, arrival_time_ms: int) -> None:
        seen.append(
            Seen(
                time.monotonic(),
                packet.ssrc,
                packet.payload_type,
                packet.sequence_number,
                packet.timestamp,
                packet.marker,
                bytes(packet.payload),
                packet.extensions.audio_level,
            )
        )
        await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = handle
    return seen


def observe_rtcp(receiver_or_sender: Any, on_packet: Callable[[Any], None] | None = None) -> list:
    """Record every RTCP packet routed to a receiver or sender, then let it through."""
    seen: list[Any] = []
    original = receiver_or_sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        seen.append(packet)
        if on_packet is not None:
            on_packet(packet)
        await original(packet)

    receiver_or_sender._handle_rtcp_packet = handle
    return seen
