"""``python -m bench soak``: does memory stay flat through a long conference? (issue 20)

A served ``concord serve`` (SQLite, the demo) holds the aid review's
room: the main hall publishes 320×180 video at 15 fps and a tone, ``--sites`` - 1 other sites
publish a tone and receive the hall, and one of them listens to each booth. The synthetic
sites run in this process (``concord simulate-sites``' code), so this process is measured as
the sites' side, the same way.

Every ``--every`` seconds, for ``--minutes`` minutes: the server's ``/debug/memory`` (RSS,
open file descriptors, asyncio tasks, its event loop's lag p99) and the same figures of this
process. At the end of the warm-up (``--warmup`` minutes) both start tracemalloc, so from then
on they also give what the allocations since are still holding (in all, Concord's own, by
line). The report gives, after the warm-up:

- the RSS slope in MB per hour (least squares over the samples after the warm-up), and the
  same for the memory held by allocations since the baseline, in all and Concord's own;
- file descriptors and tasks at the end of the warm-up and at the end;
- the loop lag's p99 (the worst 2-minute window) and its median over the windows;
- the largest growth by file and line since the baseline (what grows, and where).

Traffic stays on 127.0.0.1. tracemalloc slows both processes a little after the warm-up, and
its own tables are in the RSS (they grow with what is traced).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.restart import CONFERENCE, HALL, ORGANISER, _fill
from bench.served import Served, api_token, demo_environment, free_port
from server.allocator import HeapTrimmer, malloc_figures
from server.live.simulate import SimulatedSite
from server.live.simulate_console import Operator
from server.monitoring.memory import MemoryProbe, open_fds, rss_bytes, tasks
from server.monitoring.metrics import LoopLag

MB = 1024 * 1024
SETTLE = 1.0
"""Minutes after the baseline before the growth of Concord's own allocations is counted."""


@dataclass
class Side:
    """One process's samples: (minutes since the start, figures)."""

    name: str
    samples: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def after(self, warmup: float) -> list[tuple[float, dict[str, Any]]]:
        return [(m, f) for m, f in self.samples if m >= warmup]

    def slope(self, warmup: float, key: str) -> float | None:
        """MB per hour of ``key`` (bytes) over the samples after the warm-up."""
        points: list[tuple[float, float]] = []
        for minute, figures in self.after(warmup):
            value = _get(figures, key)
            if value is not None:
                points.append((minute, value / MB))
        if len(points) < 3:
            return None
        xs, ys = [m for m, _ in points], [v for _, v in points]
        fitted = statistics.linear_regression(xs, ys)
        return round(fitted.slope * 60, 2)

    def settled_growth(self, warmup: float) -> float | None:
        """KB that Concord's own allocations grew from ``SETTLE`` minutes after the baseline to
        the end: once the rings of packets kept for retransmissions have been refilled by
        allocations made since the baseline (before, a ring's turnover looks like growth)."""
        traced = [
            (m, _get(f, "tracemalloc.own_growth_bytes")) for m, f in self.after(warmup + SETTLE)
        ]
        values = [v for _, v in traced if v is not None]
        return round((values[-1] - values[0]) / 1024, 1) if len(values) >= 2 else None

    def summary(self, warmup: float) -> dict[str, Any]:
        after = self.after(warmup)
        first, last = after[0][1], after[-1][1]
        lags = [f["loop_lag"]["p99"] for _, f in after if f["loop_lag"]["p99"] is not None]
        traced = last.get("tracemalloc") or {}
        return {
            "process": self.name,
            "rss_mb": [round(first["rss_bytes"] / MB, 1), round(last["rss_bytes"] / MB, 1)],
            "rss_mb_per_hour": self.slope(warmup, "rss_bytes"),
            "malloc_in_use_mb_per_hour": self.slope(warmup, "malloc.in_use_bytes"),
            "malloc_free_mb_per_hour": self.slope(warmup, "malloc.free_bytes"),
            "traced_mb_per_hour": self.slope(warmup, "tracemalloc.traced_bytes"),
            "own_mb_per_hour": self.slope(warmup, "tracemalloc.own_growth_bytes"),
            "own_growth_kb": round((traced.get("own_growth_bytes") or 0) / 1024, 1),
            "own_growth_kb_after_settling": self.settled_growth(warmup),
            "fds": [first["open_fds"], last["open_fds"]],
            "tasks": [first["tasks"]["count"], last["tasks"]["count"]],
            "loop_lag_p99_s": max(lags) if lags else None,
            "loop_lag_p99_median_s": statistics.median(lags) if lags else None,
            "top_growth": (traced.get("top_growth") or [])[:10],
        }


def _mb(figures: dict[str, Any], key: str) -> float | None:
    value = _get(figures, key)
    return None if value is None else round(value / MB, 1)


def _get(figures: dict[str, Any], key: str) -> float | None:
    value: Any = figures
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return float(value) if isinstance(value, int | float) else None


