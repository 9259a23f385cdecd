"""Pins the aiortc (and aioice) behaviour ``rooms/aiortc_hooks.py`` relies on.

aiortc is pinned exactly (1.16.0) because the bridge forwards RTP through its private
internals. An upgrade that renames an attribute, changes what a private method is called with,
or reroutes RTCP (PLI/FIR, NACK, sender reports) must fail here rather than silently in a room.
Every test but the first runs real peers on 127.0.0.1.
"""

from __future__ import annotations

import inspect
import re
import struct
import time
from functools import partial
from typing import Any

import aiortc
import pytest
from aioice import Connection
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
)
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensions,
    HeaderExtensionsMap,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from rooms import aiortc_hooks as hooks
from tests.rooms.conftest import (
    HALL_SLOTS,
    Bridge,
    Joined,
    camera,
    observe_rtcp,
    observe_rtp,
    private,
    tone,
    until,
)

SENDER_PRIVATE = [
    "rtx_payload_type",
    "rtx_sequence_number",
    "rtp_header_extensions_map",
    "mid",
    "ntp_timestamp",
    "rtp_timestamp",
    "packet_count",
    "octet_count",
]
RECEIVER_PRIVATE = [
    "codecs",
    "remote_streams",
    "rtx_ssrc",
    "nack_generator",
    "remote_bitrate_estimator",
    "rtcp_ssrc",
    "decoder_thread",
]


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == "1.16.0", "re-read rooms/aiortc_hooks.py before upgrading"


async def test_private_attributes_and_methods_the_hooks_use_exist() -> None:
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver("video")
        audio = pc.addTransceiver("audio")
        for transceiver in (video, audio):
            sender, receiver = transceiver.sender, transceiver.receiver
            assert isinstance(sender, RTCRtpSender)
            assert isinstance(receiver, RTCRtpReceiver)
            for name in SENDER_PRIVATE:
                assert hasattr(sender, f"_RTCRtpSender__{name}"), name
            for name in RECEIVER_PRIVATE:
                assert hasattr(receiver, f"_RTCRtpReceiver__{name}"), name
            assert callable(private(receiver, RTCRtpReceiver, "stop_decoder"))
            assert isinstance(
                private(sender, RTCRtpSender, "rtp_header_extensions_map"), HeaderExtensionsMap
            )
            # The counters a sender report is built from start at zero, as ints.
            for name in ("ntp_timestamp", "rtp_timestamp", "packet_count", "octet_count"):
                assert getattr(sender, f"_RTCRtpSender__{name}") == 0
            assert isinstance(sender._ssrc, int) and isinstance(sender._rtx_ssrc, int)
            assert isinstance(private(receiver, RTCRtpReceiver, "codecs"), dict)
            assert isinstance(private(receiver, RTCRtpReceiver, "remote_streams"), dict)
            assert isinstance(private(receiver, RTCRtpReceiver, "rtx_ssrc"), dict)
            assert receiver._enabled is True
            assert isinstance(transceiver._codecs, list)
            # The methods the hooks replace per object or call.
            for method in ("send", "_send_keyframe", "_retransmit", "_handle_rtcp_packet"):
                assert callable(getattr(sender, method)), method
            for method in ("receive", "_handle_rtp_packet", "_send_rtcp", "_send_rtcp_pli"):
                assert callable(getattr(receiver, method)), method
            assert callable(receiver._send_rtcp_nack)
            assert callable(sender.transport._send_rtp)
        # Video has the NACK generator and bitrate estimator the tap keeps using; audio none.
        assert private(video.receiver, RTCRtpReceiver, "nack_generator") is not None
        assert private(video.receiver, RTCRtpReceiver, "remote_bitrate_estimator") is not None
        assert private(audio.receiver, RTCRtpReceiver, "nack_generator") is None
        # The ICE connection restrict_ice_addresses replaces gathering on.
        connection = video.sender.transport.transport.iceGatherer._connection
        assert isinstance(connection, Connection)
        for name in ("_local_candidates_start", "_local_candidates_end", "_local_candidates"):
            assert hasattr(connection, name), name
        assert connection._components == {1}
    finally:
        await pc.close()


