"""``python -m bench restart``: how long a restart costs the sites of a live room (issue 14).

A served ``concord serve`` (SQLite, the demo; the aid-review conference with sites added up to
the size measured) holds a room: the main hall publishes camera and microphone, every other
site receives it (audio-only publishers, so the clients' own encoding does not swamp the
machine). The server is stopped (SIGTERM) or killed (SIGKILL) and started again, 5 times each;
each time the figure is the seconds from the new process answering ``/healthz`` until every
site receives the main hall's video again, with nobody admitting anyone (the room's state
survives). Sizes 8 and 32; p50 and p95 per kind. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from server.demo.data import demo_password
from server.live.simulate import SimulatedSite

ROOT = Path(__file__).resolve().parent.parent
CONFERENCE, HALL = 2, 3
ORGANISER = "organiser@concord.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    async def start(self) -> float:
        """Start it; returns the monotonic time at which ``/healthz`` first answered."""
        self.launch()
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.url + "/healthz") as answer:
                        if answer.status == 200:
                            return time.monotonic()
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not start; see {self.log}")

    def stop(self, how: str) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGTERM if how == "sigterm" else signal.SIGKILL)
        self.process.wait(30)


async def _api(base: str, token: str, method: str, path: str, body: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, base + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as answer,
    ):
        assert answer.status in (200, 201), await answer.text()
        return await answer.json()


async def _token(base: str) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        signed = await http.post(
            base + "/api/session", json={"email": ORGANISER, "password": demo_password(ORGANISER)}
        )
        csrf = (await signed.json())["csrf_token"]
        made = await http.post(
            base + "/api/tokens", json={"name": "bench"}, headers={"X-CSRF-Token": csrf}
        )
        return str((await made.json())["token"])


async def _fill(served: Served, token: str, count: int) -> list[SimulatedSite]:
    """The hall and ``count - 1`` receiving sites, all admitted with media."""
    import socketio

    base, path = served.url, f"/api/conferences/{CONFERENCE}"
    detail = await _api(base, token, "GET", path, None)
    site_ids = [s["id"] for s in detail["sites"] if s["id"] != HALL]
    while len(site_ids) < count - 1:
        made = await _api(
            base,
            token,
            "POST",
            path + "/sites",
            {"name": f"Bench site {len(site_ids)}", "time_zone": "Asia/Vientiane"},
        )
        site_ids.append(made["id"])
    console = socketio.AsyncClient(reconnection=False)
    await console.connect(
        base, auth={"token": token}, namespaces=["/room"], transports=["websocket"]
    )
    await console.call("join", {"conference_id": CONFERENCE, "as": "console"}, namespace="/room")
    sites = []
    for number, site_id in enumerate([HALL, *site_ids[: count - 1]]):
        link = await _api(
            base, token, "POST", path + "/invitations", {"site_id": site_id, "role": "delegate"}
        )
        url = link["url"]
        site = SimulatedSite(
            base,
            url[url.index("/join/") :],
            name=f"site-{site_id}",
            tone_hz=300 + 20 * number,
            publish_video=site_id == HALL,
            video=(320, 180, 15),
        )
        await site.start()
        await console.call("admit", {"site_id": site_id}, namespace="/room")
        await asyncio.wait_for(site.admitted.wait(), 10)
        await site.connect_media()
        sites.append(site)
    await console.disconnect()
    return sites


def _video_frames(site: SimulatedSite) -> int:
    media = site.media
    if media is None:
        return 0
    return sum(r.frames for r in media.received.values() if r.kind == "video")


async def _back(sites: list[SimulatedSite], since: float, limit: float = 60.0) -> float:
    """Seconds from ``since`` until every receiving site has new video frames."""
    receivers = [s for s in sites[1:]]
    start = {id(s): _video_frames(s) for s in receivers}
    waiting = set(start)
    while waiting:
        if time.monotonic() - since > limit:
            raise RuntimeError(f"{len(waiting)} sites had no media {limit} s after the restart")
        for site in receivers:
            if id(site) in waiting and _video_frames(site) > start[id(site)] + 2:
                waiting.discard(id(site))
        await asyncio.sleep(0.05)
    return time.monotonic() - since


def prepare() -> tuple[dict[str, str], int, Path]:
    """A data directory with the demo, its aid review held live; the environment and port."""
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-restart-"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONCORD_")}
    env |= {
        "CONCORD_DATA_DIR": str(folder / "data"),
        "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
        "CONCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    subprocess.run(
        [sys.executable, "-m", "server", "demo"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with sqlite3.connect(folder / "data" / "concord.db") as db:
        db.execute("UPDATE conferences SET status = 'live' WHERE id = ?", (CONFERENCE,))
    return env, port, folder


async def measure(count: int, restarts: int) -> dict[str, list[float]]:
    env, port, folder = prepare()
    served = Served(env, port, folder / "serve.log")
    await served.start()
    sites = await _fill(served, await _token(served.url), count)
    await _back(sites, time.monotonic())
    found: dict[str, list[float]] = {"sigterm": [], "sigkill": []}
    try:
        for how in ("sigterm", "sigkill"):
            for _ in range(restarts):
                served.stop(how)
                answered = await served.start()
                found[how].append(await _back(sites, answered))
                await asyncio.sleep(1.0)
    finally:
        for site in sites:
            await site.close()
        with contextlib.suppress(Exception):
            served.stop("sigterm")
    return found


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench restart", description=__doc__)
    parser.add_argument("--sizes", default="8,32", help="site counts (default 8,32)")
    parser.add_argument("--restarts", type=int, default=5, help="restarts of each kind")
    args = parser.parse_args(argv)
    rows = []
    for count in [int(v) for v in args.sizes.split(",")]:
        found = asyncio.run(measure(count, args.restarts))
        for how, values in found.items():
            rows.append(
                {
                    "sites": count,
                    "kind": how,
                    "p50_s": round(statistics.median(values), 2),
                    "p95_s": round(_p95(values), 2),
                    "all_s": [round(v, 2) for v in values],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print("\n| sites | restart | p50 (s) | p95 (s) |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['sites']} | {row['kind']} | {row['p50_s']} | {row['p95_s']} |")
    return 0
