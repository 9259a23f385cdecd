"""``WriterThread``: the one thread that does a recording's disk writes, in order.

The recorder is fed on the event loop (every forwarded packet is a callback there), but
muxing a frame into a container file, and rewriting ``manifest.json``, are writes to disk:
usually a few microseconds in the page cache, sometimes tens or hundreds of milliseconds
(writeback throttling, a slow or network disk), and every packet of every room on the node
would wait for them. So the loop does only what is cheap and stateful (reordering,
depacketising, deciding what to write) and hands each write to this thread as a job.

- One thread per recording (a single-worker ``ThreadPoolExecutor``): jobs run one at a time
  in the order they were submitted, so each file gets its packets in order, the trailer after
  the last packet, and a manifest rewrite after the writes that came before it.
- A failing job does not stop the ones after it (one rejected packet must not end a file):
  its ``failed`` callback, run on this thread, logs it and keeps it for the owner to report.
- ``close()`` waits for every job already queued (nothing is lost) and ends the thread; it is
  safe to call twice. Submitting after it is a programming error and raises.
- PyAV holds the GIL while it writes a file's header and trailer (once per file), so those
  two writes can still hold the loop up if the disk stalls just then; the frames are muxed
  with the GIL released.
- A killed process loses the jobs still queued: normally a few milliseconds of packets, more
  only while the disk is stalling (see ``backlog``), on top of what ``recordings.containers``
  says a kill may lose.

Nothing here imports ``rooms`` or ``server``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKLOG_WARNING = 2000
"""Queued jobs (about ten seconds of a recording's packets) that make the writer warn once:
the disk does not keep up, and memory grows with the queue."""


class WriterThread:
    """Runs a recording's disk writes on one thread, in submission order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()  # guards _queued (changed here and on the thread)
        self._queued = 0
        self._warned = False
        self.closed = False

    @property
    def backlog(self) -> int:
        """Jobs submitted and not finished yet."""
        return self._queued

    def submit(self, job: Callable[[], object], failed: Callable[[Exception], None]) -> None:
        """Queue ``job``; it runs after every job submitted before it. If it raises, ``failed``
        gets the exception on the writer's thread (and should log and remember it)."""
        if self.closed:
            raise RuntimeError(f"{self.name}: the writer is closed")
        with self._lock:
            self._queued += 1
            queued = self._queued
        if queued >= BACKLOG_WARNING and not self._warned:
            self._warned = True
            log.warning("%s: %d writes queued: the disk does not keep up", self.name, queued)
        self._executor.submit(self._run, job, failed)

    def call(self, job: Callable[[], T]) -> T:
        """Queue ``job`` after every job submitted so far, wait for it (blocking the calling
        thread: not the event loop's) and return its result or raise its exception."""
        if self.closed:
            raise RuntimeError(f"{self.name}: the writer is closed")
        future: Future[T] = self._executor.submit(job)
        return future.result()

    def wait(self) -> None:
        """Block until every job submitted so far has run."""
        self.call(lambda: None)

    def close(self) -> None:
        """Run what is queued, then end the thread; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        self._executor.shutdown(wait=True)

    def _run(self, job: Callable[[], object], failed: Callable[[Exception], None]) -> None:
        try:
            job()
        except Exception as exc:
            try:
                failed(exc)
            except Exception:  # the report itself broke: still never silent
                log.exception("%s: a write failed, and so did reporting it", self.name)
        finally:
            with self._lock:
                self._queued -= 1
                if self._queued == 0:
                    self._warned = False
