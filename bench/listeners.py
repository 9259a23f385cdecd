"""Light clients for the interpretation scenario: RTP read at the socket, never decrypted.

A real listener decrypts and plays what it receives; here some 160 of them share the machine's
two cores with the server under test, so they read only what SRTP leaves in the clear, the RTP
header (RFC 3711 encrypts the payload only). That is enough to count packets and frames
(marker bits), find losses (sequence gaps) and read the send time an interpreter put in:

- ``stamp_rtp``: every RTP packet an interpreter sends carries its send time (CLOCK_MONOTONIC
  µs modulo 2**32, the same clock in every process of the machine) as a CSRC, added before
  SRTP protects the packet. The server forwards CSRC lists untouched
  (``rooms.aiortc_hooks.ForwardingSender.send``), so the listener reads it in the clear.
- ``RawPeer``: an aiortc peer whose sockets hand RTP (not RTCP, DTLS or STUN) to counters
  instead of SRTP, with the receive time. Its receivers' RTCP statistics are still fed, so it
  sends the receiver reports a real listener sends (the server handles them); it sends no NACK
  and no REMB.
- ``Interpreters`` (role "interpreters"): one interpreter per booth, publishing a tone in Opus
  (pinned bitrate) and receiving ``source.audio`` and ``hall.video`` as the interpreter console
  does; ``rpc_direct`` connects an interpreter straight to a listener worker, the baseline.
- ``ListenersWorker`` (role "listeners"): sites and listeners on the server, and the receiving
  ends of the direct connections.
"""

from __future__ import annotations

import asyncio
import collections
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket, is_rtcp
from aiortc.sdp import SessionDescription

from bench.clients import CODECS, LOOPBACK, StreamCounter, connected, prefer, sender_counts
from bench.measure import monotonic_us
from bench.node import call
from rooms import aiortc_hooks as hooks
from rooms.pinned_encoders import pin_encoder
from rooms.synthetic import ToneTrack

HEADER = struct.Struct("!HII")  # sequence number, timestamp, SSRC (from byte 2)
STAMP = struct.Struct("!I")
STAMP_MASK = 0xFFFFFFFF
KEEP = 30_000  # latency samples kept per peer (10 minutes of 50 packets/s)
SITE_SLOTS = (("hall.video", "video"), ("hall.audio", "audio"), ("interpretation.audio", "audio"))
LISTENER_SLOTS = (("interpretation.audio", "audio"),)
INTERPRETER_SLOTS = (("source.audio", "audio"), ("hall.video", "video"))
TONES = (660.0, 880.0, 990.0, 550.0, 770.0)  # Hz, one per booth in order


def _dtls_transports(pc: RTCPeerConnection) -> list[Any]:
    """The distinct DTLS transports of ``pc`` (one with max-bundle)."""
    found: dict[int, Any] = {}
    for transceiver in pc.getTransceivers():
        transport = transceiver.receiver.transport
        found.setdefault(id(transport), transport)
    return list(found.values())


def stamp_rtp(pc: RTCPeerConnection) -> None:
    """From now on, every RTP packet ``pc`` sends carries its send time as its CSRC."""
    for transport in _dtls_transports(pc):
        original = transport._send_rtp

        async def stamped(data: bytes, original: Any = original) -> None:
            if not data[0] & 0x0F:  # no CSRC yet: one, between fixed header and extensions
                stamp = STAMP.pack(monotonic_us() & STAMP_MASK)
                data = bytes((data[0] | 1,)) + data[1:12] + stamp + data[12:]
            await original(data)

        transport._send_rtp = stamped


def _ssrcs(sdp: str, layout: dict[str, str] | None = None) -> dict[int, str]:
    """SSRC → MID of each media section of the sender's ``sdp`` (those ``layout`` names)."""
    found: dict[int, str] = {}
    for media in SessionDescription.parse(sdp).media:
        mid = str(media.rtp.muxId)
        if media.ssrc and (layout is None or mid in layout):
            found[media.ssrc[0].ssrc] = mid  # the primary SSRC comes first (RTX after it)
    return found


