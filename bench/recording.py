"""What recording costs the media server (``python -m bench.recording``).

The recorder muxes on the server's event loop, so its CPU is taken from forwarding. This feeds
real encoded media — VP8 from aiortc's encoder (640×360, 30 fps, ~600 kbit/s) and Opus tones,
encoded once before timing — packet by packet into ``recordings.session.RecordingSession`` as
fast as it goes, with a clock that advances like the media, and reports CPU seconds per second
of media (the share of one core a live recording takes) for the floor alone and with two and
six language channels. The baseline in the same run is the forwarding path's own work for the
floor's packets to one site (``Source.on_packet`` → ``Slot.push`` → the packet serialised),
without SRTP and the socket, which the full benchmark (``python -m bench``) measures on real
peers. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fractions
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtp import RtpPacket

from recordings.session import RecordingSession
from rooms.forwarding import Slot, Source

SECONDS = 20
LANGUAGES = ("vi", "lo", "en", "fr", "th", "km")
FPS = 30
VIDEO_CLOCK, AUDIO_CLOCK = 90000, 48000


def video_packets(seconds: int) -> list[tuple[float, RtpPacket]]:
    encoder = Vp8Encoder()
    encoder.target_bitrate = 600_000
    rng = np.random.default_rng(1)
    out: list[tuple[float, RtpPacket]] = []
    seq = 0
    for index in range(seconds * FPS):
        picture = np.full((360, 640, 3), 40, dtype=np.uint8)
        x = (index * 8) % 600
        picture[100:260, x : x + 40] = (200, 80, 40)
        picture[rng.integers(0, 360, 400), rng.integers(0, 640, 400)] = 255  # some detail
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = index * VIDEO_CLOCK // FPS, fractions.Fraction(1, VIDEO_CLOCK)
        payloads, timestamp = encoder.encode(frame, force_keyframe=index == 0)
        for number, payload in enumerate(payloads):
            packet = RtpPacket(payload_type=96, sequence_number=seq & 0xFFFF, timestamp=timestamp)
            packet.payload, packet.marker = payload, number == len(payloads) - 1
            packet.ssrc = 1111
            out.append((index / FPS, packet))
            seq += 1
    return out


def audio_packets(seconds: int, frequency: float, ssrc: int) -> list[tuple[float, RtpPacket]]:
    encoder = OpusEncoder()
    out: list[tuple[float, RtpPacket]] = []
    for index in range(seconds * 50):
        t = (np.arange(960) + index * 960) / AUDIO_CLOCK
        samples = (0.3 * 32767 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = AUDIO_CLOCK, index * 960
        frame.time_base = fractions.Fraction(1, AUDIO_CLOCK)
        payloads, timestamp = encoder.encode(frame)
        packet = RtpPacket(payload_type=111, sequence_number=index & 0xFFFF, timestamp=timestamp)
        packet.payload, packet.ssrc = payloads[0], ssrc
        out.append((index / 50, packet))
    return out


Feed = list[tuple[float, str, str, RtpPacket]]  # (media time, channel, slot, packet)


def feed(languages: int, video: list[tuple[float, RtpPacket]], seconds: int) -> Feed:
    items: Feed = [(t, "floor", "programme.video", p) for t, p in video]
    items += [(t, "floor", "programme.audio", p) for t, p in audio_packets(seconds, 440, 2222)]
    for n in range(languages):
        tone = audio_packets(seconds, 500 + 60 * n, 3000 + n)
        items += [(t, LANGUAGES[n], "interpretation.audio", p) for t, p in tone]
    items.sort(key=lambda item: item[0])
    return items


def record(items: Feed, languages: int) -> float:
    """CPU seconds to record ``items`` (closing the files and hashing them included)."""
    now = [0.0]
    with tempfile.TemporaryDirectory() as folder:
        recording = RecordingSession(
            Path(folder),
            list(LANGUAGES[:languages]),
            dt.datetime.now(dt.UTC),
            clock=lambda: now[0],
        )
        start = time.process_time()
        next_expire = 0.25
        for at, channel, slot, packet in items:
            now[0] = at
            recording.packet(channel, slot, packet)
            if at >= next_expire:
                recording.expire()
                next_expire += 0.25
        recording.close()
        return time.process_time() - start


class CountingSender:
    """What a Slot needs of a sender, counting instead of sending (the baseline)."""

    def __init__(self, clock_rate: int) -> None:
        self.ready = asyncio.Event()
        self.ready.set()
        self.clock_rate = clock_rate
        self.sent = 0

    def header_extensions(self, packet: RtpPacket, cache: dict[object, bytes]) -> bytes:
        return b""

    async def send(self, packet: RtpPacket, sequence: int, timestamp: int, ext: bytes) -> None:
        self.sent += len(packet.serialize())  # what the real sender builds, roughly


async def forward(items: Feed) -> float:
    """CPU seconds to forward the floor's packets to one site (the SFU's own work per site)."""
    sources = {kind: Source("hall", kind, kind, lambda _ssrc: None) for kind in ("video", "audio")}
    for kind, source in sources.items():
        Slot("site", f"floor.{kind}", kind, CountingSender(VIDEO_CLOCK)).switch(source)
    floor = [(slot, packet) for _, channel, slot, packet in items if channel == "floor"]
    start = time.process_time()
    for slot, packet in floor:
        await sources["video" if slot.endswith("video") else "audio"].on_packet(packet)
    return time.process_time() - start


def main(seconds: int = SECONDS, repeats: int = 3) -> None:
    print(f"encoding {seconds} s of media (not timed)...")
    video = video_packets(seconds)
    kbps = sum(len(p.payload) for _, p in video) * 8 / seconds / 1000
    print(f"VP8 {len(video)} packets, {kbps:.0f} kbit/s; Opus 50 packets/s per channel")
    baseline = statistics.median(
        asyncio.run(forward(feed(0, video, seconds))) for _ in range(repeats)
    )
    print(
        f"{'forwarding path, floor to one site':<40} {baseline / seconds * 100:>7.2f} % of a core"
    )
    for languages in (0, 2, 6):
        items = feed(languages, video, seconds)
        cpu = statistics.median(record(items, languages) for _ in range(repeats))
        print(
            f"{f'recording floor + {languages} languages':<40} {cpu / seconds * 100:>7.2f} % "
            f"of a core  ({cpu / baseline:.1f}× the forwarding path, "
            f"{cpu / len(items) * 1e6:.1f} µs a packet)"
        )


if __name__ == "__main__":
    main()
