"""A conference on a cluster of three ``concord serve`` processes (issue 16, "Done means"), on
PostgreSQL and Redis, with real aiortc sites (``concord simulate-sites``' code).

The main hall and the console come in through node A, the other sites, the English booth's
interpreter and a technician's dashboard through nodes B and C: all end up in the one room, on
the node rendezvous placed it on (A here, by the node ids), the sites receive the main hall's
picture and sound, the dashboard opened through C lists every site, and the floor moves
between sites that came in through different nodes. Node A is then killed with SIGKILL: its
room's lease runs out, the room reopens on another node from its kept state, and every site
comes back there by itself, admitted, with the same floor holder, the same interpreter on air
in the English booth and the same site listening to it, within ``FAILOVER_WITHIN`` seconds of
the kill; the interpreter's console follows by itself, and the dashboard there still has the
sparklines from before the kill. Node A, started again, takes a new conference's room but not
the old one back.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cluster_nodes import Cluster, cluster_environment, hold_live
from bench.served import api_token
from server.config import Config
from server.live.simulate import SimulatedSite, run_sites
from server.live.simulate_cli import _admit_all, invitation_paths
from server.live.simulate_console import Operator
from server.settings import load_config
from tests.cluster.conftest import names_placing

MOU, AID = 1, 2  # the demo's memorandum (2 sites) and its aid review (a hall and 24 sites)
SITES = 5  # the aid review's main hall and four of its sites
FAILOVER_WITHIN = 10.0
DRAIN_GAP = 2.0
ORGANISER = "organiser@concord.example"
INTERPRETER = "interpreter.en@concord.example"  # the aid review's English booth


def frames(site: SimulatedSite, slot: str) -> int:
    received = site.media.received if site.media is not None else {}
    return received[slot].frames if slot in received else 0


def connected_on(site: SimulatedSite, url: str) -> bool:
    return site.base_url == url and site.media_connected()


async def until(check: Callable[[], bool], limit: float, what: str) -> float:
    """Poll ``check`` every 0.05 s; the monotonic time it first held."""
    deadline = time.monotonic() + limit
    while not check():
        assert time.monotonic() < deadline, f"not within {limit} s: {what}"
        await asyncio.sleep(0.05)
    return time.monotonic()


async def three_nodes(
    postgres_url: str, redis_url: str, folder: Path
) -> tuple[Cluster, list[str], Config]:
    """Nodes a, b, c (ids such that the aid review and the memorandum are placed on a)."""
    names = names_placing((AID, MOU), ("a", "b", "c"))
    cluster = Cluster(cluster_environment(postgres_url, redis_url), names, folder)
    await asyncio.to_thread(cluster.demo)
    await hold_live(postgres_url, (MOU, AID))
    await cluster.start()
    env = cluster[names[0]].env
    return cluster, names, load_config(environ={k: v for k, v in env.items() if "CONCORD_" in k})


async def in_the_room(
    console: Operator, sites: list[SimulatedSite], owner: str
) -> list[asyncio.Task[Any]]:
    """The console joins, the sites start and are admitted; once all have media on ``owner``,
    the tasks running them."""
    assert await console.join(AID), console.refusal
    tasks = [
        asyncio.create_task(run_sites(sites, 600.0)),
        asyncio.create_task(_admit_all(console, sites)),
    ]
    await until(lambda: all(connected_on(s, owner) for s in sites), 40, "all on the room's node")
    return tasks


def floor_holder(site: SimulatedSite) -> Any:
    return site.states[-1]["floor"]["holder"] if site.states else None


def english(console: Operator) -> dict[str, Any]:
    """The English booth as the console sees it (on_air: the interpreter; listeners: sites)."""
    booths = console.state.get("interpretation", {}).get("booths", [])
    return next((b for b in booths if b["language"] == "en"), {})


async def dashboard_lists(entry: str, token: str, site_ids: set[int | None]) -> None:
    """A technician's dashboard opened through ``entry`` (it follows the room to its node, as
    the page does) lists every one of ``site_ids`` in its ``health.watch`` snapshot (once the
    room has reported: every 2 s)."""
    watcher = Operator(entry, token)
    listed: set[int] = set()
    try:
        assert await watcher.join(AID), watcher.refusal
        deadline = time.monotonic() + 10
        while not site_ids <= listed:
            assert time.monotonic() < deadline, (site_ids, listed)
            await asyncio.sleep(0.5)
            rows = (await watcher.call("health.watch", {}))["rows"]
            listed = {int(r["subject"][5:]) for r in rows if r["subject"].startswith("site:")}
    finally:
        await watcher.close()


async def test_three_nodes_one_room_a_killed_owner_and_a_node_that_comes_back(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    cluster, (a, b, c), config = await three_nodes(postgres_url, redis_url, tmp_path)
    token = await api_token(cluster[a].url, ORGANISER, "cluster test")
    console = Operator(cluster[a].url, token)
    paths = await invitation_paths(config, AID, SITES, skip_main_hall=False)
    entries = [a, b, c, b, c]  # the main hall through A, the others through B and C
    sites = [
        SimulatedSite(cluster[entry].url, path, name=name, tone_hz=300.0 + 100 * i)
        for i, ((name, path), entry) in enumerate(zip(paths, entries, strict=True))
    ]
    hall, *others = sites
    booth_token = await api_token(cluster[c].url, INTERPRETER, "booth")
    interpreter = Operator(cluster[c].url, booth_token, as_="interpreter", language="en")
    tasks: list[asyncio.Task[Any]] = []
    later: Operator | None = None
    try:
        tasks += await in_the_room(console, sites, owner := cluster[a].url)
        await until(lambda: all(frames(s, "hall.video") > 10 for s in others), 20, "hall video")
        await until(lambda: all(frames(s, "hall.audio") > 50 for s in others), 10, "hall audio")
        await dashboard_lists(cluster[c].url, token, {s.site_id for s in sites})

        # The English booth, its interpreter in through C, on air; a site from B listens.
        assert await interpreter.join(AID), interpreter.refusal
        assert interpreter.base_url == owner
        assert (await interpreter.call("booth.on_air", {}))["ok"]
        assert (await others[2].call("language", {"language": "en"}))["hears"] == "booth"
        await until(lambda: english(console).get("listeners") == 1, 5, "the English listener")
        on_air = english(console)["on_air"]
        assert on_air is not None

        # The floor, from a site that came in through B to one that came in through C.
        first, second = others[0].site_id, others[1].site_id
        await until(lambda: all(floor_holder(s) == first for s in sites), 10, "floor to B's")
        granted = await console.call("floor.grant", {"site_id": second})
        assert granted["ok"], granted
        await until(lambda: all(floor_holder(s) == second for s in sites), 10, "floor to C's")
        seen = frames(hall, "floor.video")
        await until(lambda: frames(hall, "floor.video") > seen + 10, 10, "the floor's video")

        # SIGKILL the owner: the room reopens on B or C; every site comes back by itself.
        cluster[a].kill()
        killed, killed_at = time.monotonic(), time.time()

        returned: dict[str, float] = {}

        def all_back() -> bool:
            for s in sites:
                if s.name not in returned and s.base_url != owner and s.media_connected():
                    returned[s.name] = round(time.monotonic() - killed, 2)
            there = hall.base_url
            return (
                there != owner
                and all(connected_on(s, there) for s in sites)
                and all(frames(s, "hall.video") > 0 for s in others)
            )

        try:
            back = await until(all_back, FAILOVER_WITHIN + 20, "every site on another node")
        except AssertionError:
            for s in sites:
                state = s.media.pc.connectionState if s.media else None
                print(s.name, s.base_url, s.admission, state, s.reconnects, s.ended, s.nodes.listed)
            raise
        new_owner = hall.base_url
        print(f"every site back on {new_owner} {back - killed:.2f} s after the kill: {returned}")
        assert back - killed <= FAILOVER_WITHIN
        assert {s.base_url for s in sites} == {new_owner}
        assert all(floor_holder(s) == second for s in sites), [s.states[-1] for s in sites]
        clients = (console, interpreter)
        await until(lambda: all(o.base_url == new_owner and o.joins == 2 for o in clients), 10, "")
        booth = english(console)
        assert booth["on_air"] == on_air and booth["listeners"] == 1, booth
        # The dashboard there still draws each site's sparkline from before the kill.
        history = (await console.call("health.watch", {}))["history"]
        for s in sites:
            assert min(p["t"] for p in history[f"site:{s.site_id}"]) < killed_at, s.name

        # Node A comes back: it takes a new room (MOU, which rendezvous places on it) and
        # leaves the aid review where it is.
        await cluster[a].start()
        later = Operator(cluster[b].url, token)
        assert await later.join(MOU), later.refusal
        assert later.base_url == cluster[a].url
        again = Operator(cluster[a].url, token)
        try:
            assert await again.join(AID), again.refusal
            assert again.base_url == new_owner
        finally:
            await again.close()
        assert all(s.base_url == new_owner for s in sites)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for hanging_up in (console, interpreter, later):
            if hanging_up is not None:
                with contextlib.suppress(Exception):
                    await hanging_up.close()
        cluster.stop()
    for node in cluster.nodes.values():
        assert "Traceback" not in node.log.read_text(), node.log.read_text()[-3000:]


async def test_a_drained_node_hands_its_room_over_without_a_gap_in_the_media(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """``concord nodes drain`` names the room's node: it hands the room to another node and
    stops (exit code 0); every site moves there with no gap in what it receives longer than
    ``DRAIN_GAP`` seconds, and keeps its admission and the floor."""
    cluster, (a, b, c), config = await three_nodes(postgres_url, redis_url, tmp_path)
    token = await api_token(cluster[b].url, ORGANISER, "cluster test")
    console = Operator(cluster[b].url, token)
    paths = await invitation_paths(config, AID, SITES, skip_main_hall=False)
    entries = [a, b, c, b, c]
    sites = [
        SimulatedSite(cluster[entry].url, path, name=name, tone_hz=300.0 + 100 * i)
        for i, ((name, path), entry) in enumerate(zip(paths, entries, strict=True))
    ]
    hall, *others = sites
    tasks: list[asyncio.Task[Any]] = []
    try:
        tasks += await in_the_room(console, sites, owner := cluster[a].url)
        await until(lambda: all(frames(s, "hall.video") > 30 for s in others), 20, "hall video")
        holder = others[0].site_id
        await until(lambda: all(floor_holder(s) == holder for s in sites), 10, "the floor")

        command = [sys.executable, "-m", "server", "nodes", "drain", a]
        asked = time.monotonic()
        drained = await asyncio.to_thread(
            subprocess.run, command, env=cluster[a].env, capture_output=True, text=True
        )
        stopped = time.monotonic() - asked
        assert drained.returncode == 0, drained.stdout + drained.stderr
        process = cluster[a].process
        assert process is not None and process.wait(10) == 0, cluster[a].log.read_text()[-3000:]

        def moved() -> bool:
            there = hall.base_url
            return there != owner and all(connected_on(s, there) for s in sites)

        await until(moved, 20, "every site on the new node")
        await asyncio.sleep(3.0)  # media there for a while
        reports = [site.report() for site in sites]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await console.close()
        cluster.stop()
    print(f"node A stopped {stopped:.1f} s after it was asked to drain")
    for report in reports:
        print(report.line())
        assert report.longest_media_gap_s <= DRAIN_GAP, report
    assert all(s.admission == "admitted" and floor_holder(s) == holder for s in sites)