def test_signatures_the_hooks_call_with_keywords() -> None:
    from aiortc.rate import RemoteBitrateEstimator
    from aiortc.rtcrtpreceiver import StreamStatistics
    from aiortc.rtp import pack_remb_fci, unwrap_rtx, wrap_rtx

    def params(func: Any) -> list[str]:
        return list(inspect.signature(func).parameters)

    assert params(RTCRtpReceiver._handle_rtp_packet) == ["self", "packet", "arrival_time_ms"]
    assert params(RTCRtpSender._retransmit) == ["self", "sequence_number"]
    assert params(RTCRtpSender._send_keyframe) == ["self"]
    assert params(RTCRtpReceiver._send_rtcp_nack) == ["self", "media_ssrc", "lost"]
    assert params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert {"abs_send_time", "arrival_time_ms", "payload_size", "ssrc"} <= set(
        params(RemoteBitrateEstimator.add)
    )
    assert params(StreamStatistics) == ["clockrate"]
    assert params(wrap_rtx) == ["packet", "payload_type", "sequence_number", "ssrc"]
    assert params(unwrap_rtx) == ["rtx", "payload_type", "ssrc"]
    assert params(pack_remb_fci) == ["bitrate", "ssrcs"]
    assert {"component", "addresses"} <= set(params(Connection.get_component_candidates))


def test_header_extensions_map_set_returns_a_padded_one_byte_block() -> None:
    """ForwardingSender writes ``set()``'s result straight into the RTP header."""
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
                RTCRtpHeaderExtensionParameters(
                    id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"
                ),
            ]
        )
    )
    profile, value = extensions.set(HeaderExtensions(mid="3", audio_level=(True, 40)))
    assert profile == 0xBEDE
    assert len(value) % 4 == 0
    parsed = extensions.get(profile, value)
    assert parsed.mid == "3"
    assert parsed.audio_level == (True, 40)
    assert extensions.set(HeaderExtensions()) == (0, b"")


# --- behaviour with real peers --------------------------------------------------------------


async def hall_and_subscriber(bridge: Bridge) -> tuple[Joined, Joined]:
    """The main hall publishing a small camera and a tone, one site receiving both."""
    hall = await bridge.join("hall", camera=camera(fps=30), microphone=tone(440))
    feeds = {"hall.video": (hall, "camera"), "hall.audio": (hall, "microphone")}
    (site,) = await bridge.subscribe(["site"], HALL_SLOTS, feeds)
    return hall, site


async def test_tapped_receiver_stops_its_decoder_and_keeps_rtcp_feedback(bridge: Bridge) -> None:
    """The tap keeps receiver reports, REMB and stats flowing to the publisher, decoding none."""
    hall = await bridge.join("hall", camera=camera(fps=30), microphone=tone(440))
    hall_video_sender = hall.client_transceiver("camera").sender
    feedback = observe_rtcp(hall_video_sender)
    (site,) = await bridge.subscribe(["site"], HALL_SLOTS, {"hall.video": (hall, "camera")})
    ssrc = hall_video_sender._ssrc

    def receiver_report() -> bool:
        return any(
            isinstance(p, RtcpRrPacket) and any(r.ssrc == ssrc for r in p.reports) for p in feedback
        )

    def remb() -> bool:
        return any(
            isinstance(p, RtcpPsfbPacket)
            and p.fmt == RTCP_PSFB_APP
            and ssrc in unpack_remb_fci(p.fci)[1]
            for p in feedback
        )

    await until(receiver_report, 4, what="a receiver report from the tapped receiver")
    await until(remb, 4, what="REMB from the tapped receiver")
    for transceiver in hall.server_transceivers():
        receiver = transceiver.receiver
        assert receiver._RTCRtpReceiver__decoder_thread is None  # stopped, never fed
        stats = [s for s in (await receiver.getStats()).values() if s.type == "inbound-rtp"]
        assert stats and stats[0].packetsReceived > 0
    assert site.client.received["hall.video"].frames > 0


