"""``GET /debug/memory``: what a node's memory holds, for soak runs (``python -m bench soak``).

Open to the same callers as ``/metrics`` (``HealthSettings.metrics_allow`` or its token). It reads:

- the process's resident memory (``/proc/self/statm``), open file descriptors and asyncio
  tasks (how many, and the most common names: a task left behind by each connection shows
  as a name whose count grows);
- the event loop's lag over the last 2 minutes (p99 and max, from ``LoopLag``);
- the C allocator's heaps: bytes in use and free in them (``allocator.malloc_figures``);
- what was allocated since a baseline and is still held, by file and line: ``?baseline=1``
  starts tracemalloc there (it costs CPU while it runs: for rehearsals and soak runs) and
  ``?stop=1`` stops it. Only allocations made after the baseline are traced, so each look is
  cheap (a node that traced everything from its start would copy every import's objects at
  each look, stalling its event loop for seconds), and what is traced is exactly what grew:
  in all, the part allocated by Concord's own files (``rooms/``, ``recordings/``,
  ``server/``), and the largest holders by line. A node started with ``PYTHONTRACEMALLOC``
  compares against a snapshot taken at the baseline instead (slow, but it works).

RSS alone cannot tell a leak from a cache that fills or an allocator that keeps its peak;
tracemalloc's growth by line can.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from server.allocator import malloc_figures
from server.keys import METRICS
from server.monitoring.scrapers import may_scrape
from server.route_table import PUBLIC, RouteTable

ROOT = Path(__file__).resolve().parents[2]
OWN = tuple(str(ROOT / part) + os.sep for part in ("rooms", "recordings", "server"))
TOP = 15


class MemoryProbe:
    """Tracing since a baseline (``start``), and what it shows (``traced``)."""

    def __init__(self) -> None:
        self.baseline: tracemalloc.Snapshot | None = None  # (when tracing began before)
        self.since: float | None = None  # when the baseline was taken (monotonic)

    def start(self) -> None:
        """Take the baseline now: start tracing, or note what the tracing holds already."""
        if tracemalloc.is_tracing():
            self.baseline = _snapshot()
        else:
            self.baseline = None
            tracemalloc.start()
        self.since = time.monotonic()

    def stop(self) -> None:
        """Stop tracing (safe to call twice)."""
        tracemalloc.stop()
        self.baseline = self.since = None

    def traced(self) -> dict[str, Any] | None:
        """What the allocations since the baseline still hold; None when not tracing."""
        if not tracemalloc.is_tracing() or self.since is None:
            return None
        now = _snapshot()
        total, _peak = tracemalloc.get_traced_memory()
        if self.baseline is not None:
            growth = [
                (s.traceback[0], s.size_diff, s.count_diff, s.size)
                for s in now.compare_to(self.baseline, "lineno")
            ]
        else:
            growth = [(s.traceback[0], s.size, s.count, s.size) for s in now.statistics("lineno")]
        return {
            "seconds": round(time.monotonic() - self.since, 1),
            "traced_bytes": total,
            "own_growth_bytes": sum(size for frame, size, _, _ in growth if _own(frame.filename)),
            "top_growth": [
                {
                    "where": f"{_short(frame.filename)}:{frame.lineno}",
                    "size_diff": size,
                    "count_diff": count,
                    "size": held,
                }
                for frame, size, count, held in growth[:TOP]
            ],
        }


def _snapshot() -> tracemalloc.Snapshot:
    ignored = (tracemalloc.Filter(False, tracemalloc.__file__),)
    return tracemalloc.take_snapshot().filter_traces(ignored)


def _own(filename: str) -> bool:
    return filename.startswith(OWN)


def _short(filename: str) -> str:
    return filename[len(str(ROOT)) + 1 :] if filename.startswith(str(ROOT)) else filename


def rss_bytes() -> int:
    """Resident memory of this process (Linux ``/proc``; the peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def open_fds() -> int | None:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def tasks() -> dict[str, Any]:
    names = Counter(_task_kind(t) for t in asyncio.all_tasks())
    return {"count": sum(names.values()), "most": names.most_common(8)}


def _task_kind(task: asyncio.Task[Any]) -> str:
    """A task's coroutine name (its own name is often numbered: ``Task-123``)."""
    coroutine = task.get_coro()
    return getattr(coroutine, "__qualname__", None) or task.get_name()


async def memory_view(request: web.Request) -> web.Response:
    may_scrape(request, "the memory figures")
    metrics = request.app[METRICS]
    if request.query.get("stop") == "1":
        metrics.memory.stop()
    elif request.query.get("baseline") == "1":
        metrics.memory.start()
    body = {
        "rss_bytes": rss_bytes(),
        "open_fds": open_fds(),
        "tasks": tasks(),
        "loop_lag": metrics.lag.summary(),
        "malloc": malloc_figures(),
        "heap_trims": metrics.heap.figures(),
        "tracemalloc": metrics.memory.traced(),
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def add_routes(table: RouteTable) -> None:
    table.get("/debug/memory", memory_view, PUBLIC, name="debug_memory")
