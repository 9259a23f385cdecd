"""RTP arithmetic and the little codec knowledge forwarding needs (no decoding)."""

from __future__ import annotations

from aiortc.clock import current_ntp_time

NTP_NOW = current_ntp_time


def uint16(value: int) -> int:
    return value & 0xFFFF


def uint32(value: int) -> int:
    return value & 0xFFFFFFFF


def is_vp8_keyframe(payload: bytes) -> bool:
    """Whether an RTP VP8 payload starts a key frame (RFC 7741 payload descriptor + header).

    Only the first packet of a frame (S bit set, partition 0) can tell; the frame header's
    P bit is 0 for key frames.
    """
    if not payload:
        return False
    first = payload[0]
    extended, start, partition = first & 0x80, first & 0x10, first & 0x07
    if not start or partition != 0:
        return False
    offset = 1
    if extended:
        if len(payload) < 2:
            return False
        flags = payload[1]
        offset = 2
        if flags & 0x80:  # I: picture ID, 7 or 15 bits
            if len(payload) <= offset:
                return False
            offset += 2 if payload[offset] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            offset += 1
        if flags & 0x30:  # T or K: TID/KEYIDX byte
            offset += 1
    if len(payload) <= offset:
        return False
    return not payload[offset] & 0x01
