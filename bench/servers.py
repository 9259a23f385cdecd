"""The two servers the benchmark compares, each run alone in its own process.

- ``SfuServer``: Concord's media plane as shipped, a ``rooms.room.BridgeRoom`` whose sites
  join, are admitted and connect through ``connect_site``; the room routes the main hall's
  camera and microphone to every site's ``hall.video``/``hall.audio`` slot, forwarding RTP.
- ``BoothServer``: the same room with interpretation booths, for the interpretation scenario
  (``bench.interpretation``): interpreters, listeners choosing a language, on/off air.
- ``RelayServer``: the baseline DESIGN.md rejects, kept here only to be measured: aiortc's
  ``MediaRelay`` decodes the main hall once and every site's sender re-encodes it (VP8 at the
  publisher's bitrate, Opus at its bitrate, so both servers carry the same load).
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import logging
import pstats
import time
from collections.abc import Mapping
from pathlib import Path
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

from rooms import aiortc_hooks as hooks
from rooms.booths import BoothInfo
from rooms.pinned_encoders import pin_encoder, sender_private
from rooms.room import BridgeRoom
from rooms.roster import RoomEvent, SiteInfo
from rooms.site import SitePeer

log = logging.getLogger("bench.servers")
LOOPBACK = ["127.0.0.1"]
MAX_SITES = 256
CODECS = {"video": "video/VP8", "audio": "audio/opus"}


def site_ids(count: int) -> list[str]:
    return [f"site{i}" for i in range(count)]


class SfuServer:
    """A bridge room with a main hall, a probe and up to MAX_SITES count-only sites."""

    def __init__(self, booths: Mapping[str, BoothInfo] | None = None) -> None:
        sites = {"hall": SiteInfo("Main hall", main_hall=True), "probe": SiteInfo("Probe")}
        sites |= {site_id: SiteInfo(site_id) for site_id in site_ids(MAX_SITES)}
        self.events: dict[str, int] = {}
        self.room = BridgeRoom(
            "bench", sites, ice_addresses=LOOPBACK, on_event=self._event, booths=booths
        )
        self.room.start()

    def peers(self) -> list[SitePeer]:
        """Every peer of the room: sites, consoles and interpreters."""
        room = self.room
        peers = [site.peer for site in room.sites.values() if site.peer is not None]
        interpreters = room.channels.interpreters.values()  # interpreter → (language, peer)
        return peers + list(room.consoles.values()) + [peer for _, peer in interpreters]

    def _event(self, event: RoomEvent) -> None:
        self.events[event.type] = self.events.get(event.type, 0) + 1

    async def rpc_join(self, site_id: str, sdp: str, layout: dict[str, str]) -> dict[str, Any]:
        self.room.arrive(site_id)
        self.room.admit(site_id)
        return {"sdp": await self.room.connect_site(site_id, sdp, layout)}

    async def rpc_leave(self, site_id: str) -> None:
        await self.room.leave(site_id)

    async def rpc_stats(self) -> dict[str, Any]:
        received = keyframe_requests = connected = 0
        by_slot: dict[str, int] = {}  # packets forwarded, by slot name
        for peer in self.peers():
            connected += peer.state == "connected"
            for name, slot in peer.slots.items():
                by_slot[name] = by_slot.get(name, 0) + slot.forwarded
            for source in peer.sources.values():
                received += source.packets
                keyframe_requests += source.keyframe_requests_sent
        return {
            "forwarded": sum(by_slot.values()),
            "forwarded_by_slot": by_slot,
            "received": received,
            "keyframe_requests": keyframe_requests,
            "connected": connected,
            "events": dict(self.events),
        }

    async def close(self) -> None:
        await self.room.close()


class BoothServer(SfuServer):
    """The SFU with interpretation booths (issue 4): ``booths`` maps each booth's language to
    its interpreters; each booth works from every other language. Sites join as in
    ``SfuServer`` and may choose a language; listeners join as consoles that receive
    ``interpretation.audio`` only; interpreters join their booth."""

    def __init__(self, booths: dict[str, list[str]]) -> None:
        infos = {
            language: BoothInfo(language, frozenset(set(booths) - {language}), tuple(ids))
            for language, ids in booths.items()
        }
        super().__init__(booths=infos)

    async def rpc_join(
        self, site_id: str, sdp: str, layout: dict[str, str], language: str | None = None
    ) -> dict[str, Any]:
        answer = await super().rpc_join(site_id, sdp, layout)
        if language is not None:
            self.room.choose_language(site_id, language)
        return answer

    async def rpc_listen(
        self, listener: str, sdp: str, layout: dict[str, str], language: str
    ) -> dict[str, Any]:
        answer = await self.room.connect_console(listener, sdp, layout)
        self.room.choose_language(listener, language)
        return {"sdp": answer}

    async def rpc_interpreter(
        self, interpreter: str, language: str, sdp: str, layout: dict[str, str]
    ) -> dict[str, Any]:
        return {"sdp": await self.room.connect_interpreter(interpreter, language, sdp, layout)}

    async def rpc_interpret(self, action: str, interpreter: str, language: str) -> None:
        self.room.interpret(action, interpreter, language)

    async def rpc_profile(self, seconds: float, top: int = 25) -> dict[str, Any]:
        """cProfile of this process's event loop for ``seconds`` (slows it down meanwhile)."""
        return await profile(seconds, top)


async def profile(seconds: float, top: int) -> dict[str, Any]:
    """The functions (by own time) and packages (own time summed) of the main thread, in
    CPU time of that thread: time the thread waits for its CPU is charged to nobody."""
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        await asyncio.sleep(seconds)
    finally:
        profiler.disable()
    rows = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in rows.values()) or 1.0
    packages: dict[str, float] = {}
    functions = []
    for (path, line, name), (_, calls, own, cumulative, _) in rows.items():
        package = _package(path)
        packages[package] = packages.get(package, 0.0) + own
        where = f"{package}:{Path(path).name}:{line}" if line else package
        functions.append(
            {
                "function": f"{where} {name}",
                "calls": calls,
                "own_s": own,
                "cumulative_s": cumulative,
            }
        )
    functions.sort(key=lambda row: -row["own_s"])
    return {
        "seconds": seconds,
        "profiled_s": total,
        "packages": sorted(
            ({"package": k, "own_s": v, "share": v / total} for k, v in packages.items()),
            key=lambda row: -row["own_s"],
        ),
        "functions": functions[:top],
    }


def _package(path: str) -> str:
    """Who owns a profiled function: a package under site-packages, rooms/bench, or Python."""
    parts = Path(path).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    for own in ("rooms", "bench"):
        if own in parts:
            return own
    if path.startswith("<") or path == "~":
        return "builtins"
    return "stdlib:" + Path(path).stem


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
