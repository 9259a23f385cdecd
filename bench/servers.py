"""The two servers the benchmark compares, each run alone in its own process.

- ``SfuServer``: Concord's media plane as shipped, a ``rooms.room.BridgeRoom`` whose sites
  join, are admitted and connect through ``connect_site``; the room routes the main hall's
  camera and microphone to every site's ``hall.video``/``hall.audio`` slot, forwarding RTP.
- ``RelayServer``: the baseline DESIGN.md rejects, kept here only to be measured: aiortc's
  ``MediaRelay`` decodes the main hall once and every site's sender re-encodes it (VP8 at the
  publisher's bitrate, Opus at its bitrate, so both servers carry the same load).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError

from bench.codecs import pin_encoder, sender_private
from rooms import aiortc_hooks as hooks
from rooms.room import BridgeRoom, RoomEvent, SiteInfo

log = logging.getLogger("bench.servers")
LOOPBACK = ["127.0.0.1"]
MAX_SITES = 256
CODECS = {"video": "video/VP8", "audio": "audio/opus"}


def site_ids(count: int) -> list[str]:
    return [f"site{i}" for i in range(count)]


class SfuServer:
    """A bridge room with a main hall, a probe and up to MAX_SITES count-only sites."""

    def __init__(self) -> None:
        sites = {"hall": SiteInfo("Main hall", main_hall=True), "probe": SiteInfo("Probe")}
        sites |= {site_id: SiteInfo(site_id) for site_id in site_ids(MAX_SITES)}
        self.events: dict[str, int] = {}
        self.room = BridgeRoom("bench", sites, ice_addresses=LOOPBACK, on_event=self._event)
        self.room.start()

    def _event(self, event: RoomEvent) -> None:
        self.events[event.type] = self.events.get(event.type, 0) + 1

    async def rpc_join(self, site_id: str, sdp: str, layout: dict[str, str]) -> dict[str, Any]:
        self.room.arrive(site_id)
        self.room.admit(site_id)
        return {"sdp": await self.room.connect_site(site_id, sdp, layout)}

    async def rpc_leave(self, site_id: str) -> None:
        await self.room.leave(site_id)

    async def rpc_stats(self) -> dict[str, Any]:
        forwarded = received = keyframe_requests = connected = 0
        for site in self.room.sites.values():
            if site.peer is None:
                continue
            connected += site.peer.state == "connected"
            forwarded += sum(slot.forwarded for slot in site.peer.slots.values())
            for source in site.peer.sources.values():
                received += source.packets
                keyframe_requests += source.keyframe_requests_sent
        return {
            "forwarded": forwarded,
            "received": received,
            "keyframe_requests": keyframe_requests,
            "connected": connected,
            "events": dict(self.events),
        }

    async def close(self) -> None:
        await self.room.close()


class RelayServer:
    """aiortc's MediaRelay: decode the hall once, re-encode for every site."""

    def __init__(self, video_bitrate: int = 600_000, audio_bitrate: int = 32_000) -> None:
        self.relay = MediaRelay()
        self.bitrates = {"video": video_bitrate, "audio": audio_bitrate}
        self.hall: dict[str, MediaStreamTrack] = {}
        self.hall_ready = asyncio.Event()
        self.pcs: dict[str, RTCPeerConnection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def rpc_join(self, site_id: str, sdp: str, layout: dict[str, str]) -> dict[str, Any]:
        old = self.pcs.pop(site_id, None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.pcs[site_id] = pc
        publishing = any(name in ("camera", "microphone") for name in layout.values())
        if publishing:

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                self.hall[track.kind] = track
                # Read the decoded hall continuously, so frames never queue up in aiortc's
                # track before the first site subscribes.
                self._spawn(self._sink(self.relay.subscribe(track, buffered=False)))
                if len(self.hall) == 2:
                    self.hall_ready.set()

        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        for transceiver in pc.getTransceivers():
            hooks.keep_codec(transceiver, CODECS[transceiver.kind])
        if not publishing:
            await asyncio.wait_for(self.hall_ready.wait(), 30)
            for transceiver in pc.getTransceivers():
                pc.addTrack(self.relay.subscribe(self.hall[transceiver.kind]))
                pin_encoder(transceiver.sender, self.bitrates[transceiver.kind])
        hooks.restrict_ice_addresses(pc, LOOPBACK)
        await pc.setLocalDescription(await pc.createAnswer())
        return {"sdp": pc.localDescription.sdp}

    async def _sink(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def rpc_leave(self, site_id: str) -> None:
        pc = self.pcs.pop(site_id, None)
        if pc is not None:
            await pc.close()

    async def rpc_stats(self) -> dict[str, Any]:
        forwarded = connected = 0
        for pc in self.pcs.values():
            connected += pc.connectionState == "connected"
            for transceiver in pc.getTransceivers():
                forwarded += sender_private(transceiver.sender, "packet_count")
        return {"forwarded": forwarded, "connected": connected}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for pc in list(self.pcs.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.close(), 10)
