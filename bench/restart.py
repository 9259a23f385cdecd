"""``python -m bench restart``: how long a restart costs the sites of a live room (issue 14).

A served ``concord serve`` (SQLite, the demo; the aid-review conference with sites added up to
the size measured) holds a room: the main hall publishes camera and microphone, every other
site receives it (audio-only publishers, so the clients' own encoding does not swamp the
machine). The server is stopped (SIGTERM) or killed (SIGKILL) and started again, 5 times each;
each time the figure is the seconds from the new process answering ``/healthz`` until every
receiving site has 3 frames of the main hall's video on a peer connection it offered after the
restart, with nobody admitting anyone (the room's state survives). Per site it also notes when
its socket was back, when it had joined again (admitted), when it offered and when its first
frame came (median and slowest site), and how late the watching loop woke (the sites share
one client process: a late loop means a busy client, and its steps are seen that late).
Sizes 8 and 32; p50 and p95 per kind. Traffic stays on 127.0.0.1.

Filling the room waits for each site in turn: admitted, then (the hall) its peer connection
connected or (a receiver) the hall's video arriving; a site with no video FILL_WAIT seconds
after offering offers again (``connect_media``), up to FILL_TRIES times, and the run reports
how often that was needed. A restart after which a site has no video within LIMIT seconds is
reported as such (and that site offers again), not left out.
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

from bench.served import Served, api_token, demo_environment, free_port
from rooms.synthetic import SyntheticSite
from server.live.simulate import SimulatedSite
from server.live.simulate_console import Operator

CONFERENCE, HALL = 2, 3
ORGANISER = "organiser@concord.example"
FILL_WAIT, FILL_TRIES = 15.0, 3
LIMIT = 60.0
BETWEEN = 2.0  # seconds between one restart's last site back and the next stop
STEPS = ("socket", "joined", "offered", "first_frame", "video")


async def _api(base: str, token: str, method: str, path: str, body: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, base + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as answer,
    ):
        assert answer.status in (200, 201), await answer.text()
        return await answer.json()


def _video_frames(media: SyntheticSite | None) -> int:
    if media is None:
        return 0
    return sum(r.frames for r in media.received.values() if r.kind == "video")


async def _until(check: Any, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _settle(site: SimulatedSite, receives: bool) -> tuple[float, int]:
    """After ``connect_media``: seconds until the site's media works, and the offers renewed."""
    began = time.monotonic()
    for renewed in range(FILL_TRIES):

        def works() -> bool:
            media = site.media
            if not receives:
                return media is not None and media.pc.connectionState == "connected"
            return _video_frames(media) >= 3

        if await _until(works, FILL_WAIT):
            return time.monotonic() - began, renewed
        print(f"# {site.name}: no media {FILL_WAIT} s after its offer; it offers again")
        await site.connect_media()
    raise RuntimeError(f"{site.name}: no media after {FILL_TRIES} offers")


async def _fill(
    served: Served,
    token: str,
    count: int,
    entry: str | None = None,
    conference: int = CONFERENCE,
    hall: int = HALL,
) -> list[SimulatedSite]:
    """The hall and ``count - 1`` receiving sites of ``conference``, all admitted with media
    (sites added to it as needed); ``entry``: the URL the sites come in through (a cluster's
    other node; default the served one)."""
    base, path = served.url, f"/api/conferences/{conference}"
    detail = await _api(base, token, "GET", path, None)
    site_ids = [s["id"] for s in detail["sites"] if s["id"] != hall]
    while len(site_ids) < count - 1:
        body = {"name": f"Bench site {len(site_ids)}", "time_zone": "Asia/Vientiane"}
        made = await _api(base, token, "POST", path + "/sites", body)
        site_ids.append(made["id"])
    console = Operator(base, token)  # (in a cluster it follows the room to its node)
    assert await console.join(conference), console.refusal
    sites, took, renewed = [], [], {}
    for number, site_id in enumerate([hall, *site_ids[: count - 1]]):
        invitation = {"site_id": site_id, "role": "delegate"}
        url = (await _api(base, token, "POST", path + "/invitations", invitation))["url"]
        site = SimulatedSite(
            entry or base,
            url[url.index("/join/") :],
            name=f"site-{site_id}",
            tone_hz=300 + 20 * number,
            publish_video=site_id == hall,
            video=(320, 180, 15),
        )
        sites.append(site)
        await site.start()
        await console.call("admit", {"site_id": site_id})
        await asyncio.wait_for(site.admitted.wait(), 10)
        await site.connect_media()
        seconds, offers = await _settle(site, receives=site_id != hall)
        took.append(seconds)
        if offers:
            renewed[site.name] = offers
    await console.close()
    print(
        json.dumps(
            {
                "fill": count,
                "media_s_p50": round(statistics.median(took), 2),
                "media_s_max": round(max(took), 2),
                "offers_renewed": renewed,
            }
        ),
        flush=True,
    )
    return sites