class RawPeer:
    """An aiortc peer that reads received RTP headers at its sockets (see the module doc)."""

    def __init__(
        self,
        name: str,
        slots: Sequence[tuple[str, str]] = (),
        microphone: MediaStreamTrack | None = None,
        bitrate: int = 32_000,
    ) -> None:
        self.name = name
        self.pc = hooks.new_peer_connection()
        self.names: list[str] = []
        if microphone is not None:
            transceiver = self.pc.addTransceiver(microphone, direction="sendonly")
            prefer(transceiver, "audio")
            pin_encoder(transceiver.sender, bitrate)
            self.names.append("microphone")
        for slot, kind in slots:
            prefer(self.pc.addTransceiver(kind, direction="recvonly"), kind)
            self.names.append(slot)
        self.counters: dict[str, StreamCounter] = {}
        self.latencies: collections.deque[tuple[int, int]] = collections.deque(maxlen=KEEP)
        self.stray = 0  # RTP packets of an SSRC the SDP did not announce
        self._streams: dict[int, _Stream] = {}

    async def offer(self) -> tuple[str, dict[str, str]]:
        hooks.restrict_ice_addresses(self.pc, LOOPBACK)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self._listen()
        transceivers = self.pc.getTransceivers()
        layout = {str(t.mid): name for t, name in zip(transceivers, self.names, strict=True)}
        return self.pc.localDescription.sdp, layout

    async def accept(self, answer_sdp: str, layout: dict[str, str]) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
        received = {mid: name for mid, name in layout.items() if name != "microphone"}
        self._count(_ssrcs(answer_sdp, received), received)
        await connected(self.pc)

    async def join(
        self, session: aiohttp.ClientSession, server: str, rpc: str, **kwargs: Any
    ) -> None:
        """Offer to ``server``'s ``rpc_<rpc>`` and take its answer."""
        sdp, layout = await self.offer()
        answer = await call(session, server, rpc, sdp=sdp, layout=layout, **kwargs)
        await self.accept(answer["sdp"], layout)

    async def answer(self, offer_sdp: str, slot: str) -> str:
        """Answer an offer whose every m-line this peer receives as ``slot``."""
        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        for transceiver in self.pc.getTransceivers():
            hooks.keep_codec(transceiver, CODECS[transceiver.kind])
        hooks.restrict_ice_addresses(self.pc, LOOPBACK)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._listen()
        ssrcs = _ssrcs(offer_sdp)
        self._count(ssrcs, {mid: slot for mid in ssrcs.values()})
        return self.pc.localDescription.sdp

    def _count(self, ssrcs: dict[int, str], layout: dict[str, str]) -> None:
        """Count each received SSRC under its slot, feeding its receiver's statistics."""
        transceivers = {str(t.mid): t for t in self.pc.getTransceivers()}
        for ssrc, mid in ssrcs.items():
            transceiver = transceivers[mid]
            counter = self.counters.setdefault(layout[mid], StreamCounter(transceiver.kind))
            self._streams[ssrc] = _Stream(counter, transceiver.receiver, ssrc)

    def _listen(self) -> None:
        for transport in _dtls_transports(self.pc):
            for protocol in transport.transport._connection._protocols:
                original = protocol.datagram_received

                def received(data: bytes, addr: Any, original: Any = original) -> None:
                    if len(data) >= 12 and 127 < data[0] < 192 and not is_rtcp(data):
                        self._rtp(data)
                    else:
                        original(data, addr)

                protocol.datagram_received = received

    def _rtp(self, data: bytes) -> None:
        now = monotonic_us()
        sequence, timestamp, ssrc = HEADER.unpack_from(data, 2)
        stream = self._streams.get(ssrc)
        if stream is None:
            self.stray += 1
            return
        stream.counter.count(sequence, data[1] >> 7, timestamp)
        # what the receiver's RTCP reports are made of
        stream.statistics().add(RtpPacket(sequence_number=sequence, timestamp=timestamp))
        if data[0] & 0x0F:
            sent = STAMP.unpack_from(data, 12)[0]
            self.latencies.append((now, (now - sent) & STAMP_MASK))

    def window(self, t0: int, t1: int) -> list[int]:
        """Latencies (µs) of the stamped packets received in [t0, t1) (µs, CLOCK_MONOTONIC)."""
        return [latency for at, latency in self.latencies if t0 <= at < t1]

    def snapshot(self) -> dict[str, Any]:
        result: dict[str, Any] = {slot: c.snapshot() for slot, c in self.counters.items()}
        receivers = [t.receiver for t in self.pc.getTransceivers()]
        result["rtcp_lost"] = sum(hooks.packets_lost(r) for r in receivers)
        result["state"] = self.pc.connectionState
        result["stray"] = self.stray
        return result

    async def close(self) -> None:
        await self.pc.close()


@dataclass
class _Stream:
    """One received SSRC: its counter, and the receiver whose RTCP statistics it feeds."""

    counter: StreamCounter
    receiver: RTCRtpReceiver
    ssrc: int
    _statistics: StreamStatistics | None = None

    def statistics(self) -> StreamStatistics:
        """The receiver's statistics of this SSRC, made at its first packet as aiortc does."""
        if self._statistics is None:
            streams = getattr(self.receiver, f"_{RTCRtpReceiver.__name__}__remote_streams")
            clock_rate = 90000 if self.counter.kind == "video" else 48000
            self._statistics = streams.setdefault(self.ssrc, StreamStatistics(clock_rate))
        return self._statistics


