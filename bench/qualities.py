"""``python -m bench qualities``: what two qualities per camera save a chair console (issue 15).

A served ``concord serve`` (SQLite, the demo's aid-review conference, sites added up to the
size measured) holds a room of N sites that all publish a camera (320x180, 15 fps) and a
microphone, and all receive the main hall's picture and sound (so that forwarding, not
receiving, is most of the server's work); a chair console receives every site as a grid tile,
the floor and the hall's and the floor's sound. Two runs, in this order, on the same machine:

- **one quality** (today's forwarding before issue 15): sites publish ``camera`` only, so
  every tile carries the full picture;
- **two qualities**: sites also publish ``camera.low`` (160x90, 100 kbit/s) and the server
  chooses per receiving slot (``rooms.quality``): tiles get the low one, and a full picture
  nobody receives is paused at its site.

For each: the console's received bitrate (its DTLS transport's byte counter over the window),
the server process's CPU seconds per second (/proc) and the RTP packets it forwarded
(``concord_forwarded_packets`` on /metrics), as medians over sub-windows; CPU per forwarded
packet is their ratio. The sites and the console are aiortc peers in this process (their
encoding does not count against the server's CPU). Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from bench.measure import cpu_seconds
from bench.restart import CONFERENCE, HALL, ORGANISER, _api, _load, _until
from bench.served import Served, api_token, demo_environment, free_port
from rooms import aiortc_hooks as hooks
from rooms.synthetic import SyntheticSite
from server.live.simulate import SimulatedSite

VIDEO = (320, 180, 15)
HALL_SLOTS = (("hall.video", "video"), ("hall.audio", "audio"))
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


async def measure(count: int, two: bool, window: float, parts: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-qualities-"))
    port = free_port()
    served = Served(demo_environment(folder / "data", port, live=CONFERENCE), port, folder / "log")
    await served.start()
    assert served.process is not None
    pid = served.process.pid
    sites: list[SimulatedSite] = []
    chair = socketio.AsyncClient(reconnection=False)
    console = SyntheticSite(
        "console",
        slots=[(f"grid.{i}.video", "video") for i in range(count)] + list(CONSOLE_SOUND),
    )
    base = served.url
    try:
        token = await api_token(base, ORGANISER, "bench")
        site_ids = await _sites(base, token, count)
        await chair.connect(base, auth={"token": token}, namespaces=["/room"])
        await chair.call("join", {"conference_id": CONFERENCE, "as": "console"}, namespace="/room")
        for number, site_id in enumerate(site_ids):
            invitation = {"site_id": site_id, "role": "delegate"}
            path = f"/api/conferences/{CONFERENCE}/invitations"
            url = (await _api(base, token, "POST", path, invitation))["url"]
            site = SimulatedSite(
                base,
                url[url.index("/join/") :],
                name=f"site-{site_id}",
                tone_hz=300 + 20 * number,
                video=VIDEO,
                low_video=two,
                slots=(),
            )
            sites.append(site)
            await site.start()
            await chair.call("admit", {"site_id": site_id}, namespace="/room")
            await asyncio.wait_for(site.admitted.wait(), 10)
            await site.connect_media()
        sdp, layout = await console.offer()
        answer = await chair.call("offer", {"sdp": sdp, "layout": layout}, namespace="/room")
        await console.accept(answer["sdp"])
        tiles = [console.received[f"grid.{i}.video"] for i in range(count)]
        await _until(lambda: all(t.frames > 10 for t in tiles), 60)
        await asyncio.sleep(4)  # the unwatched qualities are paused after 2 s
        rows = []
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
            "tile_sizes": sorted({str(t.size) for t in tiles}),
        }
        for key in ("console_kbps", "cpu", "pps"):
            result[key] = statistics.median(r[key] for r in rows)
        result["us_per_packet"] = [r["cpu"] / r["pps"] * 1e6 for r in rows if r["pps"]]
        result["us_per_packet_p50"] = statistics.median(result["us_per_packet"])
        return result
    finally:
        await console.close()
        for site in sites:
            await site.close()
        if chair.connected:
            await chair.disconnect()
        served.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench qualities", description=__doc__)
    parser.add_argument("--sites", type=int, default=25)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--parts", type=int, default=5, help="sub-windows (medians over them)")
    parser.add_argument("--rounds", type=int, default=1, help="one- and two-quality runs each")
    args = parser.parse_args(argv)
    found: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for two in (False, True):
            print(f"# {'two' if two else 'one'} quality, load {_load()}", flush=True)
            row = asyncio.run(measure(args.sites, two, args.window, args.parts))
            found[two].append(row)
            print(json.dumps(row, default=lambda v: round(v, 2)), flush=True)
    before, after = found[False], found[True]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    ratio = med(after, "us_per_packet_p50") / med(before, "us_per_packet_p50")
    print(
        "\n| sites | qualities | console kbit/s | server CPU (s/s) | forwarded pkt/s "
        "| CPU per packet (µs) |\n|---|---|---|---|---|---|"
    )
    for rows in (before, after):
        print(
            f"| {args.sites} | {rows[0]['qualities']} | {med(rows, 'console_kbps'):.0f} "
            f"| {med(rows, 'cpu'):.3f} | {med(rows, 'pps'):.0f} "
            f"| {med(rows, 'us_per_packet_p50'):.1f} |"
        )
    print(f"\nCPU per forwarded packet, two qualities / one: {ratio:.3f}")
    return 0
