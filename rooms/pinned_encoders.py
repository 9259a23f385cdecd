"""Encoders with a fixed bitrate for synthetic sites: the benchmark's load does not follow
REMB estimates, and a synthetic site's ``camera.low`` stays at a low quality's bitrate (aiortc's
own VP8 encoder never goes below 250 kbit/s).

This reaches into aiortc's ``RTCRtpSender`` (its lazily built encoder, its sender-report
counters) with the same aiortc version rooms/ pins.
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCRtpSender
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder


class PinnedVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder (CBR) at a fixed target bitrate; REMB updates are ignored."""

    def __init__(self, bitrate: int) -> None:
        super().__init__()
        self._pinned = bitrate
        self._Vp8Encoder__target_bitrate = bitrate  # also sizes the rate-control buffer

    @property
    def target_bitrate(self) -> int:
        return self._pinned

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        pass


def opus_encoder(bitrate: int) -> OpusEncoder:
    """aiortc's Opus encoder at ``bitrate``: with libopus's default unconstrained VBR a
    32 kbps target gives ~54 kbps on the test tone, so VBR is constrained."""
    encoder = OpusEncoder()
    encoder.codec.bit_rate = bitrate
    encoder.codec.options = {"application": "voip", "vbr": "constrained"}
    return encoder


def sender_private(sender: RTCRtpSender, name: str) -> Any:
    """An ``RTCRtpSender`` private attribute (its SR counters, its encoder)."""
    return getattr(sender, f"_{RTCRtpSender.__name__}__{name}")


def set_sender_private(sender: RTCRtpSender, name: str, value: Any) -> None:
    setattr(sender, f"_{RTCRtpSender.__name__}__{name}", value)


def pin_encoder(sender: RTCRtpSender, bitrate: int) -> Any:
    """Give ``sender`` its encoder now (aiortc builds one lazily only when it has none)."""
    kind = sender.kind
    encoder = PinnedVp8Encoder(bitrate) if kind == "video" else opus_encoder(bitrate)
    set_sender_private(sender, "encoder", encoder)
    return encoder
