"""A synthetic site: an aiortc peer that publishes a test pattern and a tone, and counts what
it receives. Tests, ``concord simulate-sites`` and the benchmark use it; it speaks to a room
through the same offer/answer layout as the browser client.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import time
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from rooms import aiortc_hooks as hooks
from rooms.pinned_encoders import pin_encoder

VIDEO_CLOCK = 90000
AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms
STAMP_BITS = 40  # the wall-clock milliseconds drawn into each frame as a bar code
STAMP_ROWS = 8
LOW_BITRATE = 100_000  # camera.low, bit/s


class PatternTrack(MediaStreamTrack):
    """Moving colour bars with the send time drawn in as a bar code (see ``read_stamp``)."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 360, fps: int = 30, hue: int = 0) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._hue = hue
        self._start: float | None = None
        self._count = 0
        x = np.arange(width, dtype=np.int32)
        self._base = ((x[None, :] * 255 // max(1, width)) + hue) % 256
        self._sending = asyncio.Event()
        self._sending.set()

    @property
    def made(self) -> int:
        """Frames made so far (a loaded machine's track catches up on late ones in a burst)."""
        return self._count

    def pause(self, paused: bool) -> None:
        """Stop yielding frames (the room receives this quality from nobody) or go on."""
        if paused:
            self._sending.clear()
        elif not self._sending.is_set():
            self._start = None  # go on from now, not with a burst of the frames missed
            self._sending.set()

    async def recv(self) -> av.VideoFrame:
        await self._sending.wait()
        if self._start is None:
            self._start = time.monotonic() - self._count / self.fps
        due = self._start + self._count / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        shift = (self._count * 4) % self.width
        luma = np.roll(self._base, shift, axis=1).astype(np.uint8)
        image = np.repeat(luma, self.height, axis=0)
        rgb = np.stack([image, np.roll(image, 85, axis=1), np.roll(image, 170, axis=1)], axis=2)
        draw_stamp(rgb, int(time.time() * 1000))
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = int(self._count * VIDEO_CLOCK / self.fps)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        self._count += 1
        return frame


def draw_stamp(rgb: np.ndarray, millis: int) -> None:
    """Draw ``millis`` as STAMP_BITS black/white cells across the top rows."""
    width = rgb.shape[1]
    cell = width // STAMP_BITS
    for bit in range(STAMP_BITS):
        value = 255 if (millis >> (STAMP_BITS - 1 - bit)) & 1 else 0
        rgb[:STAMP_ROWS, bit * cell : (bit + 1) * cell, :] = value


def read_stamp(frame: av.VideoFrame) -> int:
    """The milliseconds drawn by ``draw_stamp`` (survives VP8 compression): the low STAMP_BITS
    bits of the send time only (wall-clock ms have needed more than 40 bits since 2004); see
    ``unwrap_stamp``."""
    gray = frame.to_ndarray(format="gray")
    cell = gray.shape[1] // STAMP_BITS
    value = 0
    for bit in range(STAMP_BITS):
        mean = gray[1 : STAMP_ROWS - 1, bit * cell + 2 : (bit + 1) * cell - 2].mean()
        value = (value << 1) | (1 if mean > 127 else 0)
    return value


def unwrap_stamp(stamp: int, now_ms: int) -> int:
    """The full wall-clock ms of a ``read_stamp`` value read at ``now_ms`` (it was sent less
    than 2**STAMP_BITS ms, about 35 years, before)."""
    return now_ms - ((now_ms - stamp) % (1 << STAMP_BITS))


class ToneTrack(MediaStreamTrack):
    """A continuous sine tone at ``frequency`` Hz, 48 kHz mono, in 20 ms frames."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency = frequency
        self._amplitude = amplitude
        self._start: float | None = None
        self._samples = 0

    @property
    def made(self) -> int:
        """20 ms frames made so far (late ones are caught up on in a burst)."""
        return self._samples // AUDIO_SAMPLES

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._samples / AUDIO_RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (np.arange(AUDIO_SAMPLES) + self._samples) / AUDIO_RATE
        wave = self._amplitude * np.sin(2 * math.pi * self.frequency * t)
        samples = (wave * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._samples += AUDIO_SAMPLES
        return frame


@dataclass
class Received:
    """What one receiving slot of a synthetic site got."""

    kind: str
    frames: int = 0
    first_at: float | None = None
    last_at: float | None = None
    longest_gap: float = 0.0  # seconds between two consecutive frames, at most
    size: tuple[int, int] | None = None  # video: the last frame's width and height
    errors: int = 0
    stamps: list[tuple[int, int]] = field(default_factory=list)  # (sent ms, received ms)
    samples: list[np.ndarray] = field(default_factory=list)
    keep_samples: int = 0  # audio: keep this many recent frames for frequency analysis

    def fps(self, window: float | None = None) -> float:
        if self.first_at is None or self.last_at is None or self.frames < 2:
            return 0.0
        return (self.frames - 1) / max(1e-6, self.last_at - self.first_at)


class SyntheticSite:
    """An aiortc site: ``offer()``, hand the answer to ``accept()``, then read ``received``."""

    def __init__(
        self,
        name: str,
        *,
        camera: PatternTrack | None = None,
        camera_low: PatternTrack | None = None,
        microphone: ToneTrack | None = None,
        screen: PatternTrack | None = None,
        slots: Sequence[tuple[str, str]] = (),
        ice_addresses: Sequence[str] = ("127.0.0.1",),
        read_stamps: bool = False,
        decode: bool = True,
        camera_bitrate: int | None = None,  # bit/s, fixed (default: aiortc's, following REMB)
    ) -> None:
        self.name = name
        self.pc = hooks.new_peer_connection()
        self.layout: dict[str, str] = {}
        self.received: dict[str, Received] = {}
        self._pending: list[tuple[str, str]] = []
        self._ice_addresses = list(ice_addresses)
        self._read_stamps = read_stamps
        self._decode = decode
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.cameras = {"camera": camera, "camera.low": camera_low}
        published = (
            ("camera", camera),
            ("camera.low", camera_low),
            ("microphone", microphone),
            ("screen", screen),
        )
        for name_, track in published:
            if track is not None:
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                _prefer(transceiver, track.kind)
                if name_ == "camera.low":  # aiortc's encoder never goes below 250 kbit/s
                    pin_encoder(transceiver.sender, LOW_BITRATE)
                elif name_ == "camera" and camera_bitrate is not None:
                    pin_encoder(transceiver.sender, camera_bitrate)
                self._pending.append((name_, ""))
        for slot, kind in slots:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            _prefer(transceiver, kind)
            self._pending.append((slot, kind))
            self.received[slot] = Received(kind)

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            mid = next(t.mid for t in self.pc.getTransceivers() if t.receiver.track is track)
            slot = self.layout.get(mid or "")
            if slot in self.received:
                self._spawn(self._consume(track, self.received[slot]))

    def pause(self, paused: Iterable[str]) -> None:
        """Send only the camera qualities not in ``paused`` (the room's ``media.sending``)."""
        names = set(paused)
        for name, track in self.cameras.items():
            if track is not None:
                track.pause(name in names)

    async def offer(self) -> tuple[str, dict[str, str]]:
        hooks.restrict_ice_addresses(self.pc, self._ice_addresses)
        hooks.tolerate_long_links(self.pc)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        for transceiver, (name, _) in zip(self.pc.getTransceivers(), self._pending, strict=True):
            self.layout[str(transceiver.mid)] = name
        return str(self.pc.localDescription.sdp), dict(self.layout)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))

    async def _consume(self, track: MediaStreamTrack, into: Received) -> None:
        await consume(track, into, read_stamps=self._read_stamps)

    def packets_lost(self) -> int:
        return sum(
            hooks.packets_lost(t.receiver)
            for t in self.pc.getTransceivers()
            if t.receiver.track is not None
        )

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await self.pc.close()


async def consume(track: MediaStreamTrack, into: Received, *, read_stamps: bool = False) -> None:
    """Count (and, as asked, keep stamps or samples of) what a received track decodes."""
    with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
        while True:
            frame = await track.recv()
            now = time.monotonic()
            into.frames += 1
            if into.last_at is not None:
                into.longest_gap = max(into.longest_gap, now - into.last_at)
            into.first_at = into.first_at or now
            into.last_at = now
            if isinstance(frame, av.VideoFrame):
                into.size = (frame.width, frame.height)
            if isinstance(frame, av.VideoFrame) and read_stamps:
                now_ms = int(time.time() * 1000)
                into.stamps.append((unwrap_stamp(read_stamp(frame), now_ms), now_ms))
            elif isinstance(frame, av.AudioFrame) and into.keep_samples:
                channels = len(frame.layout.channels)
                into.samples.append(frame.to_ndarray().reshape(-1, channels)[:, 0])
                del into.samples[: -into.keep_samples]


def _prefer(transceiver: object, kind: str) -> None:
    """setCodecPreferences: VP8 (with RTX) for video, Opus for audio, like the browser client."""
    wanted = "video/vp8" if kind == "video" else "audio/opus"
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    chosen = [c for c in codecs if c.mimeType.lower() == wanted]
    chosen += [c for c in codecs if c.mimeType.lower().endswith("/rtx")]
    transceiver.setCodecPreferences(chosen)  # type: ignore[attr-defined]


def dominant_frequency(samples: np.ndarray, rate: int = AUDIO_RATE) -> float:
    """The strongest frequency in ``samples`` (one channel)."""
    data = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(data * np.hanning(len(data))))
    freqs = np.fft.rfftfreq(len(data), 1 / rate)
    return float(freqs[int(np.argmax(spectrum[1:])) + 1])


async def carries_on(old: SyntheticSite, new: SyntheticSite, limit: float) -> None:
    """Until the new peer connection receives every video the old one was receiving (the
    other sites may reach the new node after this one), or failed, or ``limit`` passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    now = time.monotonic()
    flowing = [
        slot
        for slot, got in old.received.items()
        if got.kind == "video" and got.last_at is not None and now - got.last_at < 1.0
    ]
    while loop.time() < deadline and new.pc.connectionState not in ("failed", "closed"):
        got = new.received
        if new.pc.connectionState == "connected" and all(
            slot in got and got[slot].frames > 0 for slot in flowing
        ):
            return
        await asyncio.sleep(0.05)
