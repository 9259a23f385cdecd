"""One site's peer connection: what it publishes (sources) and what it receives (slots).

The site always offers; its offer carries a layout naming each m-line by MID: published
tracks ("camera", "camera.low": the same camera at a lower quality, "microphone", "screen")
and receiving slots ("hall.video", "floor.audio"...).
The answer is complete (aiortc has no trickle ICE) and fixes VP8 and Opus for every track.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiortc import RTCRtpReceiver, RTCSessionDescription
from aiortc.sdp import SessionDescription

from rooms import aiortc_hooks as hooks
from rooms.forwarding import Slot, Source
from rooms.quality import HIGH, LOW, Downlink

log = logging.getLogger(__name__)

PUBLISHED = {"camera": "video", "camera.low": "video", "microphone": "audio", "screen": "video"}
CODECS = {"video": "video/VP8", "audio": "audio/opus"}


class NegotiationError(Exception):
    """The site's offer cannot be answered; the message says why."""


#: The certificate digests aiortc's DTLS can check (RFC 8122 names).
FINGERPRINT_ALGORITHMS = frozenset({"sha-256", "sha-384", "sha-512"})


def check_offer(offer_sdp: str) -> None:
    """Refuse, before anything changes, an offer aiortc would accept and then fail on later
    (without a DTLS fingerprint its transport asserts once ICE connects) or refuse halfway
    through negotiation: each media section needs ICE credentials and a usable fingerprint."""
    try:
        parsed = SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc's parser asserts and raises ValueError, KeyError...
        raise NegotiationError(f"the offer is not valid SDP: {exc!r}") from None
    if not parsed.media:
        raise NegotiationError("the offer has no media section (m=)")
    for index, media in enumerate(parsed.media):
        where = f"m-line {index} ({media.kind}, mid {media.rtp.muxId or '?'})"
        ice, dtls = media.ice, media.dtls
        if ice is None or not ice.usernameFragment or not ice.password:
            raise NegotiationError(f"{where} has no a=ice-ufrag and a=ice-pwd")
        if dtls is None or not dtls.fingerprints:
            raise NegotiationError(f"{where} has no a=fingerprint (DTLS certificate digest)")
        algorithms = {f.algorithm.lower() for f in dtls.fingerprints}
        if not algorithms & FINGERPRINT_ALGORITHMS:
            raise NegotiationError(
                f"{where} has a=fingerprint only with {sorted(algorithms)};"
                f" use one of {sorted(FINGERPRINT_ALGORITHMS)}"
            )


class SitePeer:
    """Owns one RTCPeerConnection; ``close()`` is safe to call twice."""

    def __init__(
        self,
        site_id: str,
        *,
        ice_addresses: Sequence[str],
        on_closed: Callable[[SitePeer], Awaitable[None]] | None = None,
    ) -> None:
        self.site_id = site_id
        self.pc = hooks.new_peer_connection()
        self.sources: dict[str, Source] = {}
        self.receivers: dict[str, RTCRtpReceiver] = {}  # by published track, for statistics
        self.slots: dict[str, Slot] = {}
        self.downlink = Downlink()  # what its link carries, and the qualities it gets
        self._ice_addresses = list(ice_addresses)
        self._on_closed = on_closed
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

        @self.pc.on("connectionstatechange")
        async def changed() -> None:
            if self.pc.connectionState in ("failed", "closed") and not self._closed:
                await self.close()

    @property
    def state(self) -> str:
        return str(self.pc.connectionState)

    async def answer(self, offer_sdp: str, layout: Mapping[str, str]) -> str:
        """Answer the site's offer; ``layout`` maps each MID to a track or slot name."""
        if self.pc.signalingState != "stable" or self.pc.remoteDescription is not None:
            raise NegotiationError("this connection was already negotiated; open a new one")
        check_offer(offer_sdp)
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        except Exception as exc:  # aiortc raises ValueError and others for bad SDP
            raise NegotiationError(f"the offer is not valid SDP: {exc}") from None
        transceivers = {t.mid: t for t in self.pc.getTransceivers()}
        unknown = set(layout) - set(transceivers)
        if unknown:
            raise NegotiationError(f"the layout names MIDs the offer lacks: {sorted(unknown)}")
        for mid, transceiver in transceivers.items():
            name = layout.get(mid or "")
            if name is None:
                raise NegotiationError(f"the layout does not say what m-line {mid} is")
            kind = transceiver.kind
            if not hooks.keep_codec(transceiver, CODECS[kind]):
                raise NegotiationError(f"m-line {mid} does not offer {CODECS[kind]}")
            if kind == "audio":
                hooks.ask_opus_fec_and_dtx(transceiver)
            if name in PUBLISHED:
                if PUBLISHED[name] != kind or name in self.sources:
                    raise NegotiationError(f"m-line {mid} cannot be the {name}")
                self._publish(name, transceiver)
            else:
                if name in self.slots:
                    raise NegotiationError(f"slot {name} appears twice")
                self._subscribe(name, transceiver)
        if HIGH in self.sources and LOW in self.sources:
            self.sources[HIGH].low = self.sources[LOW]
        hooks.restrict_ice_addresses(self.pc, self._ice_addresses)
        hooks.tolerate_long_links(self.pc, on_resumed=self._resumed)
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return str(self.pc.localDescription.sdp)

    def _publish(self, name: str, transceiver: object) -> None:
        receiver = transceiver.receiver  # type: ignore[attr-defined]
        transceiver.direction = "recvonly"  # type: ignore[attr-defined]

        def send_pli(media_ssrc: int) -> None:
            self._spawn(hooks.request_keyframe(receiver, media_ssrc))

        source = Source(self.site_id, name, PUBLISHED[name], send_pli)
        hooks.tap_receiver(receiver, source.on_packet)
        self.sources[name] = source
        self.receivers[name] = receiver

    def _resumed(self) -> None:
        """The site answers again after an outage: its decoders lost their pictures, so ask
        the publishers of its video slots for key frames now rather than wait for its PLIs."""
        for slot in self.slots.values():
            if slot.kind == "video":
                slot.request_keyframe()

    def _subscribe(self, name: str, transceiver: object) -> None:
        kind: str = transceiver.kind  # type: ignore[attr-defined]
        sender = transceiver.sender  # type: ignore[attr-defined]
        sender.replaceTrack(hooks.HoldTrack(kind))
        transceiver.direction = "sendonly"  # type: ignore[attr-defined]
        slot: Slot | None = None

        def keyframe_requested() -> None:
            if slot is not None:
                slot.request_keyframe()

        forwarding = hooks.ForwardingSender(sender, keyframe_requested)
        slot = Slot(self.site_id, name, kind, forwarding)
        self.slots[name] = slot

        async def first_keyframe() -> None:
            # A key frame asked for before the sender could send would be lost: ask again.
            await forwarding.ready.wait()
            slot.request_keyframe()

        self._spawn(first_keyframe())

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for slot in self.slots.values():
            slot.close()
        for source in self.sources.values():
            source.close()
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()
        if self._on_closed is not None:
            await self._on_closed(self)
