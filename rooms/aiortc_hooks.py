"""Every place Concord reaches into aiortc's (and aioice's) internals, in one module.

aiortc has no public API for forwarding encoded RTP (its maintainers declined one, aiortc
issues #449 and #627), so the bridge room hooks into it here, per object, never by patching
classes. ``tests/rooms/test_aiortc_hooks.py`` pins the behaviour these hooks rely on, and
aiortc is pinned exactly in pyproject.toml; upgrading it means re-reading this module.

- ``tap_receiver``: a publisher's incoming RTP goes to a callback instead of aiortc's jitter
  buffer and decoder. RTCP receiver statistics, RTX unwrapping, NACK generation and REMB
  feedback, which the publisher needs, are kept; the decoder thread is stopped unused.
- ``ForwardingSender``: drives an ``RTCRtpSender`` whose track never yields a frame (so no
  encoder is ever built) and injects rewritten RTP into its transport, keeping the counters
  its RTCP sender reports use, answering NACKs from its own history (as RTX when negotiated),
  handing keyframe requests (PLI/FIR) to a callback instead of the absent encoder, keeping
  the receiver's latest REMB for ``rooms.quality`` and stamping Concord's own abs-send-time
  on what it forwards (the receiver's bandwidth estimate measures the path from Concord).
- ``restrict_ice_addresses``: the host addresses ICE may gather come from the configuration.
- ``ask_opus_fec_and_dtx``: the answer asks a site's Opus encoder for in-band FEC and DTX.
- ``tolerate_long_links``: aioice's consent freshness replaced per connection by
  ``rooms.ice_consent``'s, which keeps a 1 s round trip with bursts of loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aioice import Connection
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDtlsTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
    wrap_rtx,
)

from rooms import ice_consent
from rooms.rtp import NTP_NOW, uint16

PacketCallback = Callable[[RtpPacket], Awaitable[None]]
HISTORY_SIZE = 512  # packets kept per sender to answer NACKs (~1.5 s of 600 kbps video)
_HEADER = struct.Struct("!BBHLL")
_SR_NTP = "_RTCRtpSender__ntp_timestamp"
_SR_RTP = "_RTCRtpSender__rtp_timestamp"
_SR_PACKETS = "_RTCRtpSender__packet_count"
_SR_OCTETS = "_RTCRtpSender__octet_count"


def _private(obj: object, owner: type, name: str) -> Any:
    return getattr(obj, f"_{owner.__name__}__{name}")


def _set_private(obj: object, owner: type, name: str, value: object) -> None:
    setattr(obj, f"_{owner.__name__}__{name}", value)


# --- receiving -----------------------------------------------------------------------------


def tap_receiver(receiver: RTCRtpReceiver, on_packet: PacketCallback) -> None:
    """Send the receiver's RTP to ``on_packet`` (after RTX unwrap), never to a decoder."""
    R = RTCRtpReceiver
    original_receive = receiver.receive

    async def receive(parameters: Any) -> None:
        await original_receive(parameters)
        # The decoder thread idles until a frame arrives; none will, so stop it now.
        _private(receiver, R, "stop_decoder")()

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        if not receiver._enabled:
            return
        estimator = _private(receiver, R, "remote_bitrate_estimator")
        rtcp_ssrc = _private(receiver, R, "rtcp_ssrc")
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(
                abs_send_time=packet.extensions.abs_send_time,
                arrival_time_ms=arrival_time_ms,
                payload_size=len(packet.payload) + packet.padding_size,
                ssrc=packet.ssrc,
            )
            if rtcp_ssrc is not None and remb is not None:
                await receiver._send_rtcp(_remb(rtcp_ssrc, remb))
        codecs: dict[int, RTCRtpCodecParameters] = _private(receiver, R, "codecs")
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        streams = _private(receiver, R, "remote_streams")
        if packet.ssrc not in streams:
            from aiortc.rtcrtpreceiver import StreamStatistics

            streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        streams[packet.ssrc].add(packet)
        if codec.mimeType.lower().endswith("/rtx"):
            original_ssrc = _private(receiver, R, "rtx_ssrc").get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or apt not in codecs:
                return
            from aiortc.rtp import unwrap_rtx

            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        nacks = _private(receiver, R, "nack_generator")
        if nacks is not None and nacks.add(packet):
            await receiver._send_rtcp_nack(packet.ssrc, sorted(nacks.missing))
        await on_packet(packet)

    receiver.receive = receive  # type: ignore[method-assign]
    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]


