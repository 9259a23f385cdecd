"""The benchmark's clients: the main-hall publisher, the decoding probe and count-only sites.

- ``Publisher``: one 640x360 test pattern (the wall-clock ms drawn in, ``rooms.synthetic``) and
  a tone, encoded at fixed bitrates; one connection to the server under test and one direct
  connection to the probe, both fed the same frames, so the probe compares like with like.
- ``Probe``: a decoding site on the server (``rooms.synthetic.SyntheticSite`` reading the
  stamps) plus the answering end of the direct connection; reports latency per window.
- ``SitesWorker``: many ``CountingSite``s, aiortc peers that never decode: their receivers are
  tapped (``rooms.aiortc_hooks.tap_receiver``) and count packets, frames (marker bits) and
  losses (sequence gaps).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from typing import Any, cast

import aiohttp
import av
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.rtp import RtpPacket

from bench.measure import percentile
from bench.node import call
from rooms import aiortc_hooks as hooks
from rooms.pinned_encoders import pin_encoder, sender_private
from rooms.synthetic import (
    STAMP_BITS,
    PatternTrack,
    Received,
    SyntheticSite,
    ToneTrack,
    consume,
)

LOOPBACK = ["127.0.0.1"]
HALL_SLOTS = (("hall.video", "video"), ("hall.audio", "audio"))
CODECS = {"video": "video/VP8", "audio": "audio/opus"}
CONNECT_TIMEOUT = 60.0


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


def prefer(transceiver: RTCRtpTransceiver, kind: str) -> None:
    """setCodecPreferences: VP8 (with RTX) or Opus, as the browser client does."""
    wanted = CODECS[kind].lower()
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in codecs if c.mimeType.lower() == wanted]
    chosen += [c for c in codecs if c.mimeType.lower().endswith("/rtx")]
    transceiver.setCodecPreferences(chosen)


async def connected(pc: RTCPeerConnection, within: float = CONNECT_TIMEOUT) -> None:
    deadline = time.monotonic() + within
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed") or time.monotonic() > deadline:
            raise RuntimeError(f"connection {pc.connectionState} after {within} s")
        await asyncio.sleep(0.05)


def sender_counts(pc: RTCPeerConnection) -> dict[str, dict[str, int]]:
    """Packets and payload octets each sender of ``pc`` has sent, by kind."""
    counts: dict[str, dict[str, int]] = {}
    for transceiver in pc.getTransceivers():
        sender = transceiver.sender
        if sender.track is None and transceiver.direction == "recvonly":
            continue
        counts[transceiver.kind] = {
            "packets": sender_private(sender, "packet_count"),  # aiortc's SR counters
            "octets": sender_private(sender, "octet_count"),
        }
    return counts


class Yuv420Track(MediaStreamTrack):
    """``source``'s frames converted to yuv420p once, as every VP8 encoder wants them."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source

    async def recv(self) -> av.VideoFrame:
        frame = cast(av.VideoFrame, await self.source.recv())
        converted = frame.reformat(format="yuv420p")
        converted.pts, converted.time_base = frame.pts, frame.time_base
        return converted


