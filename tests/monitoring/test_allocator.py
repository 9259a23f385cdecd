"""The heap trimmer gives malloc's free pages back to the system (issue 20)."""

from __future__ import annotations

import asyncio
import ctypes

from server.allocator import HeapTrimmer, malloc_figures
from server.monitoring.memory import rss_bytes


def _fragment() -> list[bytes]:
    """Leave the heap full of small holes: allocate 80 MB in 2 KB pieces, keep every 16th."""
    pieces = [ctypes.string_at(b"x" * 2048, 2048) for _ in range(40_000)]
    return pieces[::16]


async def test_a_trim_returns_freed_pages_inside_the_heap() -> None:
    kept = _fragment()  # ~75 MB freed in holes between the kept pieces
    before = rss_bytes()
    heap = HeapTrimmer()
    assert heap.available
    heap.trim()
    after = rss_bytes()
    assert heap.trims == 1 and heap.slowest > 0
    # Most of the freed 75 MB was resident before the trim and is not after it.
    assert before - after > 30_000_000, (before, after, malloc_figures())
    assert len(kept) == 2_500


async def test_the_trimmer_runs_on_its_own_and_closes_twice() -> None:
    heap = HeapTrimmer(every=0.01)
    heap.start()
    await asyncio.sleep(0.1)
    await heap.close()
    await heap.close()
    counted = heap.trims
    assert counted >= 2
    await asyncio.sleep(0.05)
    assert heap.trims == counted  # stopped
