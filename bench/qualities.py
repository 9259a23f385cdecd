"""``python -m bench qualities``: what two qualities per camera save a chair console (issue 15).

A served ``concord serve`` (SQLite, the demo's aid-review conference, sites added up to the
size measured) holds a room of N sites that all publish a camera (320x180, 15 fps, its encoder
pinned at 600 kbit/s: what a browser's camera sends on a good link, where the test pattern
alone would need about 100) and a microphone; a chair console receives every site as a grid
tile, the floor and the hall's and the floor's sound (the sites receive nothing; they run 5 to
a client process, and the console, count-only, in the measuring one). Two runs, in this
order, on the same machine:

- **one quality** (today's forwarding before issue 15): sites publish ``camera`` only, so
  every tile carries the full picture;
- **two qualities**: sites also publish ``camera.low`` (160x90, 100 kbit/s) and the server
  chooses per receiving slot (``rooms.quality``): tiles get the low one, and a full picture
  nobody receives is paused at its site.

With ``--baseline REV`` each round starts with a third run: the server of commit REV (the
tree from ``git archive``), sites publishing one quality. Its forwarded set is the same as this
checkout's one-quality run (the same clients, streams and console), so the two runs' CPU per
forwarded packet compares the forwarding path with quality selection (REMB read, the
abs-send-time stamp, the once-a-second choice) against the one before it.

For each: the console's received bitrate (its DTLS transport's byte counter over the window),
the server process's CPU seconds per second (/proc) and the RTP packets it forwarded
(``concord_forwarded_packets`` on /metrics), as medians over sub-windows; CPU per forwarded
packet is their ratio. The sites and the console are aiortc peers in client processes (their
encoding does not count against the server's CPU). Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from bench.clients import CountingSite
from bench.measure import cpu_seconds
from bench.restart import CONFERENCE, HALL, ORGANISER, _api, _load, _until
from bench.served import ROOT, Served, api_token, checkout, demo_environment, free_port
from rooms import aiortc_hooks as hooks
from server.live.simulate import SimulatedSite

VIDEO = (320, 180, 15)
VIDEO_BITRATE = 600_000  # what a browser's camera sends on a good link (the pattern alone, ~100k)
PER_WORKER = 5  # sites per client process
CONSOLE_SOUND = (("hall.audio", "audio"), ("floor.video", "video"), ("floor.audio", "audio"))


async def _sites(base: str, token: str, count: int) -> list[int]:
    path = f"/api/conferences/{CONFERENCE}"
    detail = await _api(base, token, "GET", path, None)
    site_ids = [HALL] + [s["id"] for s in detail["sites"] if s["id"] != HALL]
    while len(site_ids) < count:
        body = {"name": f"Bench site {len(site_ids)}", "time_zone": "Asia/Vientiane"}
        site_ids.append((await _api(base, token, "POST", path + "/sites", body))["id"])
    return site_ids[:count]


async def _forwarded(http: aiohttp.ClientSession, base: str) -> float:
    async with http.get(base + "/metrics") as answer:
        text = await answer.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("concord_forwarded_packets") and not line.startswith("#")
    )


async def _workers(base: str, paths: list[str], two: bool) -> list[asyncio.subprocess.Process]:
    """The sites, ``PER_WORKER`` to a process (one process encoding 25 cameras and answering
    25 peers' consent checks falls behind, and the server rightly gives up on them)."""
    workers = []
    for start in range(0, len(paths), PER_WORKER):
        command = [sys.executable, "-m", "bench", "qualities", "--worker", base, str(two)]
        workers.append(
            await asyncio.create_subprocess_exec(
                *command, *paths[start : start + PER_WORKER], stdin=asyncio.subprocess.PIPE
            )
        )
    return workers


async def _admit_all(chair: socketio.AsyncClient, site_ids: list[int], admitted: set[int]) -> None:
    """Admit each site as it reaches the lobby (the workers join at their own pace)."""
    while len(admitted) < len(site_ids):
        for site_id in site_ids:
            if site_id not in admitted:
                answer = await chair.call("admit", {"site_id": site_id}, namespace="/room")
                if answer.get("ok"):
                    admitted.add(site_id)
        await asyncio.sleep(0.5)


async def measure(
    count: int, two: bool, window: float, parts: int, root: Path = ROOT
) -> dict[str, Any]:
    """One run: the server serves the code in ``root`` (a baseline's checkout, or this one)."""
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-qualities-"))
    port = free_port()
    environment = demo_environment(folder / "data", port, live=CONFERENCE, root=root)
    served = Served(environment, port, folder / "log", root=root)
    await served.start()
    assert served.process is not None
    pid = served.process.pid
    workers: list[asyncio.subprocess.Process] = []
    chair = socketio.AsyncClient(reconnection=False)
    # (count-only: this process decodes nothing)
    console = CountingSite(
        "console",
        tuple((f"grid.{i}.video", "video") for i in range(count)) + CONSOLE_SOUND,
    )
    base = served.url
    try:
        token = await api_token(base, ORGANISER, "bench")
        site_ids = await _sites(base, token, count)
        await chair.connect(base, auth={"token": token}, namespaces=["/room"], wait_timeout=10)
        await chair.call("join", {"conference_id": CONFERENCE, "as": "console"}, namespace="/room")
        paths = []
        for site_id in site_ids:
            invitation = {"site_id": site_id, "role": "delegate"}
            path = f"/api/conferences/{CONFERENCE}/invitations"
            url = (await _api(base, token, "POST", path, invitation))["url"]
            paths.append(url[url.index("/join/") :])
        workers = await _workers(base, paths, two)
        admitted: set[int] = set()
        await asyncio.wait_for(_admit_all(chair, site_ids, admitted), 120)
        sdp, layout = await console.offer()
        answer = await chair.call("offer", {"sdp": sdp, "layout": layout}, namespace="/room")
        await console.accept(answer["sdp"])
        tiles = [console.counters[f"grid.{i}.video"] for i in range(count)]
        await _until(lambda: all(t.frames > 10 for t in tiles), 60)
        print(f"# tiles with video: {sum(t.frames > 10 for t in tiles)}/{count}", flush=True)
        await asyncio.sleep(4)  # the unwatched qualities are paused after 2 s
        rows = []
        frames, window_began = [t.frames for t in tiles], time.monotonic()
        async with aiohttp.ClientSession() as http:
            for _ in range(parts):
                began = time.monotonic()
                cpu, packets = cpu_seconds(pid), await _forwarded(http, base)
                received = hooks.transport_bytes(console.pc)[0]
                await asyncio.sleep(window / parts)
                seconds = time.monotonic() - began
                rows.append(
                    {
                        "console_kbps": (hooks.transport_bytes(console.pc)[0] - received)
                        * 8
                        / seconds
                        / 1000,
                        "cpu": (cpu_seconds(pid) - cpu) / seconds,
                        "pps": (await _forwarded(http, base) - packets) / seconds,
                    }
                )
        result: dict[str, Any] = {
            "sites": count,
            "qualities": 2 if two else 1,
            "tiles_seen": sum(1 for t in tiles if t.frames > 10),
            "tile_fps": statistics.median(
                (t.frames - before) / (time.monotonic() - window_began)
                for t, before in zip(tiles, frames, strict=True)
            ),
        }
        for key in ("console_kbps", "cpu", "pps"):
            result[key] = statistics.median(r[key] for r in rows)
        result["us_per_packet"] = [r["cpu"] / r["pps"] * 1e6 for r in rows if r["pps"]]
        if not result["us_per_packet"]:
            raise RuntimeError(f"nothing was forwarded: {result}")
        result["us_per_packet_p50"] = statistics.median(result["us_per_packet"])
        return result
    finally:
        await console.close()
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.close()  # the worker closes its sites and ends
        for worker in workers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.wait(), 20)
            if worker.returncode is None:
                worker.kill()
        if chair.connected:
            await chair.disconnect()
        served.stop()