@dataclass
class Back:
    """One restart: seconds after ``/healthz`` answered, per site and step (None: not seen)."""

    steps: dict[str, dict[str, float]] = field(default_factory=dict)  # site → step → s
    missing: list[str] = field(default_factory=list)
    client_lag: float = 0.0  # the longest the watcher's 50 ms sleep overran: a busy client

    @property
    def seconds(self) -> float | None:
        if self.missing:
            return None
        return max(s["video"] for s in self.steps.values())

    def summary(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for step in STEPS:
            values = [s[step] for s in self.steps.values() if step in s]
            if values:
                found[step] = [round(statistics.median(values), 2), round(max(values), 2)]
        return found | {"client_lag_s": round(self.client_lag, 2)}


async def _back(
    sites: list[SimulatedSite], before: dict[str, SyntheticSite | None], since: float
) -> Back:
    """Watch every receiving site come back after the restart; ``before``: each site's peer
    connection before the stop (its frames do not count: the server that sent them is gone)."""
    receivers = sites[1:]
    joins = {s.name: s.reconnects for s in receivers}
    back = Back({s.name: {} for s in receivers})
    while time.monotonic() - since < LIMIT:
        now = round(time.monotonic() - since, 3)
        for site in receivers:
            seen = back.steps[site.name]
            new = site.media if site.media is not before[site.name] else None
            marks = {
                "socket": site.sio.connected,
                "joined": site.reconnects > joins[site.name] and site.admission == "admitted",
                "offered": new is not None,
                "first_frame": _video_frames(new) >= 1,
                "video": _video_frames(new) >= 3,
            }
            for step, reached in marks.items():
                if reached:
                    seen.setdefault(step, now)
        if all("video" in s for s in back.steps.values()):
            return back
        slept = time.monotonic()
        await asyncio.sleep(0.05)
        back.client_lag = max(back.client_lag, time.monotonic() - slept - 0.05)
    back.missing = sorted(n for n, s in back.steps.items() if "video" not in s)
    for site in receivers:
        if site.name in back.missing:
            print(f"# {site.name}: no video {LIMIT} s after the restart; it offers again")
            await site.connect_media()
    return back


async def measure(count: int, restarts: int) -> dict[str, list[Back]]:
    folder = Path(tempfile.mkdtemp(prefix="concord-bench-restart-"))
    port = free_port()
    env = demo_environment(folder / "data", port, live=CONFERENCE)
    served = Served(env, port, folder / "serve.log")
    await served.start()
    sites: list[SimulatedSite] = []
    found: dict[str, list[Back]] = {"sigterm": [], "sigkill": []}
    try:
        sites = await _fill(served, await api_token(served.url, ORGANISER, "bench"), count)
        for how in ("sigterm", "sigkill"):
            for _ in range(restarts):
                await asyncio.sleep(BETWEEN)
                before = {s.name: s.media for s in sites}
                stopped = time.monotonic()
                await asyncio.to_thread(served.stop if how == "sigterm" else served.kill)
                exited = time.monotonic() - stopped
                back = await _back(sites, before, await served.start())
                found[how].append(back)
                line = {"sites": count, "kind": how, "exit_s": round(exited, 2)}
                line |= {"back_s": back.seconds, "missing": back.missing} | back.summary()
                print(json.dumps(line), flush=True)
    finally:
        for site in sites:
            await site.close()
        served.stop()
    return found


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench restart", description=__doc__)
    parser.add_argument("--sizes", default="8,32", help="site counts (default 8,32)")
    parser.add_argument("--restarts", type=int, default=5, help="restarts of each kind")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for count in [int(v) for v in args.sizes.split(",")]:
        began = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        print(f"# {count} sites from {began}, load {_load()}", flush=True)
        found = asyncio.run(measure(count, args.restarts))
        print(f"# {count} sites done {time.strftime('%H:%M:%S')}, load {_load()}", flush=True)
        for how, backs in found.items():
            values = [b.seconds for b in backs if b.seconds is not None]
            row: dict[str, Any] = {
                "sites": count,
                "kind": how,
                "all_s": [None if b.seconds is None else round(b.seconds, 2) for b in backs],
                "p50_s": round(statistics.median(values), 2) if values else None,
                "p95_s": round(_p95(values), 2) if values else None,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| sites | restart | each restart (s) | p50 (s) | p95 (s) |\n|---|---|---|---|---|")
    for row in rows:
        each = ", ".join("none" if v is None else f"{v:.2f}" for v in row["all_s"])
        print(f"| {row['sites']} | {row['kind']} | {each} | {row['p50_s']} | {row['p95_s']} |")
    return 0
