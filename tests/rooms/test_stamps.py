"""The time drawn into synthetic frames reads back exactly (latency measurement relies on it)."""

from __future__ import annotations

import av
import numpy as np

from rooms.synthetic import draw_stamp, read_stamp, unwrap_stamp


def test_stamp_round_trip_and_unwrap() -> None:
    sent = 1_795_000_000_123  # a wall-clock millisecond count of 2026, more than 40 bits
    rgb = np.full((180, 320, 3), 90, dtype=np.uint8)  # cells need a few pixels each
    draw_stamp(rgb, sent)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    read = read_stamp(frame)
    assert read == sent % (1 << 40)
    assert unwrap_stamp(read, sent + 57) == sent
