"""What the C allocator holds (glibc's ``mallinfo2``), beside what Python traces.

tracemalloc sees Python's allocations only; RSS sees everything, including memory that
glibc's malloc keeps after it was freed (free chunks inside its heaps that it has not given
back) and what C libraries (OpenSSL, libsrtp, libvpx) allocate themselves. ``mallinfo2``
tells those apart: bytes in use in malloc's heaps, bytes free in them, and bytes in chunks
mmapped one by one. A RSS that grows while "in use" stays level is the allocator keeping
freed memory, not a leak. Linux with glibc ≥ 2.33 only; elsewhere the figures are None.

That is what a room does to a node (issue 20): forwarding keeps each sender's last 512
packets for retransmissions, so packets of every size live for tens of seconds among the
short-lived ones, the free space in malloc's main heap is cut into pieces too small to reuse,
and the heap grows at its top while the memory in use stays level (8 sites: about 8 MB an
hour, level only after some 45 minutes). glibc gives back only the free space at the very top
of its heap by itself; ``malloc_trim(0)`` also returns the whole free pages inside it.
``HeapTrimmer`` calls it once a minute (about a millisecond for a 40 MB heap), in the server
and in ``simulate-sites``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import sys
import time
from typing import Any

log = logging.getLogger(__name__)

TRIM_EVERY = 60.0
"""Seconds between two ``malloc_trim(0)`` calls."""


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",  # bytes obtained from the system for the heaps (not mmapped chunks)
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",  # bytes in chunks mmapped one by one
            "usmblks",
            "fsmblks",
            "uordblks",  # bytes in use in the heaps
            "fordblks",  # bytes free in the heaps
            "keepcost",  # of those, at the top of the main heap (trimmable at once)
        )
    ]


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallinfo2") else None


def malloc_figures() -> dict[str, Any] | None:
    """The C heap's figures in bytes, and Python's count of allocated object blocks."""
    libc = _libc()
    if libc is None:
        return None
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return {
        "heap_bytes": info.arena,
        "in_use_bytes": info.uordblks,
        "free_bytes": info.fordblks,
        "top_free_bytes": info.keepcost,
        "mmapped_bytes": info.hblkhd,
        "python_blocks": sys.getallocatedblocks(),
    }


class HeapTrimmer:
    """Returns the C heap's free pages to the system every ``every`` seconds (see above);
    a task owned by this object, started by ``start`` and cancelled by ``close``."""

    def __init__(self, every: float = TRIM_EVERY) -> None:
        self.every = every
        self.trims = 0
        self.slowest = 0.0  # seconds the longest trim took
        self._libc = _libc()
        self._task: asyncio.Task[None] | None = None

    @property
    def available(self) -> bool:
        return self._libc is not None and hasattr(self._libc, "malloc_trim")

    def start(self) -> None:
        if self.available and self._task is None:
            self._task = asyncio.create_task(self._run(), name="heap-trimmer")

    def trim(self) -> None:
        """One trim, now (it holds each heap's lock for its duration: about a millisecond)."""
        if not self.available:
            return
        assert self._libc is not None
        began = time.perf_counter()
        self._libc.malloc_trim(0)
        took = time.perf_counter() - began
        self.trims += 1
        self.slowest = max(self.slowest, took)
        log.debug("malloc_trim took %.1f ms", took * 1000)

    def figures(self) -> dict[str, Any]:
        return {"trims": self.trims, "slowest_ms": round(self.slowest * 1000, 2)}

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.trim()

    async def close(self) -> None:
        """Stop trimming (safe to call twice)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