def _remb(rtcp_ssrc: int, remb: tuple[int, list[int]]) -> Any:
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci

    return RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb))


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send a Picture Loss Indication for ``media_ssrc`` to the publisher."""
    await receiver._send_rtcp_pli(media_ssrc)


# --- sending -------------------------------------------------------------------------------


class HoldTrack(MediaStreamTrack):
    """A track that never yields a frame: its sender's encoding loop waits here for ever."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        self._stopped.set()
        super().stop()


class ForwardingSender:
    """Injects forwarded RTP into one ``RTCRtpSender`` of a site's peer connection.

    Attach before negotiation; ``ready`` is set once the sender has started (its payload
    type, SSRC and header extension IDs are known).
    """

    def __init__(self, sender: RTCRtpSender, on_keyframe_request: Callable[[], None]) -> None:
        self.sender = sender
        self.ready = asyncio.Event()
        self.payload_type = 0
        self.clock_rate = 90000
        self.ssrc: int = sender._ssrc
        self._rtx: tuple[int, int] | None = None  # (payload type, ssrc)
        self._rtx_sequence = 0
        self._extensions: Any = None
        self.mid: str | None = None
        self.extension_ids: tuple[tuple[str, object], ...] = ()
        self._history: dict[int, bytes] = {}
        self._octets = 0
        self._packets = 0
        self.nacked = 0  # packets the receiver asked again for (NACK): a sign of downlink loss
        #: The round trip of the latest receiver report (aiortc's own average moves by 15% a
        #: report, so it takes ~20 s to follow a change; health wants the current value).
        self.round_trip: float | None = None
        #: The latest receiver report's fraction lost and jitter (seconds), read without
        #: ``getStats()`` (which gathers a task per transceiver) by the health sampling.
        self.reported_loss: float | None = None
        self.reported_jitter: float | None = None
        self.reported_at = 0.0  # time.monotonic() of that report
        #: The receiver's latest estimate of its available bandwidth (REMB) that names this
        #: sender: (bit/s, time.monotonic(), the SSRCs it covers). A browser sends one for
        #: all its streams; aiortc one per stream. ``rooms.quality`` fits what is sent to it.
        self.remb: tuple[float, float, tuple[int, ...]] | None = None
        self._sender_state = vars(sender)
        original_send = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            await original_send(parameters)
            self._configure(parameters)

        sender.send = send  # type: ignore[method-assign]
        self._watch_round_trips(sender)
        sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    def _watch_round_trips(self, sender: RTCRtpSender) -> None:
        original = sender._handle_rtcp_packet

        async def handle_rtcp_packet(packet: Any) -> None:
            if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
                lsr = _private(sender, RTCRtpSender, "lsr")
                sent_at = _private(sender, RTCRtpSender, "lsr_time")
                for report in packet.reports:
                    if report.ssrc != sender._ssrc:
                        continue
                    self.reported_at = time.monotonic()
                    self.reported_loss = report.fraction_lost / 256
                    self.reported_jitter = report.jitter / self.clock_rate
                    if report.lsr == lsr and report.dlsr:
                        self.round_trip = time.time() - sent_at - report.dlsr / 65536
            elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                with contextlib.suppress(ValueError):  # an APP message that is not REMB
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                    if sender._ssrc in ssrcs:
                        self.remb = (float(bitrate), time.monotonic(), tuple(sorted(ssrcs)))
            await original(packet)

        sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]

    def _configure(self, parameters: RTCRtpSendParameters) -> None:
        S = RTCRtpSender
        codec = parameters.codecs[0]
        self.payload_type = int(codec.payloadType or 0)
        self.clock_rate = codec.clockRate
        rtx_pt = _private(self.sender, S, "rtx_payload_type")
        if rtx_pt is not None:
            self._rtx = (rtx_pt, self.sender._rtx_ssrc)
            self._rtx_sequence = _private(self.sender, S, "rtx_sequence_number")
        self._extensions = _private(self.sender, S, "rtp_header_extensions_map")
        ids = vars(_private(self._extensions, type(self._extensions), "ids"))
        self.extension_ids = tuple(sorted(ids.items()))
        self.mid = _private(self.sender, S, "mid")
        self.ready.set()

    def header_extensions(self, packet: RtpPacket, cache: dict[object, bytes]) -> bytes:
        """The header extension block for ``packet`` with this sender's IDs and MID.

        Sites that offered alike share MIDs and extension IDs, so one block serves many
        senders: ``cache`` (one per forwarded packet) keeps the blocks already built.
        """
        key = (self.mid, self.extension_ids)
        block = cache.get(key)
        if block is not None:
            return block
        if not cache:
            # Our own send time, not the publisher's: the receiver's bandwidth estimate (REMB)
            # is computed from these stamps' spacing against the packets' arrival.
            packet.extensions.abs_send_time = (NTP_NOW() >> 14) & 0x00FFFFFF
        packet.extensions.mid = self.mid
        profile, value = self._extensions.set(packet.extensions)
        block = struct.pack("!HH", profile, len(value) >> 2) + value if value else b""
        cache[key] = block
        return block

    async def send(
        self, packet: RtpPacket, sequence: int, timestamp: int, extensions: bytes
    ) -> None:
        """Send ``packet`` as this sender's, with the given sequence number and timestamp."""
        first = 0x80 | (0x10 if extensions else 0) | len(packet.csrc)
        header = _HEADER.pack(
            first, (packet.marker << 7) | self.payload_type, sequence, timestamp, self.ssrc
        )
        if packet.csrc:
            header += b"".join(struct.pack("!L", c) for c in packet.csrc)
        data = header + extensions + packet.payload
        self._history[sequence % HISTORY_SIZE] = data
        self._packets += 1
        self._octets += len(packet.payload)
        # What the sender's RTCP loop puts in its sender reports (the same attributes its own
        # encoding loop would set; names precomputed, this runs for every packet).
        state = self._sender_state
        state[_SR_NTP] = NTP_NOW()
        state[_SR_RTP] = timestamp
        state[_SR_PACKETS] = self._packets
        state[_SR_OCTETS] = self._octets
        try:
            await self.sender.transport._send_rtp(data)
        except ConnectionError:
            pass

    async def _retransmit(self, sequence_number: int) -> None:
        self.nacked += 1
        sequence = sequence_number
        data = self._history.get(sequence % HISTORY_SIZE)
        if data is None or struct.unpack_from("!H", data, 2)[0] != sequence:
            return
        if self._rtx is not None:
            packet = RtpPacket.parse(data, self._extensions)
            packet = wrap_rtx(
                packet,
                payload_type=self._rtx[0],
                sequence_number=self._rtx_sequence,
                ssrc=self._rtx[1],
            )
            self._rtx_sequence = uint16(self._rtx_sequence + 1)
            data = packet.serialize(self._extensions)
        try:
            await self.sender.transport._send_rtp(data)
        except ConnectionError:
            pass

    @property
    def packets_sent(self) -> int:
        return self._packets