async def worker(base: str, two: bool, paths: list[str]) -> None:
    """Host sites until stdin closes: each joins, waits to be admitted and offers."""
    sites = [
        SimulatedSite(
            base,
            path,
            name=f"site-{index}",
            tone_hz=300 + 20 * index,
            video=VIDEO,
            low_video=two,
            video_bitrate=VIDEO_BITRATE,
            slots=(),
        )
        for index, path in enumerate(paths)
    ]
    try:
        for site in sites:
            await site.start()
        for site in sites:
            await asyncio.wait_for(site.admitted.wait(), 120)
            await site.connect_media()
        await asyncio.to_thread(sys.stdin.read)  # until the measuring process is done
    finally:
        for site in sites:
            await site.close()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        asyncio.run(worker(argv[1], argv[2] == "True", argv[3:]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench qualities", description=__doc__)
    parser.add_argument("--sites", type=int, default=25)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--parts", type=int, default=5, help="sub-windows (medians over them)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each kind")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also serve commit REV (one quality) in each round: the forwarding path before "
        "quality selection (9373fd1, say), with the same forwarded set as this checkout's "
        "one-quality run",
    )
    args = parser.parse_args(argv)
    if args.sites < 1 or args.rounds < 1 or args.parts < 1 or args.window <= 0:
        parser.error("--sites, --rounds and --parts must be at least 1, --window above 0")
    with contextlib.ExitStack() as stack:
        runs: list[tuple[str, Path, bool]] = []
        if args.baseline:
            runs.append((args.baseline, stack.enter_context(checkout(args.baseline)), False))
        runs += [("this", ROOT, False), ("this", ROOT, True)]
        found: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        for _ in range(args.rounds):
            for code, root, two in runs:
                print(f"# {code}, {'two' if two else 'one'} quality, load {_load()}", flush=True)
                row = asyncio.run(measure(args.sites, two, args.window, args.parts, root))
                found.setdefault((code, two), []).append(row)
                print(json.dumps(row, default=lambda v: round(v, 2)), flush=True)
    report(args.sites, found)
    return 0


def report(sites: int, found: dict[tuple[str, bool], list[dict[str, Any]]]) -> None:
    """The table of medians, and the ratios of CPU per forwarded packet."""

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    print(
        "\n| code | sites | qualities | console kbit/s | server CPU (s/s) | forwarded pkt/s "
        "| CPU per packet (µs) |\n|---|---|---|---|---|---|---|"
    )
    for (code, two), rows in found.items():
        print(
            f"| {code} | {sites} | {2 if two else 1} | {med(rows, 'console_kbps'):.0f} "
            f"| {med(rows, 'cpu'):.3f} | {med(rows, 'pps'):.0f} "
            f"| {med(rows, 'us_per_packet_p50'):.1f} |"
        )
    one = med(found[("this", False)], "us_per_packet_p50")
    print(
        f"\nCPU per forwarded packet, two qualities / one: "
        f"{med(found[('this', True)], 'us_per_packet_p50') / one:.3f}"
    )
    for (code, _), rows in found.items():
        if code != "this":
            print(
                f"CPU per forwarded packet, this checkout / {code} (one quality, the same "
                f"forwarded set): {one / med(rows, 'us_per_packet_p50'):.3f}"
            )
