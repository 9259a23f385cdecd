"""The recording's writer thread: jobs in order, a close that loses nothing, and failures that
are reported (logged, in the manifest, raised by the close) instead of swallowed."""

from __future__ import annotations

import datetime as dt
import errno
import functools
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
from aiortc.rtp import RtpPacket

from recordings.session import RecordingSession
from recordings.writer_thread import WriterThread

OPUS_20MS = b"\xfc" + bytes(120)  # TOC: CELT fullband 20 ms, one frame (never decoded here)


def test_jobs_run_in_order_on_one_thread_and_close_waits_for_them() -> None:
    writer = WriterThread("test-writer")
    done: list[int] = []
    threads: set[int] = set()
    failures: list[Exception] = []

    def job(n: int) -> None:
        if n == 0:
            time.sleep(0.05)  # a stalled write: the others queue behind it
        threads.add(threading.get_ident())
        done.append(n)
        if n == 7:
            raise OSError(errno.EIO, "a bad write")

    for n in range(50):
        writer.submit(functools.partial(job, n), failures.append)
    assert writer.backlog > 0
    writer.close()  # returns only once everything queued has run
    assert done == list(range(50)), "a failure does not stop the writes after it"
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert [str(f) for f in failures] == ["[Errno 5] a bad write"]
    assert writer.backlog == 0
    writer.close()  # twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        writer.submit(lambda: None, failures.append)


class FullDisk(io.FileIO):
    """A file whose disk fills up after ``room`` bytes."""

    def __init__(self, path: str, room: int) -> None:
        super().__init__(path, "w")
        self.room = room

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(data)


def test_a_failing_disk_is_logged_put_in_the_manifest_and_raised_by_the_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_open: Callable[..., Any] = av.open
    full: list[FullDisk] = []  # closed here: av leaves closing a file it was given to its owner

    def open_on_a_full_disk(file: Any, mode: str = "r", **kwargs: Any) -> Any:
        if mode == "w" and str(file).endswith("lo.ogg"):
            full.append(FullDisk(str(file), room=2000))
            return real_open(full[-1], mode, **kwargs)
        return real_open(file, mode, **kwargs)

    monkeypatch.setattr(av, "open", open_on_a_full_disk)
    directory = tmp_path / "r"
    recording = RecordingSession(directory, ["lo"], dt.datetime.now(dt.UTC))
    for n in range(300):  # 6 s of 20 ms packets, on the floor and in the Lao channel
        for channel, slot in (("floor", "programme.audio"), ("lo", "interpretation.audio")):
            packet = RtpPacket(111, 0, n, 960 * n, 1, OPUS_20MS)
            recording.packet(channel, slot, packet)
    recording.expire()
    with caplog.at_level(logging.ERROR), pytest.raises(OSError, match="No space left"):
        recording.close()
    for file in full:
        file.close()
    assert f"writing {directory / 'lo.ogg'} failed" in caplog.text
    assert "No space left on device" in caplog.text

    manifest = json.loads((directory / "manifest.json").read_text())
    rows = {row["name"]: row for row in manifest["files"]}
    assert sorted(rows) == ["floor-audio.ogg", "floor.webm", "lo.ogg"]
    assert "write(s) failed, the first: [Errno 28] No space left" in rows["lo.ogg"]["error"]
    for name in ("floor.webm", "floor-audio.ogg"):  # the other files are finished all the same
        assert "error" not in rows[name] and rows[name]["sha256"] and rows[name]["duration"]
        assert rows[name]["size"] == (directory / name).stat().st_size
    files = recording.close()  # the second close returns what the first found, no raise
    assert [f.name for f in files] == ["floor.webm", "floor-audio.ogg", "lo.ogg"]
    assert recording.manifest() == manifest