# --- ICE -----------------------------------------------------------------------------------


def restrict_ice_addresses(pc: RTCPeerConnection, addresses: Sequence[str]) -> None:
    """Make every ICE gatherer of ``pc`` gather host candidates on ``addresses`` only.

    Call after the transceivers exist (after setRemoteDescription for an answerer, after
    addTransceiver for an offerer) and before setLocalDescription. An empty list leaves
    aioice's default (every interface).
    """
    if not addresses:
        return
    for connection in _ice_connections(pc):
        _restrict(connection, list(addresses))


def tolerate_long_links(
    pc: RTCPeerConnection, on_resumed: Callable[[], None] | None = None
) -> None:
    """Give every ICE connection of ``pc`` consent freshness that survives long, lossy links
    (``rooms.ice_consent``; ``on_resumed``: its connection answered again after an outage).
    Call where ``restrict_ice_addresses`` is called."""
    for connection in _ice_connections(pc):
        ice_consent.tolerate_long_links(connection, on_resumed=on_resumed)


def _ice_connections(pc: RTCPeerConnection) -> list[Connection]:
    found = [
        dtls.transport.iceGatherer._connection
        for transceiver in pc.getTransceivers()
        if (dtls := transceiver.sender.transport) is not None
    ]
    if pc.sctp is not None:
        found.append(pc.sctp.transport.transport.iceGatherer._connection)
    return list({id(c): c for c in found}.values())  # bundled m-lines share one