class Own:
    """This process's figures, measured as the server measures its own; it trims its heap
    as ``simulate-sites`` does."""

    def __init__(self) -> None:
        self.lag = LoopLag()
        self.memory = MemoryProbe()
        self.heap = HeapTrimmer()

    def figures(self) -> dict[str, Any]:
        return {
            "rss_bytes": rss_bytes(),
            "open_fds": open_fds(),
            "tasks": tasks(),
            "loop_lag": self.lag.summary(),
            "malloc": malloc_figures(),
            "heap_trims": self.heap.figures(),
            "tracemalloc": self.memory.traced(),
        }


async def _server_figures(http: aiohttp.ClientSession, url: str, baseline: bool) -> Any:
    query = "?baseline=1" if baseline else ""
    async with http.get(url + "/debug/memory" + query) as answer:
        answer.raise_for_status()
        return await answer.json()


async def _listeners(sites: list[SimulatedSite], base: str, token: str) -> list[str]:
    """One receiving site listens to each booth of the conference; the booths' languages."""
    console = Operator(base, token)
    try:
        assert await console.join(CONFERENCE), console.refusal
        booths = console.state.get("interpretation", {}).get("booths", [])
        languages = [b["language"] for b in booths]
    finally:
        await console.close()
    for site, language in zip(sites[1:], languages, strict=False):
        answer = await site.call("language", {"language": language})
        assert answer.get("ok"), answer
    return languages


async def soak(
    sites: int,
    minutes: float,
    warmup: float,
    every: float,
    folder: Path | None = None,
    trace: bool = True,
) -> dict[str, Any]:
    """Run the soak (see above); ``folder``: the server's data and log (default: a new one);
    ``trace``: False leaves tracemalloc off, so the RSS slope has no tracing tables in it."""
    own = Own()
    own.lag.start()
    own.heap.start()
    folder = folder or Path(tempfile.mkdtemp(prefix="concord-soak-"))
    port = free_port()
    env = demo_environment(folder, port, CONFERENCE)
    served = Served(env, port, folder / "serve.log")
    await served.start()
    server, client = Side("server"), Side("sites")
    running: list[SimulatedSite] = []
    try:
        token = await api_token(served.url, ORGANISER, "soak")
        running = await _fill(served, token, sites, conference=CONFERENCE, hall=HALL)
        languages = await _listeners(running, served.url, token)
        print(json.dumps({"sites": sites, "booth_listeners": languages}), flush=True)
        began = time.monotonic()
        baseline_taken = False
        async with aiohttp.ClientSession() as http:
            while (elapsed := (time.monotonic() - began) / 60) <= minutes:
                baseline = trace and not baseline_taken and elapsed >= warmup
                if baseline:
                    own.memory.start()
                    baseline_taken = True
                figures = await _server_figures(http, served.url, baseline)
                server.samples.append((elapsed, figures))
                client.samples.append((elapsed, own.figures()))
                print(json.dumps(_line(elapsed, figures, client.samples[-1][1])), flush=True)
                await asyncio.sleep(every)
        lost = [s.report().line() for s in running if s.report().packets_lost]
    finally:
        for site in running:
            await site.close()
        served.stop()
        await own.lag.close()
        await own.heap.close()
        own.memory.stop()
    return {
        "sites": sites,
        "minutes": minutes,
        "warmup": warmup,
        "traced": trace,
        "server": server.summary(warmup),
        "client": client.summary(warmup),
        "sites_with_losses": lost,
    }


def _line(elapsed: float, server: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    def short(figures: dict[str, Any]) -> dict[str, Any]:
        traced = figures.get("tracemalloc") or {}
        return {
            "rss_mb": round(figures["rss_bytes"] / MB, 1),
            "malloc_used_mb": _mb(figures, "malloc.in_use_bytes"),
            "malloc_free_mb": _mb(figures, "malloc.free_bytes"),
            "traced_mb": round((traced.get("traced_bytes") or 0) / MB, 1),
            "own_mb": round((traced.get("own_growth_bytes") or 0) / MB, 2),
            "fds": figures["open_fds"],
            "tasks": figures["tasks"]["count"],
            "lag_p99": figures["loop_lag"]["p99"],
        }

    return {"minute": round(elapsed, 2), "server": short(server), "sites": short(client)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__)
    parser.add_argument("--sites", type=int, default=8, help="sites in the room (default 8)")
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes before the baseline")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument(
        "--no-trace",
        action="store_true",
        help="leave tracemalloc off (RSS without its tables; no growth by line)",
    )
    args = parser.parse_args(argv)
    if args.sites < 2 or args.minutes <= args.warmup or args.every <= 0:
        parser.error("--sites ≥ 2, --minutes > --warmup and --every > 0")
    result = asyncio.run(
        soak(args.sites, args.minutes, args.warmup, args.every, trace=not args.no_trace)
    )
    print(json.dumps(result, indent=1))
    for side in ("server", "client"):
        row = result[side]
        print(
            f"{row['process']}: RSS {row['rss_mb'][0]}→{row['rss_mb'][1]} MB, "
            f"{row['rss_mb_per_hour']} MB/h after the warm-up (traced {row['traced_mb_per_hour']}"
            f", Concord's own {row['own_mb_per_hour']} MB/h); fds {row['fds']}, tasks "
            f"{row['tasks']}; loop lag p99 {row['loop_lag_p99_s']} s"
        )
    return 0
