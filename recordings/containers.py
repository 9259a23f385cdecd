"""The recorder's core: forwarded RTP packets in, a playable WebM/Matroska or Ogg file out.

A ``ContainerWriter`` is one output file with one or two streams; each stream is fed by a
``TrackWriter`` that takes the RTP packets of one forwarded track (VP8 at 90 kHz or Opus at
48 kHz) in arrival order, reorders them (``ReorderBuffer``), cuts them into frames and hands the
frames to PyAV as ``av.Packet``s. Nothing is decoded or encoded: the recording holds exactly the
bytes the publishers' encoders produced.

- The floor programme is one WebM file with a VP8 and an Opus stream
  (``ContainerWriter.programme``); a language channel is an Ogg/Opus file, or WebM audio-only by
  its extension (``ContainerWriter.channel``).
- Timing: each stream's presentation times are its RTP timestamps relative to its first
  packet, placed on the file's time line by that packet's arrival time (the first packet of
  any stream of the file is time 0). RTP timestamps of different streams have unrelated
  origins, and RTCP sender reports are not visible to a subscriber, so arrival time is the
  only common clock; lip sync is as good as the jitter of the two first packets.
- A video stream starts at a VP8 key frame: the container's header needs the frame size,
  so the file is opened at the first key frame (audio frames wait in memory until then, at
  most ``HEADER_WAIT`` seconds, after which the file is opened with ``DEFAULT_SIZE``; the
  decoder takes the real size from the key frames either way).

Crash safety (a SIGKILLed process leaves a playable file up to its last seconds):

- Matroska: ``cluster_time_limit`` closes a cluster at least every ``flush_interval``
  seconds (the muxer keeps the open cluster in memory and writes it whole when it ends), and
  ``flush_packets=1`` hands every write to the kernel at once. The segment is written with an
  unknown size and patched only by the trailer, and the cues come last, so an unfinished
  file is a valid live-style Matroska file that FFmpeg demuxes to its last complete cluster.
  ``live=1`` is not used: with it a finished file would lack cues and duration too.
- Ogg: ``page_duration`` ends a page at least every ``flush_interval`` seconds, and
  ``flush_packets=1`` as above.
- ``max_interleave_delta`` bounds how long FFmpeg holds one stream's packets back waiting
  for the other's (its default, 10 s, would stall the audio of a programme with no picture).
- Packets held for reordering are passed on after at most half a second when the owner
  calls ``expire()`` now and then, so a stream that stops is written out too.
- Limit: FFmpeg's interleaver (``av_interleaved_write_frame``, the only muxing call PyAV
  offers) holds every packet of a two-stream file while the *VP8* stream has none queued:
  ``max_interleave_delta`` does not apply to an idle VP8/VP9 stream. So while a programme has
  sound but no picture (nobody's camera on the floor), its audio stays in memory until video
  resumes or the file is closed. A caller that must survive that case records the programme
  as two files (``ContainerWriter(path, video=True, audio=False)`` plus a ``channel``), or
  closes the file and starts a new one when its video source goes away.
- Data the kernel has is safe from a killed process; nothing is fsynced (a power cut may
  lose more: that is the storage's business).

The worst case lost at a kill is about the reorder depth plus ``flush_interval`` plus the
interleave delay: two to three seconds with the defaults.

Threads: the tracks (reordering, frames, timing) run in the caller's thread, the event loop's
in a live recording. The disk work (opening the file, muxing, the trailer) runs there too by
default, or, given a ``recordings.writer_thread.WriterThread``, on that thread as jobs in order,
so that a slow disk never holds up the loop. Then a write that fails is logged and counted
(``write_errors``, ``first_error``) and later writes go on; the file's owner reports it once
the writer has run (``RecordingSession.close``), and a kill also loses the writes still
queued (normally milliseconds' worth).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from aiortc.rtp import RtpPacket
from av.container import OutputContainer
from av.stream import Stream

from recordings.rtp_frames import (
    Frame,
    OpusFrames,
    ReorderBuffer,
    StreamCounts,
    Vp8Assembler,
    extend,
)
from recordings.writer_thread import WriterThread

log = logging.getLogger(__name__)

VIDEO_CLOCK = 90000
AUDIO_CLOCK = 48000
FLUSH_INTERVAL = 1.0  # seconds: the longest a cluster or an Ogg page stays in memory
INTERLEAVE_DELAY = 0.5  # seconds one stream may be held back waiting for the other
HEADER_WAIT = 5.0  # seconds of audio kept in memory while waiting for video's first key frame
DEFAULT_SIZE = (640, 360)
VIDEO_DEPTH = 48  # packets held for reordering: ~0.2-0.5 s of 300-1000 kbit/s video
AUDIO_DEPTH = 12  # 240 ms of 20 ms Opus packets
MATROSKA_EXTENSIONS = {".webm": "webm", ".mkv": "matroska", ".mka": "matroska"}
OGG_EXTENSIONS = {".ogg": "ogg", ".opus": "ogg", ".oga": "ogg"}


class TrackWriter:
    """One forwarded track into one stream of a ``ContainerWriter``."""

    def __init__(
        self,
        file: ContainerWriter,
        kind: str,
        on_keyframe_needed: Callable[[], None] | None = None,
    ) -> None:
        if kind not in ("video", "audio"):
            raise ValueError(f"unknown kind {kind!r}")
        self.kind = kind
        self.clock = VIDEO_CLOCK if kind == "video" else AUDIO_CLOCK
        self._file = file
        self._buffer = ReorderBuffer(VIDEO_DEPTH if kind == "video" else AUDIO_DEPTH)
        self.counts: StreamCounts = self._buffer.counts
        self._frames: Vp8Assembler | OpusFrames = (
            Vp8Assembler(self.counts) if kind == "video" else OpusFrames(self.counts)
        )
        self._on_keyframe_needed = on_keyframe_needed
        self._first: tuple[float, int] | None = None  # (arrival, RTP timestamp) of packet 1
        self._origin: tuple[int, int] | None = None  # (pts, extended timestamp) at frame 1
        self._last_pts: int | None = None
        self._closed = False

    @property
    def needs_keyframe(self) -> bool:
        """Video is dropping frames until the next key frame (the owner may ask for one)."""
        return isinstance(self._frames, Vp8Assembler) and self._frames.needs_keyframe

    def push(self, packet: RtpPacket, arrival: float | None = None) -> None:
        """Add one RTP packet as received; ``arrival`` is ``time.monotonic()`` by default
        (tests replaying a capture pass the captured times)."""
        if self._closed:
            return
        arrival = time.monotonic() if arrival is None else arrival
        if self._first is None:
            self._first = (arrival, packet.timestamp)
            self._file.started(arrival)
        waiting = self.needs_keyframe
        self._pass_on(self._buffer.push(packet, arrival), waiting)

    def expire(self, now: float | None = None) -> None:
        """Pass on packets held for reordering longer than the buffer's ``max_hold``; call
        now and then (``ContainerWriter.expire``) so a stopped stream is written out."""
        if not self._closed:
            now = time.monotonic() if now is None else now
            self._pass_on(self._buffer.expire(now), self.needs_keyframe)

    def _pass_on(self, packets: list[tuple[int, RtpPacket]], waiting: bool) -> None:
        for seq, ordered in packets:
            self._frame(self._frames.push(seq, ordered))
        if self.needs_keyframe and not waiting and self._on_keyframe_needed is not None:
            self._on_keyframe_needed()

    def close(self) -> None:
        """Pass on what the reorder buffer still holds; later packets are ignored."""
        if self._closed:
            return
        self._closed = True
        for seq, ordered in self._buffer.flush():
            self._frame(self._frames.push(seq, ordered))

    def _frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        if self._origin is None:
            assert self._first is not None
            arrival, first_timestamp = self._first
            offset = round((arrival - self._file.epoch) * self.clock)
            start = extend(first_timestamp, frame.timestamp, 32)
            self._origin = (offset, start)
        offset, start = self._origin
        pts = offset + frame.timestamp - start
        if self._last_pts is not None and pts <= self._last_pts:
            self.counts.dropped_frames += 1  # time went backwards: a muxer would refuse it
            return
        self._last_pts = pts
        self.counts.frames += 1
        self._file.write(self, pts, frame)


class ContainerWriter:
    """One output file: a WebM/Matroska or Ogg container fed by one or two ``TrackWriter``s.

    With a ``writer``, the disk work runs on that thread (see the module's docstring): until
    the writer has run what was queued (``WriterThread.wait`` or ``close``), the file on disk
    may lag behind ``written``, ``closed`` and the tracks' counts.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        video: bool = False,
        audio: bool = True,
        flush_interval: float = FLUSH_INTERVAL,
        container_format: str | None = None,
        on_keyframe_needed: Callable[[], None] | None = None,
        writer: WriterThread | None = None,
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        known = MATROSKA_EXTENSIONS | OGG_EXTENSIONS
        self.format = container_format or known.get(suffix, "matroska")
        if self.format == "ogg" and video:
            raise ValueError("Ogg recordings are audio only")
        if not video and not audio:
            raise ValueError("a recording needs a stream")
        self.flush_interval = flush_interval
        self.video = TrackWriter(self, "video", on_keyframe_needed) if video else None
        self.audio = TrackWriter(self, "audio") if audio else None
        self.epoch: float = 0.0  # arrival time (monotonic) of the file's first packet
        self.closed = False
        self.write_errors = 0  # writes that failed on the writer's thread
        self.first_error: Exception | None = None
        self._writer = writer
        self._started = False
        self._opened = False  # the file's creation is done or queued
        self._create_failed = False  # set by the disk work: there is no file after all
        self._pending: list[tuple[TrackWriter, int, Frame]] = []
        # Touched only by the disk work (the writer's thread, if there is one):
        self._container: OutputContainer | None = None
        self._streams: dict[str, Stream] = {}

    @classmethod
    def programme(cls, path: str | Path, **kwargs: object) -> ContainerWriter:
        """The floor programme: VP8 + Opus in one WebM/Matroska file."""
        return cls(path, video=True, audio=True, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def channel(cls, path: str | Path, **kwargs: object) -> ContainerWriter:
        """A language channel: Opus only, Ogg (.ogg/.opus) or WebM (.webm) by extension."""
        return cls(path, video=False, audio=True, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def picture(cls, path: str | Path, **kwargs: object) -> ContainerWriter:
        """A sign-language channel: VP8 only, in WebM/Matroska."""
        return cls(path, video=True, audio=False, **kwargs)  # type: ignore[arg-type]

    @property
    def tracks(self) -> list[TrackWriter]:
        return [t for t in (self.video, self.audio) if t is not None]

    def started(self, arrival: float) -> None:
        if not self._started:
            self._started = True
            self.epoch = arrival

    def expire(self, now: float | None = None) -> None:
        """Write out what the tracks have held for reordering too long (see
        ``TrackWriter.expire``); the recorder calls this about once a second."""
        for track in self.tracks:
            track.expire(now)

    def write(self, track: TrackWriter, pts: int, frame: Frame) -> None:
        """Mux one frame (called by the tracks), or keep it until the header can be written."""
        if not self._opened:
            self._pending.append((track, pts, frame))
            if track.kind == "video" and frame.size is not None:
                self._open(frame.size)
            elif self.video is None:
                self._open(None)
            elif track.kind == "audio" and pts - self._pending[0][1] > HEADER_WAIT * track.clock:
                self._open(DEFAULT_SIZE)
            return
        self._disk(lambda: self._mux(track.kind, track.clock, pts, frame))

    @property
    def written(self) -> bool:
        """Whether the file exists: it is created with its first frame (with a writer: or
        will be, once the writer gets to it)."""
        return self._opened and not self._create_failed

    def close(self) -> None:
        """Finish the file: flush the tracks, write the trailer. Safe to call twice. A file
        that never got a frame is not created at all: a header alone is no playable file.
        With a writer, the trailer is queued: the file is finished once the writer has run."""
        if self.closed:
            return
        for track in self.tracks:
            track.close()
        if not self._opened and self._pending:
            self._open(DEFAULT_SIZE if self.video is not None else None)
        if self._opened:
            self._disk(self._finish)
        self.closed = True

    def sha256(self) -> str:
        """The SHA-256 (hex) of the finished file (with a writer: call it after the writer has
        run the trailer, on its thread or after ``WriterThread.wait``)."""
        if not self.closed:
            raise RuntimeError("the recording is not finished")
        if not self.written:
            raise RuntimeError("the recording got no frame: there is no file")
        digest = hashlib.sha256()
        with self.path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def _options(self) -> dict[str, str]:
        millis = max(1, round(self.flush_interval * 1000))
        options = {
            "flush_packets": "1",
            "max_interleave_delta": str(round(INTERLEAVE_DELAY * 1_000_000)),
        }
        if self.format == "ogg":
            options["page_duration"] = str(millis * 1000)  # microseconds
        else:
            options["cluster_time_limit"] = str(millis)
        return options

    # --- the disk work: inline, or jobs on the writer's thread ---------------------------------

    def _disk(self, job: Callable[[], None]) -> None:
        if self._writer is None:
            job()
        else:
            self._writer.submit(job, self._failed)

    def _failed(self, exc: Exception) -> None:
        """A write failed on the writer's thread: log it (the first with its traceback, then
        at 10, 100, 1000... failures, so a full disk does not flood the log) and keep it."""
        self.write_errors += 1
        if self.first_error is None:
            self.first_error = exc
            log.error("writing %s failed", self.path, exc_info=exc)
        elif math.log10(self.write_errors).is_integer():
            log.error(
                "writing %s: %d writes failed, the last: %s", self.path, self.write_errors, exc
            )

    def _open(self, size: tuple[int, int] | None) -> None:
        """Create the file with the frames kept so far (the decision is the caller's thread's,
        the creation is disk work)."""
        self._opened = True
        pending, self._pending = self._pending, []
        frames = [(track.kind, track.clock, pts, frame) for track, pts, frame in pending]
        self._disk(lambda: self._create(size, frames))

    def _create(
        self, size: tuple[int, int] | None, frames: list[tuple[str, int, int, Frame]]
    ) -> None:
        try:
            self._container = self._new_container(size)
        except BaseException:
            self._create_failed = True  # later frames are dropped, the file is not listed
            raise
        for kind, clock, pts, frame in frames:
            self._mux(kind, clock, pts, frame)

    def _new_container(self, size: tuple[int, int] | None) -> OutputContainer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(self.path), mode="w", format=self.format, options=self._options())
        if self.video is not None:
            width, height = size or DEFAULT_SIZE
            video = container.add_mux_stream("vp8", width=width, height=height)
            video.time_base = Fraction(1, 1000)
            self._streams["video"] = video
        if self.audio is not None:
            # An encoder context (never fed) because Ogg and Matroska need the Opus
            # identification header as the stream's extradata, which libopus writes on open.
            audio = container.add_stream("libopus", rate=AUDIO_CLOCK)
            audio.layout = "stereo"  # WebRTC's opus/48000/2: a decoder takes mono packets too
            self._streams["audio"] = audio
        container.start_encoding()
        return container

    def _mux(self, kind: str, clock: int, pts: int, frame: Frame) -> None:
        if self._container is None:
            return  # the file could not be created: that failure is reported already
        packet = av.Packet(frame.data)
        packet.stream = self._streams[kind]
        packet.time_base = Fraction(1, clock)
        packet.pts = packet.dts = pts
        packet.is_keyframe = frame.keyframe
        if kind == "audio":
            packet.duration = opus_duration(frame.data)
        self._container.mux(packet)

    def _finish(self) -> None:
        if self._container is not None:
            container, self._container = self._container, None
            container.close()


def opus_duration(packet: bytes) -> int:
    """Samples at 48 kHz in an Opus packet, from its TOC byte (RFC 6716 §3.1)."""
    if not packet:
        return 0
    config, code = packet[0] >> 3, packet[0] & 0x03
    if config < 12:  # SILK: 10, 20, 40, 60 ms
        size = (480, 960, 1920, 2880)[config % 4]
    elif config < 16:  # hybrid: 10, 20 ms
        size = (480, 960)[config % 2]
    else:  # CELT: 2.5, 5, 10, 20 ms
        size = (120, 240, 480, 960)[config % 4]
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        count = packet[1] & 0x3F if len(packet) > 1 else 0
    return size * count