def _restrict(connection: Connection, addresses: list[str]) -> None:
    async def gather_candidates() -> None:
        if connection._local_candidates_start:
            return
        connection._local_candidates_start = True
        for component in connection._components:
            connection._local_candidates += await connection.get_component_candidates(
                component=component, addresses=addresses
            )
        connection._local_candidates_end = True

    connection.gather_candidates = gather_candidates  # type: ignore[method-assign]


# --- peer connections ---------------------------------------------------------------------


def new_peer_connection() -> RTCPeerConnection:
    """A peer connection as Concord uses them: no STUN/TURN of its own, max-bundle.

    max-bundle: with aiortc's default ("balanced"), an answerer's second audio or video m-line
    keeps a transport of its own that is never started (pinned in tests/rooms).
    """
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


# --- codecs --------------------------------------------------------------------------------


def keep_codec(transceiver: Any, mime_type: str) -> bool:
    """Keep only ``mime_type`` (and its RTX) among a transceiver's negotiated codecs.

    aiortc creates an answerer's transceivers inside setRemoteDescription, too late for
    ``setCodecPreferences``; this narrows the result before the answer is created. Returns
    False when the remote side did not offer the codec at all.
    """
    codecs = transceiver._codecs
    kept = [c for c in codecs if c.mimeType.lower() == mime_type.lower()]
    if not kept:
        return False
    pts = {c.payloadType for c in kept}
    kept += [
        c for c in codecs if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in pts
    ]
    transceiver._codecs = kept
    return True


OPUS_PARAMETERS = {"minptime": 10, "useinbandfec": 1, "usedtx": 1}
"""What Concord's answer asks of a site's Opus encoder (RFC 7587 section 7): in-band FEC, so
that a receiver rebuilds a lost packet from the next one (audio holds on a lossy link before
video does), and DTX, so that a silent microphone sends a packet every 400 ms, not every 20."""


def ask_opus_fec_and_dtx(transceiver: Any) -> None:
    """Put ``OPUS_PARAMETERS`` in the answer's Opus ``a=fmtp`` line: a browser's encoder turns
    FEC and DTX on only when the other side's description asks for them, and aiortc's answer
    carries no Opus parameters of its own. Call after ``keep_codec``, before the answer."""
    for codec in transceiver._codecs:
        if codec.mimeType.lower() == "audio/opus":
            codec.parameters = {**codec.parameters, **OPUS_PARAMETERS}


@dataclass(frozen=True)
class ReceivedStreamStats:
    """One received media stream's RTCP receiver statistics (RFC 3550 §6.4.1)."""

    received: int
    lost: int  # cumulative, as in a receiver report: expected minus received
    jitter: float  # seconds


def received_streams(receiver: RTCRtpReceiver) -> list[ReceivedStreamStats]:
    """The receiver's media streams, retransmission (RTX) streams left out.

    aiortc's ``getStats()`` reports every stream of a receiver under one id, so the RTX
    stream's figures (sparse packets with old timestamps: a jitter that never decays once
    retransmissions stop) can hide the media stream's.
    """
    streams = _private(receiver, RTCRtpReceiver, "remote_streams")
    rtx = set(_private(receiver, RTCRtpReceiver, "rtx_ssrc"))
    return [
        ReceivedStreamStats(s.packets_received, s.packets_lost, s.jitter / s._clockrate)
        for ssrc, s in streams.items()
        if ssrc not in rtx
    ]


def transport_bytes(pc: RTCPeerConnection) -> tuple[int, int]:
    """Bytes received and sent by the connection's DTLS transports (one with max-bundle)."""
    seen: set[int] = set()
    received = sent = 0
    for transceiver in pc.getTransceivers():
        dtls = transceiver.sender.transport
        if dtls is None or id(dtls) in seen:
            continue
        seen.add(id(dtls))
        received += _private(dtls, RTCDtlsTransport, "rx_bytes")
        sent += _private(dtls, RTCDtlsTransport, "tx_bytes")
    return received, sent


def packets_lost(receiver: RTCRtpReceiver) -> int:
    """Packets lost on the way to ``receiver``, from its RTCP receiver statistics."""
    streams = _private(receiver, RTCRtpReceiver, "remote_streams")
    return sum(max(0, stream.packets_lost) for stream in streams.values())