async def test_tapped_receiver_nacks_a_lost_packet_and_forwards_its_retransmission(
    bridge: Bridge,
) -> None:
    """Drop one publisher packet before the tap: the tap NACKs it, the publisher answers with
    RTX, the tap unwraps it and the subscriber receives the original payload."""
    hall, site = await hall_and_subscriber(bridge)
    hall_video_sender = hall.client_transceiver("camera").sender
    nacks = observe_rtcp(hall_video_sender)
    at_site = observe_rtp(site.client_transceiver("hall.video").receiver)
    await until(lambda: len(at_site) > 10, 3, what="video at the site")

    server_receiver = next(t.receiver for t in hall.server_transceivers() if t.kind == "video")
    tap = server_receiver._handle_rtp_packet
    dropped: list[tuple[int, bytes]] = []
    retransmitted: list[int] = []
    media_ssrc = hall_video_sender._ssrc

    async def lossy(packet: Any, arrival_time_ms: int) -> None:
        if packet.ssrc == media_ssrc and not dropped:
            dropped.append((packet.sequence_number, bytes(packet.payload)))
            return
        if packet.ssrc == hall_video_sender._rtx_ssrc:
            retransmitted.append(struct.unpack_from("!H", packet.payload)[0])
        await tap(packet, arrival_time_ms)

    server_receiver._handle_rtp_packet = lossy
    await until(lambda: dropped, 2, what="a packet to drop")
    seq, payload = dropped[0]
    await until(
        lambda: any(
            isinstance(p, RtcpRtpfbPacket) and p.fmt == RTCP_RTPFB_NACK and seq in p.lost
            for p in nacks
        ),
        2,
        what="a NACK for the dropped packet at the publisher",
    )
    await until(lambda: seq in retransmitted, 2, what="the publisher's RTX for it")
    await until(
        lambda: any(p.payload == payload for p in at_site),
        2,
        what="the retransmitted payload forwarded to the site",
    )


async def test_pli_and_fir_from_a_subscriber_reach_the_publisher(bridge: Bridge) -> None:
    """aiortc routes a subscriber's PLI/FIR to ``sender._send_keyframe``: the hook turns it into
    a keyframe request to the publisher, which then sends a key frame."""
    hall, site = await hall_and_subscriber(bridge)
    await until(lambda: site.client.received["hall.video"].frames > 5, 3, what="video")
    source = hall.peer.sources["camera"]
    slot = site.peer.slots["hall.video"]
    rtp_sender = slot.sender.sender
    calls: list[float] = []
    hook = rtp_sender._send_keyframe

    def spy() -> None:
        calls.append(time.monotonic())
        hook()

    # A spy on this one sender's method, as the hooks themselves replace it per object.
    rtp_sender._send_keyframe = spy  # type: ignore[method-assign]
    at_publisher = observe_rtcp(hall.client_transceiver("camera").sender)
    receiver = site.client_transceiver("hall.video").receiver
    rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc
    assert rtcp_ssrc is not None

    for kind, send in (
        ("PLI", lambda: receiver._send_rtcp_pli(slot.sender.ssrc)),
        (
            "FIR",
            lambda: receiver._send_rtcp(
                RtcpPsfbPacket(
                    fmt=RTCP_PSFB_FIR,
                    ssrc=rtcp_ssrc,
                    media_ssrc=slot.sender.ssrc,
                    fci=struct.pack("!LB3x", slot.sender.ssrc, 1),
                )
            ),
        ),
    ):
        before_calls, before_requests = len(calls), source.keyframe_requests_sent
        before_keyframes, before_plis = source.keyframes, len(at_publisher)
        await send()
        await until(
            partial(lambda b: len(calls) > b, before_calls), 1, what=f"{kind} at _send_keyframe"
        )
        # The rate limit may hold the request back for up to 0.5 s.
        await until(
            partial(lambda b: source.keyframe_requests_sent > b, before_requests),
            1.5,
            what=f"{kind} forwarded as a keyframe request",
        )
        await until(
            partial(
                lambda b: any(
                    isinstance(p, RtcpPsfbPacket) and p.fmt == RTCP_PSFB_PLI
                    for p in at_publisher[b:]
                ),
                before_plis,
            ),
            1,
            what=f"a PLI at the publisher after the site's {kind}",
        )
        await until(
            partial(lambda b: source.keyframes > b, before_keyframes),
            1,
            what=f"a key frame after {kind}",
        )