class OwnFrames(MediaStreamTrack):
    """A private copy of each frame of a relayed track: aiortc's encoders write to the frame
    they encode (``pict_type`` for a forced key frame) and PyAV frames are not thread-safe, so
    two encoders in the executor must never share one (sharing one segfaults in libswscale)."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.frames = 0  # frames handed to this connection's encoder

    async def recv(self) -> av.VideoFrame:
        frame = cast(av.VideoFrame, await self.source.recv())
        self.frames += 1
        copy = av.VideoFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name)
        copy.pts, copy.time_base = frame.pts, frame.time_base
        return copy

    def stop(self) -> None:
        self.source.stop()
        super().stop()


class Publisher:
    """The main hall: one pattern and one tone, sent to the server and directly to the probe."""

    def __init__(
        self,
        width: int = 640,
        height: int = 360,
        fps: int = 30,
        video_bitrate: int = 600_000,
        audio_bitrate: int = 32_000,
    ) -> None:
        self.pattern = PatternTrack(width, height, fps)
        self.video = Yuv420Track(self.pattern)
        self.tone = ToneTrack(440)
        self.relay = MediaRelay()  # frame fan-out only: each connection has its own encoder
        self.bitrates = {"video": video_bitrate, "audio": audio_bitrate}
        self.bridge: SyntheticSite | None = None
        self.direct: SyntheticSite | None = None
        self.cameras: dict[str, OwnFrames] = {}
        self.session: aiohttp.ClientSession | None = None

    def _site(self, name: str) -> SyntheticSite:
        camera = OwnFrames(self.relay.subscribe(self.video, buffered=False))
        site = SyntheticSite(
            name,
            camera=camera,  # type: ignore[arg-type]
            microphone=self.relay.subscribe(self.tone),  # type: ignore[arg-type]
            ice_addresses=LOOPBACK,
        )
        self.cameras[name] = camera
        for transceiver in site.pc.getTransceivers():
            pin_encoder(transceiver.sender, self.bitrates[transceiver.kind])
        return site

    async def _connect(self, url: str, site_id: str, name: str) -> SyntheticSite:
        self.session = self.session or aiohttp.ClientSession()
        site = self._site(name)
        sdp, layout = await site.offer()
        answer = await call(self.session, url, "join", site_id=site_id, sdp=sdp, layout=layout)
        await site.accept(answer["sdp"])
        await connected(site.pc)
        return site

    async def rpc_connect(self, server: str) -> None:
        """(Re)connect the main hall to the server under test."""
        await self.rpc_disconnect()
        self.bridge = await self._connect(server, "hall", "hall")

    async def rpc_disconnect(self) -> None:
        if self.bridge is not None:
            site, self.bridge = self.bridge, None
            await site.close()

    async def rpc_direct(self, probe: str) -> None:
        self.direct = await self._connect(probe, "direct", "direct")

    async def rpc_stats(self) -> dict[str, Any]:
        bridge = self.cameras.get("hall")
        return {
            "generated": self.pattern.made,
            # frames the bridge connection's encoder was given (it may skip some when late)
            "frames": bridge.frames if bridge is not None else 0,
            "bridge": sender_counts(self.bridge.pc) if self.bridge else {},
            "direct": sender_counts(self.direct.pc) if self.direct else {},
        }

    async def close(self) -> None:
        for site in (self.bridge, self.direct):
            if site is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(site.close(), 10)
        if self.session is not None:
            await self.session.close()


STAMP_MODULUS = 1 << STAMP_BITS


def _latencies(stamps: list[tuple[int, int]], t0: int, t1: int) -> list[tuple[int, int]]:
    """(sent ms, latency ms) of frames received in [t0, t1), sane stamps only.

    ``read_stamp`` gives the send time modulo 2**40 ms (40 bits are drawn; wall-clock ms have
    exceeded 2**40 since 2004) while ``Received.stamps`` pairs it with the full receive time,
    so the difference is taken modulo 2**40.
    """
    # (sent mod 2**40 is also the key that pairs a frame seen on both paths, whether or not
    # the stamps were unwrapped to full wall-clock ms)
    pairs = ((s % STAMP_MODULUS, (r - s) % STAMP_MODULUS) for s, r in stamps if t0 <= r < t1)
    return [(s, lat) for s, lat in pairs if lat < 60_000]


def _summary(latencies: list[float]) -> dict[str, Any]:
    return {
        "frames": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "max_ms": max(latencies) if latencies else None,
    }


class Probe:
    """A decoding site on the server, and the answering end of the direct connection."""

    def __init__(self) -> None:
        self.bridge: SyntheticSite | None = None
        self.direct_pc: RTCPeerConnection | None = None
        self.direct = {"video": Received("video"), "audio": Received("audio")}
        self.session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def rpc_connect(self, server: str) -> None:
        """(Re)join the server under test as a site receiving the main hall."""
        self.session = self.session or aiohttp.ClientSession()
        await self.rpc_leave()
        site = SyntheticSite("probe", slots=HALL_SLOTS, ice_addresses=LOOPBACK, read_stamps=True)
        self.bridge = site
        sdp, layout = await site.offer()
        answer = await call(self.session, server, "join", site_id="probe", sdp=sdp, layout=layout)
        await site.accept(answer["sdp"])
        await connected(site.pc)

    async def rpc_leave(self) -> None:
        if self.bridge is not None:
            site, self.bridge = self.bridge, None
            await site.close()

    async def rpc_join(self, site_id: str, sdp: str, layout: dict[str, str]) -> dict[str, Any]:
        """The direct connection: the publisher offers to the probe as it would to a server."""
        if self.direct_pc is not None:
            await self.direct_pc.close()
        pc = new_pc()
        self.direct_pc = pc

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            task = asyncio.ensure_future(consume(track, self.direct[track.kind], read_stamps=True))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        for transceiver in pc.getTransceivers():
            hooks.keep_codec(transceiver, CODECS[transceiver.kind])
        hooks.restrict_ice_addresses(pc, LOOPBACK)
        await pc.setLocalDescription(await pc.createAnswer())
        return {"sdp": pc.localDescription.sdp}

    async def rpc_frames(self) -> dict[str, int]:
        """Frames decoded so far on each path (to wait for media)."""
        bridge = self.bridge.received["hall.video"].frames if self.bridge else 0
        return {"bridge": bridge, "direct": self.direct["video"].frames}

    async def rpc_window(self, t0: int, t1: int) -> dict[str, Any]:
        """Latency (receive wall ms - stamp) of the frames each path decoded in [t0, t1)."""
        stamps = self.bridge.received["hall.video"].stamps if self.bridge else []
        bridge = _latencies(stamps, t0, t1)
        direct = _latencies(self.direct["video"].stamps, t0, t1)
        by_stamp = dict(direct)
        paired = [lat - by_stamp[s] for s, lat in bridge if s in by_stamp]
        seconds = max(1e-3, (t1 - t0) / 1000)
        return {
            "bridge": _summary([lat for _, lat in bridge]) | {"fps": len(bridge) / seconds},
            "direct": _summary([lat for _, lat in direct]) | {"fps": len(direct) / seconds},
            "paired_added": {
                "frames": len(paired),
                "p50_ms": percentile(paired, 50),
                "p95_ms": percentile(paired, 95),
            },
        }

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.rpc_leave()
        if self.direct_pc is not None:
            await self.direct_pc.close()
        if self.session is not None:
            await self.session.close()


class StreamCounter:
    """Counts one received stream without decoding: packets, frames, sequence-gap losses."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.packets = 0  # unique packets (retransmissions of a packet already seen excluded)
        self.frames = 0  # distinct timestamps whose marker-bit packet arrived
        self.duplicates = 0
        self.first: int | None = None  # extended sequence numbers
        self.highest = 0
        self._recent: collections.deque[int] = collections.deque(maxlen=2048)
        self._recent_set: set[int] = set()
        self._last_frame_ts: int | None = None

    async def on_packet(self, packet: RtpPacket) -> None:
        self.count(packet.sequence_number, packet.marker, packet.timestamp)

    def count(self, seq: int, marker: int, timestamp: int) -> None:
        """One received packet, from its RTP header."""
        if self.first is None:
            self.first = self.highest = seq
        else:
            delta = (seq - self.highest) & 0xFFFF
            seq = self.highest + delta if delta < 0x8000 else self.highest - (0x10000 - delta)
        if seq in self._recent_set:
            self.duplicates += 1
            return
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(seq)
        self._recent_set.add(seq)
        self.packets += 1
        self.highest = max(self.highest, seq)
        if marker and timestamp != self._last_frame_ts:
            self._last_frame_ts = timestamp
            self.frames += 1

    def snapshot(self) -> dict[str, int]:
        expected = 0 if self.first is None else self.highest - self.first + 1
        return {
            "packets": self.packets,
            "frames": self.frames,
            "expected": expected,
            "lost": expected - self.packets,
            "duplicates": self.duplicates,
        }


