"""One recording of one conference: the files, the timeline marks and ``manifest.json``.

A ``RecordingSession`` owns a directory and writes, from forwarded RTP packets (no decoding):

- ``floor.webm``: the floor programme, VP8 + Opus (``ContainerWriter.programme``), fed by the
  slots ``programme.video`` and ``programme.audio``;
- ``floor-audio.ogg``: the same floor voice again, Opus alone. FFmpeg's interleaver holds all
  of a two-stream file's packets while its VP8 stream is idle (see ``recordings.recorder``):
  while nobody's camera is on the floor, ``floor.webm`` gets its sound only when a picture
  returns or the file is finished, and a crash then would lose it. The audio-only file never
  waits for anything, so the floor is always heard up to the last seconds;
- ``<code>.ogg`` per language: that language's channel (``interpretation.audio``), Opus.
  While its booth is silent (nobody on air, or the floor speaks the booth's language) the
  channel carries nothing and the file has a gap there (listeners hear the floor then).

Each file's time 0 is its first packet's arrival; the manifest gives that as ``starts_at``,
seconds after the recording started (the floor's and the channels' files line up with it).
Marks (agenda items, floor and on-air changes, signings, notes) are kept as offsets from the
start. ``manifest.json`` is rewritten atomically (a temporary file and ``os.replace``) at the
start, at each mark, at most every ``MANIFEST_INTERVAL`` seconds from ``expire()`` and at the
close, so a killed process leaves a manifest that parses and names every file. ``close()``
finishes the files, reads their durations back with PyAV and hashes them (SHA-256). A file
is created with its first frame: a channel that carried nothing has no file (a header alone
would be a file no player opens).

Nothing here imports ``rooms`` or ``server``: the caller feeds packets and marks.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
from aiortc.rtp import RtpPacket

from recordings.recorder import ContainerWriter, TrackWriter

log = logging.getLogger(__name__)

FLOOR = "floor"
MARK_KINDS = ("agenda", "floor", "on_air", "signing", "note")
MANIFEST = "manifest.json"
MANIFEST_INTERVAL = 5.0  # seconds between manifest rewrites while recording (marks: at once)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
FLOOR_VIDEO, FLOOR_AUDIO, CHANNEL_AUDIO = (
    "programme.video",
    "programme.audio",
    "interpretation.audio",
)
MEDIA_TYPES = {".webm": "video/webm", ".ogg": "audio/ogg"}


@dataclass(frozen=True)
class RecordedFile:
    channel: str  # "floor" or a language code
    name: str  # file name inside the recording's directory, e.g. "floor.webm", "lo.ogg"
    media_type: str  # "video/webm" or "audio/ogg"
    size: int
    duration: float | None
    sha256: str | None  # set once finished


@dataclass
class _Output:
    """One file of the recording and what it has seen."""

    channel: str
    file: ContainerWriter
    starts_at: float | None = None  # offset of the file's time 0 (its first packet)
    duration: float | None = None
    sha256: str | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.file.path.name

    def size(self) -> int:
        try:
            return self.file.path.stat().st_size
        except FileNotFoundError:
            return 0

    def recorded(self) -> RecordedFile:
        media_type = MEDIA_TYPES[self.file.path.suffix]
        return RecordedFile(
            self.channel, self.name, media_type, self.size(), self.duration, self.sha256
        )

    def describe(self) -> dict[str, Any]:
        row: dict[str, Any] = asdict(self.recorded())
        row["starts_at"] = self.starts_at
        row["streams"] = {track.kind: asdict(track.counts) for track in self.file.tracks}
        if self.error is not None:
            row["error"] = self.error
        return row


class RecordingSession:
    """A conference's recording in ``directory``: feed ``packet()``, call ``expire()`` every
    ~0.25 s, ``mark()`` what happens, ``close()`` at the end (safe twice)."""

    def __init__(
        self,
        directory: Path,
        languages: Sequence[str],
        started_at: datetime.datetime,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if started_at.tzinfo is None or started_at.utcoffset() is None:
            raise ValueError("started_at must be an aware datetime (UTC)")
        wrong = [code for code in languages if not LANGUAGE_CODE.fullmatch(code)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not a language code (like 'lo' or 'vi')")
        if len(set(languages)) != len(languages):
            raise ValueError("a language is listed twice")
        directory = Path(directory)
        names = [MANIFEST, "floor.webm", "floor-audio.ogg"] + [f"{c}.ogg" for c in languages]
        existing = [name for name in names if (directory / name).exists()]
        if existing:
            raise ValueError(f"{directory} already holds a recording ({existing[0]})")
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"{directory} is not a directory")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.languages = list(languages)
        self.started_at = started_at.astimezone(datetime.UTC)
        self._clock = clock
        self._start = clock()
        self._stopped: float | None = None
        self._marks: list[dict[str, Any]] = []
        self._programme = _Output(FLOOR, ContainerWriter.programme(directory / "floor.webm"))
        self._floor_audio = _Output(FLOOR, ContainerWriter.channel(directory / "floor-audio.ogg"))
        self._channels = {
            code: _Output(code, ContainerWriter.channel(directory / f"{code}.ogg"))
            for code in languages
        }
        self._written_at = -math.inf
        self._files: list[RecordedFile] | None = None
        self._write_manifest()

    @property
    def outputs(self) -> list[_Output]:
        return [self._programme, self._floor_audio, *self._channels.values()]

    def recorded(self) -> list[RecordedFile]:
        """The files there are: a channel that carried nothing (a booth nobody spoke in) has
        no file, and the manifest still lists it in ``channels``."""
        return [output.recorded() for output in self.outputs if output.file.written]

    # --- recording -----------------------------------------------------------------------------

    def packet(self, channel: str, slot: str, packet: RtpPacket) -> None:
        """A forwarded packet of ``channel``'s ``slot``: "floor" with "programme.video" or
        "programme.audio", a language code with "interpretation.audio"."""
        if self._files is not None:
            return  # finished: a packet still in flight is dropped
        now = self._clock()
        if channel == FLOOR and slot == FLOOR_VIDEO:
            self._push(self._programme, self._programme.file.video, packet, now)
        elif channel == FLOOR and slot == FLOOR_AUDIO:
            self._push(self._programme, self._programme.file.audio, packet, now)
            self._push(self._floor_audio, self._floor_audio.file.audio, packet, now)
        elif channel in self._channels and slot == CHANNEL_AUDIO:
            output = self._channels[channel]
            self._push(output, output.file.audio, packet, now)
        elif channel != FLOOR and channel not in self._channels:
            raise ValueError(f"this recording has no channel {channel!r}")
        else:
            raise ValueError(f"channel {channel!r} does not record slot {slot!r}")

    def _push(
        self, output: _Output, track: TrackWriter | None, packet: RtpPacket, now: float
    ) -> None:
        assert track is not None
        if output.starts_at is None:
            output.starts_at = round(now - self._start, 3)
        track.push(packet, arrival=now)

    def wants_keyframe(self, channel: str) -> bool:
        """The floor video drops frames until a key frame: ask the publisher for one."""
        video = self._programme.file.video
        return (
            channel == FLOOR and self._files is None and video is not None and video.needs_keyframe
        )

    def mark(self, kind: str, **data: Any) -> None:
        """A timeline mark at the current offset; the manifest is rewritten at once."""
        if kind not in MARK_KINDS:
            raise ValueError(f"unknown mark kind {kind!r}: one of {', '.join(MARK_KINDS)}")
        if {"at", "kind"} & data.keys():
            raise ValueError("a mark's data cannot be named 'at' or 'kind'")
        try:
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a mark's data must be plain JSON values: {exc}") from None
        if self._files is not None:
            raise RuntimeError("the recording is finished: no more marks")
        self._marks.append({"at": round(self.offset(), 3), "kind": kind, **data})
        self._write_manifest()

    def offset(self) -> float:
        """Seconds since the recording started (frozen once closed)."""
        end = self._clock() if self._stopped is None else self._stopped
        return end - self._start

    def expire(self) -> None:
        """Pass on packets held for reordering too long; rewrite the manifest now and then."""
        if self._files is not None:
            return
        now = self._clock()
        for output in self.outputs:
            output.file.expire(now)
        if now - self._written_at >= MANIFEST_INTERVAL:
            self._write_manifest()

    # --- the end -------------------------------------------------------------------------------

    def close(self) -> list[RecordedFile]:
        """Finish every file, read its duration, hash it, write the manifest; safe twice."""
        if self._files is not None:
            return self._files
        self._stopped = self._clock()
        errors: list[Exception] = []
        for output in self.outputs:
            try:
                output.file.close()
                if output.file.written:
                    output.duration = media_duration(output.file.path)
                    output.sha256 = output.file.sha256()
            except Exception as exc:  # one broken file must not cost the others
                log.exception("finishing %s failed", output.file.path)
                output.error = str(exc) or type(exc).__name__
                errors.append(exc)
        self._files = self.recorded()
        self._write_manifest()
        if errors:
            raise errors[0]
        return self._files

    # --- the manifest --------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        stopped_at = None
        if self._stopped is not None:
            stopped = self.started_at + datetime.timedelta(seconds=self._stopped - self._start)
            stopped_at = stopped.isoformat()
        return {
            "version": 1,
            "started_at": self.started_at.isoformat(),
            "stopped_at": stopped_at,
            "duration": round(self.offset(), 3),
            "channels": [FLOOR, *self.languages],
            "files": [output.describe() for output in self.outputs if output.file.written],
            "marks": list(self._marks),
        }

    def _write_manifest(self) -> None:
        self._written_at = self._clock()
        target = self.directory / MANIFEST
        temporary = self.directory / f".{MANIFEST}.tmp"
        text = json.dumps(self.manifest(), indent=2, ensure_ascii=False)
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, target)


def media_duration(path: Path) -> float | None:
    """Seconds of media in a finished file as PyAV reads it: the container's duration, else
    the end of its last packet (None when it holds no media)."""
    try:
        return _read_duration(path)
    except av.error.FFmpegError:
        log.exception("cannot read the duration of %s", path)
        return None


def _read_duration(path: Path) -> float | None:
    with av.open(str(path)) as container:
        if container.duration is not None and container.duration > 0:
            return round(container.duration / av.time_base, 3)
        end: float | None = None
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            stop = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = stop if end is None else max(end, stop)
        return None if end is None else round(end, 3)