async def test_nack_is_answered_from_the_forwarding_history_as_rtx(bridge: Bridge) -> None:
    _hall, site = await hall_and_subscriber(bridge)
    receiver = site.client_transceiver("hall.video").receiver
    seen = observe_rtp(receiver)
    slot = site.peer.slots["hall.video"]
    media_ssrc, rtx_ssrc = slot.sender.ssrc, slot.sender.sender._rtx_ssrc
    await until(lambda: sum(p.ssrc == media_ssrc for p in seen) > 20, 3, what="video")
    assert not any(p.ssrc == rtx_ssrc for p in seen), "no loss on loopback, so no RTX yet"

    original = [p for p in seen if p.ssrc == media_ssrc][-5]
    codecs = receiver._RTCRtpReceiver__codecs
    rtx_types = {
        pt
        for pt, c in codecs.items()
        if c.mimeType.lower() == "video/rtx" and c.parameters.get("apt") == original.payload_type
    }
    assert rtx_types, "the site negotiated RTX for VP8"

    # A sequence number long gone from the history is not answered; the recent one is. RTCP is
    # handled in order, so once the answer arrives the first NACK has been dealt with.
    await receiver._send_rtcp_nack(media_ssrc, [(original.sequence_number - 2000) & 0xFFFF])
    await receiver._send_rtcp_nack(media_ssrc, [original.sequence_number])
    await until(lambda: any(p.ssrc == rtx_ssrc for p in seen), 1, what="an RTX packet")
    rtx = [p for p in seen if p.ssrc == rtx_ssrc]
    assert len(rtx) == 1
    assert rtx[0].payload_type in rtx_types
    assert struct.unpack_from("!H", rtx[0].payload)[0] == original.sequence_number
    assert rtx[0].payload[2:] == original.payload
    assert rtx[0].timestamp == original.timestamp
    assert rtx[0].marker == original.marker


async def test_sender_reports_carry_the_forwarded_packet_and_octet_counts(
    bridge: Bridge,
) -> None:
    _hall, site = await hall_and_subscriber(bridge)
    receiver = site.client_transceiver("hall.video").receiver
    slot = site.peer.slots["hall.video"]
    ssrc = slot.sender.ssrc
    received = {"packets": 0, "octets": 0, "timestamp": -1}
    reports: list[tuple[RtcpSrPacket, dict[str, int]]] = []
    seen = observe_rtp(receiver)

    def count(packet: Any) -> None:
        # Called in arrival order with RTCP; RTP is tallied from ``seen`` up to this moment.
        media = [p for p in seen if p.ssrc == ssrc]
        received["packets"] = len(media)
        received["octets"] = sum(len(p.payload) for p in media)
        received["timestamp"] = media[-1].timestamp if media else -1
        if isinstance(packet, RtcpSrPacket) and packet.ssrc == ssrc:
            reports.append((packet, dict(received)))

    observe_rtcp(receiver, count)
    await until(
        lambda: sum(r.sender_info.packet_count > 0 for r, _ in reports) >= 2,
        4,
        what="two sender reports with forwarded packets",
    )
    for report, at_site in reports:
        info = report.sender_info
        if info.packet_count == 0:
            continue
        # Loopback loses nothing and keeps order: the report counts what arrived before it
        # (a packet or two may be counted just before it is on the wire).
        assert 0 <= info.packet_count - at_site["packets"] <= 2, (info, at_site)
        assert 0 <= info.octet_count - at_site["octets"] <= 2 * 1500, (info, at_site)
        assert info.packet_count <= slot.sender.packets_sent
        # The RTP timestamp is the slot's (rewritten) one, at most a frame or so ahead.
        assert 0 <= (info.rtp_timestamp - at_site["timestamp"]) & 0xFFFFFFFF <= 3 * 3000
        assert abs(hooks.NTP_NOW() - info.ntp_timestamp) < (2 << 32)  # within 2 s of now


CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)", re.MULTILINE)


async def test_every_local_ice_candidate_is_loopback_when_restricted(bridge: Bridge) -> None:
    hall, site = await hall_and_subscriber(bridge)
    for joined in (hall, site):
        sdps = {
            "offer": joined.offer_sdp,
            "answer": joined.answer_sdp,
            "client local": joined.client.pc.localDescription.sdp,
            "bridge local": joined.peer.pc.localDescription.sdp,
        }
        for what, sdp in sdps.items():
            candidates = CANDIDATE.findall(sdp)
            assert candidates, f"{joined.name} {what} has candidates"
            assert {address for address, _ in candidates} == {"127.0.0.1"}, (what, candidates)
            assert {kind for _, kind in candidates} == {"host"}
            assert set(re.findall(r"^c=IN IP4 (\S+)", sdp, re.MULTILINE)) <= {"127.0.0.1"}
        for pc in (joined.client.pc, joined.peer.pc):
            for transceiver in pc.getTransceivers():
                ice = transceiver.sender.transport.transport
                assert {c.ip for c in ice.iceGatherer.getLocalCandidates()} == {"127.0.0.1"}
                pair = ice._connection._nominated.get(1)
                assert pair is not None
                assert pair.local_candidate.host == "127.0.0.1"
                assert pair.remote_candidate.host == "127.0.0.1"


