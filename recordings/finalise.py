"""Finishing what a killed recorder left: a WebM without its duration is remuxed, and every
file's duration is read from the media itself.

A recorder killed mid-recording leaves Matroska written "live style" (``recordings.containers``):
playable to its last complete cluster, but with neither a duration nor cues, so players show
no length and cannot seek. ``finalise_webm`` copies its packets unchanged into a new file with
the installed ``ffmpeg`` (``-c copy``: no decoding, the same media bytes) and swaps it in
atomically (a temporary file beside it, fsynced, then ``os.replace``), only once the copy
reads back with a duration. The caller hashes the file after this, so whatever is attested
is the file that is kept.

Nothing here imports ``rooms`` or ``server``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av

from recordings.session import media_duration

log = logging.getLogger(__name__)

REMUX_TIMEOUT = 600.0
"""Seconds a remux may take (a copy: about the time to read and write the file)."""


@dataclass(frozen=True)
class Remuxed:
    """A file replaced by its remux: what it was before (the remux keeps every packet)."""

    name: str
    size_before: int
    sha256_before: str
    duration: float


def has_duration(path: Path) -> bool:
    """Whether the container states its duration (a finished file does; a killed one not)."""
    try:
        with av.open(str(path)) as container:
            return container.duration is not None and container.duration > 0
    except av.error.FFmpegError:
        return False


def _unfinished(path: Path) -> bool:
    """Readable, holds media, but states no duration."""
    try:
        with av.open(str(path)) as container:
            if container.duration is not None and container.duration > 0:
                return False
            return any(packet.size for packet in container.demux())
    except av.error.FFmpegError:
        return False


def finalise_webm(path: Path, ffmpeg: str | None = None) -> Remuxed | None:
    """Remux an unfinished WebM in place so that it carries its duration and cues; None when
    it needs none (finished already, unreadable, no media) or the remux did not work."""
    if not _unfinished(path):
        return None
    binary = ffmpeg or shutil.which("ffmpeg")
    if binary is None:
        log.warning("%s has no duration, and there is no ffmpeg to finalise it", path)
        return None
    temporary = path.with_name(f".{path.name}.remux")
    before = path.stat().st_size, _sha256(path)
    command = [binary, "-nostdin", "-v", "error", "-y", "-i", str(path)]
    command += ["-map", "0", "-c", "copy", "-f", "webm", str(temporary)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=REMUX_TIMEOUT)
        duration = media_duration(temporary) if temporary.exists() else None
        if done.returncode != 0 or duration is None or not has_duration(temporary):
            log.warning("could not finalise %s: %s", path, done.stderr.strip()[-500:])
            return None
        _fsync(temporary)
        os.replace(temporary, path)
        _fsync(path.parent)
    except (OSError, subprocess.SubprocessError):
        log.exception("could not finalise %s", path)
        return None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
    log.info("finalised %s: %.3f s", path, duration)
    return Remuxed(path.name, before[0], before[1], duration)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
