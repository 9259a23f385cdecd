"""``concord serve --workers 2``: two nodes on this machine behind one port (issue 16, part 5).

Two conferences at once, every client coming in through the one public port: each room is
placed on its own worker (the node ids are chosen so that rendezvous places them apart), the
clients are sent to that worker's own port, and the sites of both rooms receive media. With
SQLite, or without Redis, ``--workers`` is refused with a message that says why.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis.asyncio

from bench.cluster_nodes import base_placing_apart, cluster_environment, hold_live
from bench.served import ROOT, api_token, free_port
from server.live.simulate import SimulatedSite, run_sites
from server.live.simulate_cli import _admit_all, invitation_paths
from server.live.simulate_console import Operator
from server.settings import load_config
from tests.cluster.test_failover import ORGANISER, frames, until

MOU, AID = 1, 2


def serve_workers(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def refused(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "server", "serve", "--workers", "2", "--port", "1"]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_workers_are_refused_with_sqlite_or_without_redis(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {"CONCORD_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    sqlite = refused(env | {"CONCORD_REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert sqlite.returncode == 2, sqlite
    assert "--workers needs PostgreSQL" in sqlite.stderr, sqlite.stderr
    postgres = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    no_redis = refused(env | {"CONCORD_DATABASE_URL": postgres})
    assert no_redis.returncode == 2 and "--workers needs Redis" in no_redis.stderr, no_redis
    bad = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "many"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "'many' is not a number of workers" in bad.stderr, bad.stderr


async def test_two_workers_behind_one_port_hold_two_conferences(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = base_placing_apart(AID, MOU)
    env = cluster_environment(postgres_url, redis_url) | {
        "CONCORD_DATA_DIR": str(tmp_path / "data"),
        "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CONCORD_NODE_ID": base,
    }
    demo = [sys.executable, "-m", "server", "demo"]
    await asyncio.to_thread(subprocess.run, demo, env=env, cwd=ROOT, check=True, timeout=300)
    await hold_live(postgres_url, (MOU, AID))
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    served = serve_workers(env, port, tmp_path / "workers.log")
    url, own = (
        f"http://127.0.0.1:{port}",
        {1: f"http://127.0.0.1:{port + 1}", 2: f"http://127.0.0.1:{port + 2}"},
    )
    consoles: list[Operator] = []
    tasks: list[asyncio.Task[Any]] = []
    try:
        deadline = time.monotonic() + 60
        token = None
        while token is None:
            assert served.poll() is None, (tmp_path / "workers.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the workers did not answer"
            try:
                token = await api_token(url, ORGANISER, "workers test")
            except Exception:
                await asyncio.sleep(0.3)
        rooms: dict[int, list[SimulatedSite]] = {}
        for conference in (AID, MOU):
            console = Operator(url, token)
            consoles.append(console)
            paths = await invitation_paths(config, conference, 2, skip_main_hall=False)
            sites = [
                SimulatedSite(url, path, name=name, tone_hz=440.0 + 110 * i)
                for i, (name, path) in enumerate(paths)
            ]
            rooms[conference] = sites
            assert await console.join(conference), console.refusal
            tasks.append(asyncio.create_task(run_sites(sites, 600.0)))
            tasks.append(asyncio.create_task(_admit_all(console, sites)))
        everyone = [site for sites in rooms.values() for site in sites]
        await until(lambda: all(s.media_connected() for s in everyone), 40, "media connected")
        receiving = [site for sites in rooms.values() for site in sites[1:]]
        await until(lambda: all(frames(s, "hall.video") > 10 for s in receiving), 20, "video")
        # Each room on its worker (in Redis), and every client there: through the worker's
        # own port, or through the shared one where the kernel gave it that worker.
        leases = redis.asyncio.from_url(redis_url)
        try:
            holders = {c: await leases.get(f"concord:room:{c}") for c in (AID, MOU)}
        finally:
            await leases.aclose()
        assert holders == {AID: f"{base}-1".encode(), MOU: f"{base}-2".encode()}, holders
        for conference, worker in ((AID, 1), (MOU, 2)):
            for site in rooms[conference]:
                assert site.base_url in (own[worker], url), (site.name, site.base_url)
        placed = {c.conference_id: c.base_url for c in consoles}
        assert placed[AID] in (own[1], url) and placed[MOU] in (own[2], url), placed
        print(f"through {url}: sites on {sorted({s.base_url for s in everyone})}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for console in consoles:
            await console.close()
        served.terminate()
        code = await asyncio.to_thread(served.wait, 30)
    log = (tmp_path / "workers.log").read_text()
    assert code == 0, log[-3000:]
    # Stopped together, the workers saw each other draining: no room went from one to the other.
    assert "handed to node" not in log, log[-3000:]