class CountingSite:
    """An aiortc site receiving the main hall that never decodes: it only counts."""

    def __init__(self, name: str, slots: tuple[tuple[str, str], ...] = HALL_SLOTS) -> None:
        self.name = name
        self.pc = new_pc()
        self.counters: dict[str, StreamCounter] = {}
        self.receivers: dict[str, Any] = {}
        self._slots = [slot for slot, _ in slots]
        for slot, kind in slots:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            prefer(transceiver, kind)
            counter = StreamCounter(kind)
            hooks.tap_receiver(transceiver.receiver, counter.on_packet)
            self.counters[slot] = counter
            self.receivers[slot] = transceiver.receiver

    async def offer(self) -> tuple[str, dict[str, str]]:
        hooks.restrict_ice_addresses(self.pc, LOOPBACK)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        transceivers = self.pc.getTransceivers()
        layout = {str(t.mid): slot for t, slot in zip(transceivers, self._slots, strict=True)}
        return self.pc.localDescription.sdp, layout

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
        await connected(self.pc)

    async def join(self, session: aiohttp.ClientSession, server: str) -> None:
        sdp, layout = await self.offer()
        answer = await call(session, server, "join", site_id=self.name, sdp=sdp, layout=layout)
        await self.accept(answer["sdp"])

    def snapshot(self) -> dict[str, Any]:
        result: dict[str, Any] = {slot: c.snapshot() for slot, c in self.counters.items()}
        result["rtcp_lost"] = sum(hooks.packets_lost(r) for r in self.receivers.values())
        result["state"] = self.pc.connectionState
        return result

    async def close(self) -> None:
        await self.pc.close()


class SitesWorker:
    """Hosts count-only sites in this process."""

    def __init__(self) -> None:
        self.sites: dict[str, CountingSite] = {}
        self.session: aiohttp.ClientSession | None = None

    async def rpc_add(self, server: str, names: list[str]) -> dict[str, Any]:
        self.session = self.session or aiohttp.ClientSession()
        session = self.session
        new = [CountingSite(name) for name in names]
        for site in new:
            self.sites[site.name] = site
        await asyncio.gather(*(site.join(session, server) for site in new))
        return {"sites": len(self.sites)}

    async def rpc_stats(self) -> dict[str, Any]:
        return {name: site.snapshot() for name, site in self.sites.items()}

    async def rpc_close_all(self) -> None:
        sites, self.sites = list(self.sites.values()), {}
        await asyncio.gather(
            *(asyncio.wait_for(s.close(), 10) for s in sites), return_exceptions=True
        )

    async def close(self) -> None:
        await self.rpc_close_all()
        if self.session is not None:
            await self.session.close()
