"""``python -m bench workers``: the packets ``concord serve --workers 2`` forwards against one
node, on this machine (issue 16).

The same load is run against one ``concord serve`` node, then against ``--workers 2`` (both on
PostgreSQL and Redis; the two rooms placed one per worker): two conferences (the aid review
and the memorandum, sites added to it), each with its main hall publishing video (320×180,
15 fps) and ``K`` receiving sites (audio-only publishers), all in this one client process.
Over ``--window`` seconds it reads the nodes' own load (``concord nodes``: forwarded packets
per second and CPU, summed over the nodes), this client process's CPU, and the load average.
The clients run on the same two cores as the server: they are what limits the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis.asyncio

from bench.cluster import POSTGRES, REDIS
from bench.cluster_nodes import (
    base_placing_apart,
    cluster_environment,
    drop_database,
    fresh_database,
    hold_live,
)
from bench.restart import ORGANISER, _fill
from bench.served import ROOT, Served, api_token, free_port
from server.cluster.nodes import live_nodes
from server.live.simulate import SimulatedSite

ROOMS = ((2, 3), (1, 1))  # (conference, its main hall): the aid review, the memorandum


class Workers(Served):
    """``concord serve --workers N`` (N = 1: one node) as ``Served`` runs ``concord serve``."""

    def __init__(self, env: dict[str, str], port: int, log: Path, count: int) -> None:
        super().__init__(env, port, log)
        self.count = count

    def launch(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(self.count)]
        with self.log.open("ab") as out:
            return subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )


async def _window(client: redis.asyncio.Redis, seconds: float) -> dict[str, Any]:
    """The nodes' summed load, sampled every second, and this process's CPU over it."""
    samples: list[tuple[float, float]] = []
    cpu, wall = time.process_time(), time.monotonic()
    for _ in range(int(seconds)):
        await asyncio.sleep(1.0)
        nodes = await live_nodes(client)
        samples.append((sum(n.load.forwarded_pps for n in nodes), sum(n.load.cpu for n in nodes)))
    spent = (time.process_time() - cpu) / (time.monotonic() - wall)
    return {
        "forwarded_pps": round(sum(s[0] for s in samples) / len(samples)),
        "server_cpu": round(sum(s[1] for s in samples) / len(samples), 2),
        "client_cpu": round(spent, 2),
        "load": _load(),
    }


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def measure(count: int, receivers: int, window: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-workers-"))
    database = await fresh_database(POSTGRES)
    client = redis.asyncio.from_url(REDIS)
    port = free_port()
    env = cluster_environment(database, REDIS) | {
        "CONCORD_DATA_DIR": str(folder / "data"),
        "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CONCORD_NODE_ID": base_placing_apart(*(c for c, _ in ROOMS)),
    }
    served = Workers(env, port, folder / "serve.log", count)
    sites: list[SimulatedSite] = []
    receiving: list[SimulatedSite] = []
    try:
        await client.flushdb()
        demo = [sys.executable, "-m", "server", "demo"]
        await asyncio.to_thread(subprocess.run, demo, env=env, cwd=ROOT, check=True, timeout=300)
        await hold_live(database, [c for c, _ in ROOMS])
        await served.start()
        token = await api_token(served.url, ORGANISER, "bench")
        for conference, hall in ROOMS:
            room = await _fill(served, token, receivers + 1, conference=conference, hall=hall)
            sites += room
            receiving += room[1:]
        await asyncio.sleep(3.0)
        found = await _window(client, window)
        placed = {n.id: n.load.rooms for n in await live_nodes(client)}
        lowest = min((site.report().fps for site in receiving), default=0.0)
    finally:
        for site in sites:
            await site.close()
        served.stop()
        await client.aclose()
        await drop_database(POSTGRES, database)
    row = {"workers": count, "receivers_per_room": receivers, "rooms_per_node": placed}
    return row | found | {"lowest_receiver_fps": lowest}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench workers", description=__doc__)
    parser.add_argument("--receivers", default="8,16", help="receiving sites per room")
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured")
    args = parser.parse_args(argv)
    rows = []
    for receivers in [int(v) for v in args.receivers.split(",")]:
        for count in (1, 2):
            rows.append(asyncio.run(measure(count, receivers, args.window)))
            print(json.dumps(rows[-1]), flush=True)
    print(
        "\n| receivers per room | workers | forwarded pkt/s | server CPU | client CPU | "
        "lowest receiver fps | load |\n|---|---|---|---|---|---|---|"
    )
    for row in rows:
        print(
            f"| {row['receivers_per_room']} | {row['workers']} | {row['forwarded_pps']} | "
            f"{row['server_cpu']} | {row['client_cpu']} | {row['lowest_receiver_fps']} | "
            f"{row['load']} |"
        )
    return 0