async def test_answer_keeps_only_vp8_and_opus(bridge: Bridge) -> None:
    """keep_codec narrows the answerer's transceivers before the answer is created."""
    hall, site = await hall_and_subscriber(bridge)
    for joined in (hall, site):
        for transceiver in joined.server_transceivers():
            names = {c.mimeType.lower() for c in transceiver._codecs}
            expected = {"video/vp8", "video/rtx"} if transceiver.kind == "video" else {"audio/opus"}
            assert names == expected, names
        rtpmaps = set(re.findall(r"^a=rtpmap:\d+ ([^/\s]+)", joined.answer_sdp, re.MULTILINE))
        assert {name.lower() for name in rtpmaps} <= {"vp8", "rtx", "opus"}


async def test_the_answer_asks_for_opus_fec_and_dtx(bridge: Bridge) -> None:
    """Every audio m-line of the answer carries Opus in-band FEC and DTX in its fmtp: what a
    browser's encoder needs to see to send them (RFC 7587 section 7)."""
    hall, site = await hall_and_subscriber(bridge)
    for joined in (hall, site):
        opus = re.findall(r"^a=rtpmap:(\d+) opus/48000", joined.answer_sdp, re.MULTILINE)
        assert opus, joined.answer_sdp
        for payload_type in opus:
            [fmtp] = re.findall(rf"^a=fmtp:{payload_type} (.*)$", joined.answer_sdp, re.MULTILINE)
            assert set(fmtp.strip().split(";")) == {"minptime=10", "useinbandfec=1", "usedtx=1"}


@pytest.mark.parametrize("with_media", [True, False], ids=["transceiver", "data-channel"])
async def test_restrict_ice_addresses_on_a_plain_peer_connection(with_media: bool) -> None:
    """The hook alone, without SitePeer: the ICE transport of a transceiver or of SCTP (a
    data channel) gathers on the given addresses only (unrestricted, aioice would gather every
    interface of the machine)."""
    pc = RTCPeerConnection()
    try:
        if with_media:
            pc.addTransceiver("audio")
        else:
            pc.createDataChannel("chat")
        hooks.restrict_ice_addresses(pc, ["127.0.0.1"])
        await pc.setLocalDescription(await pc.createOffer())
        found = {address for address, _ in CANDIDATE.findall(pc.localDescription.sdp)}
        assert found == {"127.0.0.1"}
    finally:
        await pc.close()


@pytest.mark.parametrize(
    ("policy", "all_bundled"),
    [(RTCBundlePolicy.BALANCED, False), (RTCBundlePolicy.MAX_BUNDLE, True)],
    ids=["balanced", "max-bundle"],
)
async def test_answerer_bundles_a_second_audio_m_line_only_with_max_bundle(
    policy: RTCBundlePolicy, all_bundled: bool
) -> None:
    """Why SitePeer and SyntheticSite use max-bundle: with aiortc's default (balanced) an
    answerer gives a second m-line of a kind the first one's transport, then skips it when it
    moves the bundle onto the first m-line's transport, so (video, audio, video, audio) leaves
    the second audio on a transport that is discarded and never connects."""
    offerer = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    answerer = RTCPeerConnection(RTCConfiguration(bundlePolicy=policy))
    try:
        for kind in ("video", "audio", "video", "audio"):
            offerer.addTransceiver(kind, direction="recvonly")
        hooks.restrict_ice_addresses(offerer, ["127.0.0.1"])
        await offerer.setLocalDescription(await offerer.createOffer())
        assert "a=group:BUNDLE 0 1 2 3" in offerer.localDescription.sdp
        await answerer.setRemoteDescription(offerer.localDescription)
        transports = [t.receiver.transport for t in answerer.getTransceivers()]
        assert len(transports) == 4
        assert ({id(t) for t in transports} == {id(transports[0])}) is all_bundled
    finally:
        await offerer.close()
        await answerer.close()
