"""One recording of one conference: the files, the timeline marks and ``manifest.json``.

A ``RecordingSession`` owns a directory and writes, from forwarded RTP packets (no decoding):

- ``floor.webm``: the floor programme, VP8 + Opus (``ContainerWriter.programme``), fed by the
  slots ``programme.video`` and ``programme.audio``;
- ``floor-audio.ogg``: the same floor voice again, Opus alone. FFmpeg's interleaver holds all
  of a two-stream file's packets while its VP8 stream is idle (see ``recordings.containers``):
  while nobody's camera is on the floor, ``floor.webm`` gets its sound only when a picture
  returns or the file is finished, and a crash then would lose it. The audio-only file never
  waits for anything, so the floor is always heard up to the last seconds;
- ``<code>.ogg`` per language: that language's channel (``interpretation.audio``), Opus.
  While its booth is silent (nobody on air, or the floor speaks the booth's language) the
  channel carries nothing and the file has a gap there (listeners hear the floor then);
- ``<code>.webm`` per sign language: its booth's interpreter on camera (``sign.video``), VP8
  alone, with a gap while nobody in that booth is on air.

Each file's time 0 is its first packet's arrival; the manifest gives that as ``starts_at``,
seconds after the recording started (the floor's and the channels' files line up with it).
Marks (agenda items, floor and on-air changes, signings, notes) are kept as offsets from the
start. ``manifest.json`` is rewritten atomically (a temporary file and ``os.replace``) at the
start, at each mark, at most every ``MANIFEST_INTERVAL`` seconds from ``expire()`` and at the
close, so a killed process leaves a manifest that parses and names every file. ``close()``
finishes the files, reads their durations back with PyAV and hashes them (SHA-256). A file
is created with its first frame: a channel that carried nothing has no file (a header alone
would be a file no player opens).

The disk is not written on the caller's thread (the event loop's, in a live recording): the
session owns a ``recordings.writer_thread.WriterThread`` that muxes every file's frames, in
order, and rewrites the manifest after them (the caller takes the manifest's snapshot, the
thread adds the file sizes and writes it). A write that fails there is logged at once, kept,
and reported by ``close()``: in the file's manifest row (``error``) and as the exception it
raises once everything else is finished. Only the constructor writes on the caller's thread
(the first manifest, so that a directory it cannot write fails the start), and ``close()``
blocks until the writer is done: call it off the event loop.

Nothing here imports ``rooms`` or ``server``: the caller feeds packets and marks.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
from aiortc.rtp import RtpPacket

from recordings.containers import ContainerWriter, TrackWriter
from recordings.writer_thread import WriterThread

log = logging.getLogger(__name__)

FLOOR = "floor"
MARK_KINDS = ("agenda", "floor", "on_air", "signing", "note")
MANIFEST = "manifest.json"
MANIFEST_INTERVAL = 5.0  # seconds between manifest rewrites while recording (marks: at once)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
FLOOR_VIDEO, FLOOR_AUDIO, CHANNEL_AUDIO, SIGN_VIDEO = (
    "programme.video",
    "programme.audio",
    "interpretation.audio",
    "sign.video",
)
MEDIA_TYPES = {".webm": "video/webm", ".ogg": "audio/ogg"}


@dataclass(frozen=True)
class RecordedFile:
    channel: str  # "floor" or a language code (spoken or signed)
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

    def recorded(self) -> RecordedFile:
        """The file as it is on disk (its size read from there: a blocking call)."""
        media_type = MEDIA_TYPES[self.file.path.suffix]
        return RecordedFile(
            self.channel,
            self.name,
            media_type,
            file_size(self.file.path),
            self.duration,
            self.sha256,
        )

    def describe(self) -> dict[str, Any]:
        """The file's manifest row, without reading the disk: ``size`` is filled in by
        whoever writes the manifest (``RecordingSession._sized``)."""
        row: dict[str, Any] = {
            "channel": self.channel,
            "name": self.name,
            "media_type": MEDIA_TYPES[self.file.path.suffix],
            "size": None,
            "duration": self.duration,
            "sha256": self.sha256,
            "starts_at": self.starts_at,
        }
        row["streams"] = {track.kind: asdict(track.counts) for track in self.file.tracks}
        if self.error is not None:
            row["error"] = self.error
        return row


class RecordingSession:
    """A conference's recording in ``directory``: feed ``packet()``, call ``expire()`` every
    ~0.25 s, ``mark()`` what happens, ``close()`` at the end (safe twice; it ends the writer's
    thread)."""

    def __init__(
        self,
        directory: Path,
        languages: Sequence[str],
        started_at: datetime.datetime,
        clock: Callable[[], float] = time.monotonic,
        *,
        sign_languages: Sequence[str] = (),
    ) -> None:
        if started_at.tzinfo is None or started_at.utcoffset() is None:
            raise ValueError("started_at must be an aware datetime (UTC)")
        every = [*languages, *sign_languages]
        wrong = [code for code in every if not LANGUAGE_CODE.fullmatch(code)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not a language code (like 'lo' or 'vi')")
        if len(set(every)) != len(every):
            raise ValueError("a language is listed twice")
        directory = Path(directory)
        names = [MANIFEST, "floor.webm", "floor-audio.ogg"] + [f"{c}.ogg" for c in languages]
        names += [f"{c}.webm" for c in sign_languages]
        existing = [name for name in names if (directory / name).exists()]
        if existing:
            raise ValueError(f"{directory} already holds a recording ({existing[0]})")
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"{directory} is not a directory")
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.languages = list(languages)
        self.sign_languages = list(sign_languages)
        self.started_at = started_at.astimezone(datetime.UTC)
        self._clock = clock
        self._start = clock()
        self._stopped: float | None = None
        self._marks: list[dict[str, Any]] = []
        # No thread runs until the first write is queued: nothing to stop if this fails.
        self._writer = WriterThread(f"recording {directory}")
        writer = self._writer
        self._programme = _Output(
            FLOOR, ContainerWriter.programme(directory / "floor.webm", writer=writer)
        )
        self._floor_audio = _Output(
            FLOOR, ContainerWriter.channel(directory / "floor-audio.ogg", writer=writer)
        )
        self._channels = {
            code: _Output(code, ContainerWriter.channel(directory / f"{code}.ogg", writer=writer))
            for code in languages
        }
        self._signs = {
            code: _Output(code, ContainerWriter.picture(directory / f"{code}.webm", writer=writer))
            for code in sign_languages
        }
        self._files: list[RecordedFile] | None = None
        self._final: dict[str, Any] | None = None  # the manifest written at the close
        self._close_lock = threading.Lock()  # two threads closing at once: the second waits
        self._written_at = self._clock()
        self._store_manifest(self._snapshot())  # here, not queued: a failure fails the start

    @property
    def outputs(self) -> list[_Output]:
        return [self._programme, self._floor_audio, *self._channels.values(), *self._signs.values()]

    def recorded(self) -> list[RecordedFile]:
        """The files there are: a channel that carried nothing (a booth nobody spoke in) has
        no file, and the manifest still lists it in ``channels``. Once closed, as the close
        found them; before, their sizes are read from disk (a blocking call)."""
        if self._files is not None:
            return self._files
        return [output.recorded() for output in self.outputs if output.file.written]

    # --- recording -----------------------------------------------------------------------------

    def packet(self, channel: str, slot: str, packet: RtpPacket) -> None:
        """A forwarded packet of ``channel``'s ``slot``: "floor" with "programme.video" or
        "programme.audio", a language code with "interpretation.audio", a sign language's with
        "sign.video"."""
        if self._stopped is not None:
            return  # finishing or finished: a packet still in flight is dropped
        now = self._clock()
        if channel == FLOOR and slot == FLOOR_VIDEO:
            self._push(self._programme, self._programme.file.video, packet, now)
        elif channel == FLOOR and slot == FLOOR_AUDIO:
            self._push(self._programme, self._programme.file.audio, packet, now)
            self._push(self._floor_audio, self._floor_audio.file.audio, packet, now)
        elif channel in self._channels and slot == CHANNEL_AUDIO:
            output = self._channels[channel]
            self._push(output, output.file.audio, packet, now)
        elif channel in self._signs and slot == SIGN_VIDEO:
            output = self._signs[channel]
            self._push(output, output.file.video, packet, now)
        elif channel != FLOOR and channel not in self._channels and channel not in self._signs:
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
        """The floor's or a sign language's video drops frames until a key frame: ask its
        publisher for one."""
        output = self._programme if channel == FLOOR else self._signs.get(channel)
        video = output.file.video if output is not None else None
        return self._stopped is None and video is not None and video.needs_keyframe

    def mark(self, kind: str, **data: Any) -> None:
        """A timeline mark at the current offset; the manifest rewrite is queued at once."""
        if kind not in MARK_KINDS:
            raise ValueError(f"unknown mark kind {kind!r}: one of {', '.join(MARK_KINDS)}")
        if {"at", "kind"} & data.keys():
            raise ValueError("a mark's data cannot be named 'at' or 'kind'")
        try:
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a mark's data must be plain JSON values: {exc}") from None
        if self._stopped is not None:
            raise RuntimeError("the recording is finished: no more marks")
        self._marks.append({"at": round(self.offset(), 3), "kind": kind, **data})
        self._write_manifest()

    def offset(self) -> float:
        """Seconds since the recording started (frozen once closed)."""
        end = self._clock() if self._stopped is None else self._stopped
        return end - self._start

    def expire(self) -> None:
        """Pass on packets held for reordering too long; rewrite the manifest now and then."""
        if self._stopped is not None:
            return
        now = self._clock()
        for output in self.outputs:
            output.file.expire(now)
        if now - self._written_at >= MANIFEST_INTERVAL:
            self._write_manifest()

    # --- the end -------------------------------------------------------------------------------

    def wait_for_writes(self) -> None:
        """Block until everything queued so far is on disk (for a reader that must see it)."""
        if not self._writer.closed:
            self._writer.wait()

    def close(self) -> list[RecordedFile]:
        """Finish every file, read its duration, hash it, write the manifest; safe twice.

        It blocks until the writer has run every queued write and the finishing (off the event
        loop: ``asyncio.to_thread``), then ends the writer's thread. A file that could not be
        written (now or while recording) has the first error in its manifest row, and the
        first of all errors is raised once everything else is finished and written."""
        with self._close_lock:
            if self._files is not None:
                return self._files
            return self._close()

    def _close(self) -> list[RecordedFile]:
        if self._stopped is None:
            self._stopped = self._clock()
        errors: list[Exception] = []
        for output in self.outputs:
            try:
                output.file.close()  # the tracks' last frames and the trailer: queued
            except Exception as exc:  # one broken file must not cost the others
                log.exception("finishing %s failed", output.file.path)
                output.error = str(exc) or type(exc).__name__
                errors.append(exc)
        try:
            if not self._writer.closed:  # else a first close() broke off: list what is there
                self._writer.call(lambda: self._finish(errors))
        finally:
            self._writer.close()
        if self._files is None:
            self._files = [output.recorded() for output in self.outputs if output.file.written]
        if errors:
            raise errors[0]
        return self._files

    def _finish(self, errors: list[Exception]) -> None:
        """On the writer's thread, after every write: durations, hashes, the last manifest."""
        for output in self.outputs:
            file = output.file
            if file.first_error is not None:
                failed = f"{file.write_errors} write(s) failed, the first: {file.first_error}"
                output.error = output.error or failed
                errors.append(file.first_error)
            try:
                if file.written:
                    output.duration = media_duration(file.path)
                    output.sha256 = file.sha256()
            except Exception as exc:  # one broken file must not cost the others
                log.exception("finishing %s failed", file.path)
                output.error = output.error or str(exc) or type(exc).__name__
                errors.append(exc)
        self._files = [output.recorded() for output in self.outputs if output.file.written]
        self._final = self._snapshot()
        self._store_manifest(self._final)  # sizes it too

    # --- the manifest --------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """The manifest: as written at the close, or before that as it stands (its file sizes
        read from disk: a blocking call)."""
        if self._final is not None:
            return copy.deepcopy(self._final)
        return self._sized(self._snapshot())

    def _snapshot(self) -> dict[str, Any]:
        """The manifest from memory alone, ``size`` left out (see ``_Output.describe``)."""
        stopped_at = None
        if self._stopped is not None:
            stopped = self.started_at + datetime.timedelta(seconds=self._stopped - self._start)
            stopped_at = stopped.isoformat()
        return {
            "version": 1,
            "started_at": self.started_at.isoformat(),
            "stopped_at": stopped_at,
            "duration": round(self.offset(), 3),
            "channels": [FLOOR, *self.languages, *self.sign_languages],
            "files": [output.describe() for output in self.outputs if output.file.written],
            "marks": list(self._marks),
        }

    def _sized(self, manifest: dict[str, Any]) -> dict[str, Any]:
        for row in manifest["files"]:
            row["size"] = file_size(self.directory / row["name"])
        return manifest

    def _write_manifest(self) -> None:
        """Queue a rewrite of the manifest as it stands now (after the writes queued so far)."""
        self._written_at = self._clock()
        snapshot = self._snapshot()
        self._writer.submit(lambda: self._store_manifest(snapshot), self._manifest_failed)

    def _store_manifest(self, manifest: dict[str, Any]) -> None:
        """Write ``manifest`` atomically (a temporary file, then ``os.replace``)."""
        target = self.directory / MANIFEST
        temporary = self.directory / f".{MANIFEST}.tmp"
        text = json.dumps(self._sized(manifest), indent=2, ensure_ascii=False)
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, target)

    def _manifest_failed(self, exc: Exception) -> None:
        # The next rewrite (5 s on, a mark, the close) tries again; the close's failure raises.
        log.error("rewriting %s failed", self.directory / MANIFEST, exc_info=exc)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


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
