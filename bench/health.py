"""``python -m bench health``: what measuring connection health costs a room (issue 6).

A bridge room with N synthetic sites (aiortc peers in this process on 127.0.0.1: a tone and a
small test pattern each, every site receiving the main hall) runs for a while; the room's
``HealthMonitor`` samples every site every 2 s. Reported: the wall time of one sampling pass
(``HealthMonitor.measure``, which runs on the event loop: it is also the longest the loop
stalls for it), its CPU share of one core, the per-site cost, and the size of the report the
dashboards receive (JSON). The baseline in the same run is the same room with health sampling
of 1 site, so the ratio shows how the cost grows with the number of sites.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rooms.monitor import HealthReport
from rooms.room import BridgeRoom
from rooms.roster import SiteInfo
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

RESULTS = Path(__file__).parent / "results"
SLOTS = [("hall.video", "video"), ("hall.audio", "audio")]


@dataclass
class Options:
    sites: list[int] = field(default_factory=lambda: [1, 10, 40])
    seconds: float = 40.0
    out_dir: Path = RESULTS


def log(message: str) -> None:
    print(f"[health {time.strftime('%H:%M:%S')}] {message}", flush=True)


async def one_room(count: int, seconds: float) -> dict[str, Any]:
    sites = {str(n): SiteInfo(f"Site {n}", n, n == 1) for n in range(1, count + 1)}
    reports: list[HealthReport] = []
    room = BridgeRoom(
        f"bench-{count}",
        sites,
        ice_addresses=["127.0.0.1"],
        on_event=lambda _: None,
        on_health=reports.append,
    )
    room.health.interval = 3600.0  # sampled below, by hand, to time each pass
    room.start()
    made: list[SyntheticSite] = []
    try:
        for site_id in sites:
            room.arrive(site_id)
            room.admit(site_id)
            client = SyntheticSite(
                site_id,
                camera=PatternTrack(160, 90, 5),
                microphone=ToneTrack(300 + 10 * int(site_id)),
                slots=SLOTS,
            )
            made.append(client)
            sdp, layout = await client.offer()
            await client.accept(await room.connect_site(site_id, sdp, layout))
        deadline = time.monotonic() + 30
        while sum(1 for s in room.sites.values() if s.link == "connected") < count:
            if time.monotonic() > deadline:
                raise RuntimeError("not every site connected within 30 s")
            await asyncio.sleep(0.2)
        walls: list[float] = []
        cpus: list[float] = []
        sizes: list[int] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(2.0)
            wall, cpu = time.perf_counter(), time.thread_time()
            report = await room.health.measure()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
            payload = {"rows": report.rows, "alerts": report.alerts, "changes": []}
            sizes.append(len(json.dumps(payload, separators=(",", ":"))))
        levels = [r["level"] for r in report.rows]
        walls, cpus = walls[1:], cpus[1:]  # the first pass only sets the counters
        return {
            "sites": count,
            "passes": len(walls),
            "wall_ms_p50": round(statistics.median(walls) * 1000, 2),
            "wall_ms_max": round(max(walls) * 1000, 2),
            "cpu_ms_p50": round(statistics.median(cpus) * 1000, 2),
            "cpu_share_of_core_pct": round(statistics.median(cpus) / 2.0 * 100, 3),
            "us_per_site": round(statistics.median(cpus) / count * 1e6, 1),
            "report_bytes": sizes[-1],
            "levels": {level: levels.count(level) for level in set(levels)},
        }
    finally:
        for client in made:
            await client.close()
        await room.close()


async def run(opts: Options) -> dict[str, Any]:
    rows = []
    for count in opts.sites:
        log(f"{count} site(s), {opts.seconds:.0f} s")
        rows.append(await one_room(count, opts.seconds))
        log(str(rows[-1]))
    base = rows[0]
    for row in rows:
        row["cpu_ratio_to_baseline"] = round(row["cpu_ms_p50"] / max(base["cpu_ms_p50"], 1e-6), 1)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg(),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        },
        "rows": rows,
    }


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# Health sampling benchmark (issue 6)",
        "",
        f"Machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['when']}; load"
        f" average before {machine['load_before']} (shared machine: compare within a run).",
        "",
        "One sampling pass of every site (every 2 s in a room), on the event loop.",
        "",
        "| sites | passes | wall p50 ms | wall max ms | CPU p50 ms | % of a core | µs/site"
        " | × baseline | report bytes | levels |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['sites']} | {r['passes']} | {r['wall_ms_p50']} | {r['wall_ms_max']} |"
            f" {r['cpu_ms_p50']} | {r['cpu_share_of_core_pct']} | {r['us_per_site']} |"
            f" {r['cpu_ratio_to_baseline']} | {r['report_bytes']} | {r['levels']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench health", description=__doc__)
    parser.add_argument("--sites", default="1,10,40", help="room sizes, comma-separated")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    opts = Options([int(n) for n in args.sites.split(",") if n], args.seconds, args.out)
    results = asyncio.run(run(opts))
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    (opts.out_dir / "health.json").write_text(json.dumps(results, indent=2))
    text = markdown(results)
    (opts.out_dir / "health.md").write_text(text)
    print(text)
    return 0