async def _close_all(peers: Iterable[RawPeer]) -> None:
    await asyncio.gather(*(asyncio.wait_for(p.close(), 10) for p in peers), return_exceptions=True)


class Interpreters:
    """One interpreter per booth: a tone (its own frequency) in Opus, stamped, on the server."""

    def __init__(self, languages: list[str], bitrate: int = 32_000) -> None:
        self.bitrate = bitrate
        self.relay = MediaRelay()  # frame fan-out only: each connection encodes its own
        self.tones = {lang: ToneTrack(TONES[i % len(TONES)]) for i, lang in enumerate(languages)}
        self.bridge: dict[str, RawPeer] = {}
        self.direct: dict[str, RawPeer] = {}
        self.session: aiohttp.ClientSession | None = None

    def _peer(self, name: str, language: str, slots: Sequence[tuple[str, str]]) -> RawPeer:
        microphone = self.relay.subscribe(self.tones[language])
        return RawPeer(name, slots, microphone=microphone, bitrate=self.bitrate)

    async def rpc_connect(self, server: str) -> None:
        """Every interpreter joins its booth (not on air yet)."""
        self.session = self.session or aiohttp.ClientSession()
        session = self.session
        for language in self.tones:
            name = f"interp-{language}"
            peer = self._peer(name, language, INTERPRETER_SLOTS)
            self.bridge[language] = peer
            await peer.join(session, server, "interpreter", interpreter=name, language=language)
            stamp_rtp(peer.pc)

    async def rpc_direct(self, language: str, target: str, receiver: str) -> None:
        """A connection from ``language``'s interpreter straight to the worker at ``target``."""
        self.session = self.session or aiohttp.ClientSession()
        peer = self._peer(receiver, language, ())
        self.direct[receiver] = peer
        await peer.join(self.session, target, "direct", receiver=receiver)
        stamp_rtp(peer.pc)

    async def rpc_stats(self) -> dict[str, Any]:
        return {
            language: peer.snapshot() | {"sent": sender_counts(peer.pc).get("audio", {})}
            for language, peer in self.bridge.items()
        }

    async def close(self) -> None:
        await _close_all([*self.bridge.values(), *self.direct.values()])
        for tone in self.tones.values():
            tone.stop()
        if self.session is not None:
            await self.session.close()


class ListenersWorker:
    """Sites and listeners of the room, and the receiving ends of direct connections."""

    def __init__(self) -> None:
        self.peers: dict[str, RawPeer] = {}
        self.languages: dict[str, str] = {}
        self.direct: dict[str, RawPeer] = {}
        self.session: aiohttp.ClientSession | None = None

    async def rpc_add(self, server: str, peers: list[dict[str, str]]) -> dict[str, int]:
        """Join ``peers`` ({"name", "kind": "site" | "listener", "language"}) to the room."""
        self.session = self.session or aiohttp.ClientSession()
        session = self.session
        joins = []
        for spec in peers:
            name, language = spec["name"], spec["language"]
            if spec["kind"] == "site":
                peer = RawPeer(name, SITE_SLOTS)
                joins.append(peer.join(session, server, "join", site_id=name, language=language))
            else:
                peer = RawPeer(name, LISTENER_SLOTS)
                joins.append(peer.join(session, server, "listen", listener=name, language=language))
            self.peers[name] = peer
            self.languages[name] = language
        await asyncio.gather(*joins)
        return {"peers": len(self.peers)}

    async def rpc_direct(self, receiver: str, sdp: str, layout: dict[str, str]) -> dict[str, str]:
        """The receiving end of an interpreter's direct connection (the baseline path)."""
        peer = RawPeer(receiver)
        self.direct[receiver] = peer
        return {"sdp": await peer.answer(sdp, "direct")}

    async def rpc_stats(self) -> dict[str, Any]:
        result = {}
        for name, peer in self.peers.items():
            result[name] = peer.snapshot() | {"language": self.languages[name]}
        return result

    async def rpc_latency(self, t0: int, t1: int) -> dict[str, Any]:
        """Latencies (µs) of stamped packets received in [t0, t1): by language, and direct."""
        bridge: dict[str, list[int]] = {}
        for name, peer in self.peers.items():
            bridge.setdefault(self.languages[name], []).extend(peer.window(t0, t1))
        direct = [lat for peer in self.direct.values() for lat in peer.window(t0, t1)]
        return {"bridge": bridge, "direct": direct}

    async def close(self) -> None:
        await _close_all([*self.peers.values(), *self.direct.values()])
        if self.session is not None:
            await self.session.close()
