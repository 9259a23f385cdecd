"""The interpretation scenario (issue 4): 3 booths × 40 listeners plus the main hall to 40 sites,
the server pinned to one core (``python -m bench interpretation``).

What is modelled. A bridge room (``servers.BoothServer``) with the main hall publishing
640x360 VP8 + Opus (``clients.Publisher``) and three booths (lo, en, vi), each with one
interpreter on air publishing a tone in Opus at 32 kbps and hearing the floor
(``source.audio``) and seeing the hall (``hall.video``), as the interpreter console does. The
40 sites receive ``hall.video``, ``hall.audio`` (the floor under the interpretation) and
``interpretation.audio``, choosing lo, en and vi in turn (14/13/13). A site has one
interpretation slot, so 40 sites give 40 listeners, not 120: the other 80 are individual
listeners joining as consoles that receive ``interpretation.audio`` only (delegates in the
hall, who hear the floor in the room), making 40 listeners per booth. The server forwards
40 × 2 hall streams, 120 interpretation streams and 3 × 2 interpreter streams.

How it is measured. Every role is its own process on 127.0.0.1; the server is pinned to one
CPU (the last) and the clients to the others. Each round measures two windows of the same
room: the booths off air (the main hall alone, the baseline) and on air (everything). Server
CPU is utime+stime from /proc per wall second (the median of sub-windows); µs per forwarded
packet is that over the forwarded rate, and the marginal cost of an interpretation packet the
difference between the two windows of a round. Listeners read RTP headers at their sockets
without decrypting (``bench.listeners``): losses are sequence gaps per stream; latency is the
receive time minus the send time each interpreter stamps in a CSRC, both CLOCK_MONOTONIC. The
same interpreters also send straight to every listener worker (no server): *added* latency is
bridge minus direct, at p50 and p95, in the same window. A cProfile of the server, on air,
ends the run (it slows the server while it runs, so it is not part of any window).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import report
from bench.interpretation_report import PHASES, analyse, markdown, progress, window, write
from bench.measure import (
    cpu_seconds,
    cpu_split,
    cpus_allowed,
    machine_jiffies,
    monotonic_us,
    rss_bytes,
    run_queue_wait,
)
from bench.run import REPO, Child, clear_logs, cpu_or_none, log, robust_cpu, until


@dataclass
class Scenario:
    sites: int = 40
    listeners_per_booth: int = 40
    languages: list[str] = field(default_factory=lambda: ["lo", "en", "vi"])
    rounds: int = 3
    window: float = 10.0
    subwindows: int = 3
    settle: float = 3.0
    peers_per_worker: int = 40
    server_cpu: int | None = None  # default: the last CPU this process may use
    pin_clients: bool = True  # the clients on the other CPUs
    nice: int = 0  # every bench process's; -10 (as root): ahead of other people's processes
    profile: float = 10.0  # seconds of cProfile at the end (0: none)
    fps: int = 30
    video_bitrate: int = 600_000
    audio_bitrate: int = 32_000
    out_dir: Path = field(default_factory=lambda: REPO / "bench" / "results")

    def cpus(self) -> tuple[list[int], list[int]]:
        """(the server's CPUs, the clients' CPUs)."""
        available = sorted(os.sched_getaffinity(0))
        server = available[-1] if self.server_cpu is None else self.server_cpu
        others = [cpu for cpu in available if cpu != server]
        return [server], others if self.pin_clients and others else available


def plan(s: Scenario) -> list[dict[str, str]]:
    """The room's receivers: sites choosing each language in turn, then listeners up to
    ``listeners_per_booth`` in each booth."""
    langs = s.languages
    peers = [
        {"name": f"site{i}", "kind": "site", "language": langs[i % len(langs)]}
        for i in range(s.sites)
    ]
    for lang in langs:
        have = sum(1 for p in peers if p["language"] == lang)
        peers += [
            {"name": f"listener-{lang}{j}", "kind": "listener", "language": lang}
            for j in range(max(0, s.listeners_per_booth - have))
        ]
    return peers


class Rig:
    """The processes of the scenario and the calls that drive them."""

    def __init__(self, s: Scenario) -> None:
        self.s = s
        self.children: list[Child] = []
        self.workers: list[Child] = []
        self._seen: dict[tuple[str, str], int] = {}  # (receiver, slot) → packets
        self.silent: list[str] = []  # the receivers ``receiving`` found without packets

    async def _start(self, role: str, name: str, cpus: list[int], **options: Any) -> Child:
        logs = self.s.out_dir / "logs"
        child = await Child.start(role, logs, name, cpus=cpus, nice=self.s.nice, **options)
        self.children.append(child)
        return child

    async def start(self) -> None:
        s = self.s
        server_cpus, client_cpus = s.cpus()
        booths = {lang: [f"interp-{lang}"] for lang in s.languages}
        self.server = await self._start("booths", "interp-server", server_cpus, booths=booths)
        self.publisher = await self._start(
            "publisher",
            "interp-publisher",
            client_cpus,
            fps=s.fps,
            video_bitrate=s.video_bitrate,
            audio_bitrate=s.audio_bitrate,
        )
        self.interpreters = await self._start(
            "interpreters",
            "interp-interpreters",
            client_cpus,
            languages=s.languages,
            bitrate=s.audio_bitrate,
        )
        peers = plan(s)
        count = max(1, math.ceil(len(peers) / s.peers_per_worker))
        self.workers = [
            await self._start("listeners", f"interp-listeners{w}", client_cpus)
            for w in range(count)
        ]
        url = self.server.url
        await self.publisher.call("connect", server=url)
        await self.interpreters.call("connect", server=url)
        log(f"interpretation: {len(peers)} receivers joining in {count} workers")
        await asyncio.gather(
            *(w.call("add", server=url, peers=peers[i::count]) for i, w in enumerate(self.workers))
        )
        for i, worker in enumerate(self.workers):
            language = s.languages[i % len(s.languages)]
            await self.interpreters.call(
                "direct", language=language, target=worker.url, receiver=f"direct{i}"
            )

    async def on_air(self, on: bool) -> None:
        for lang in self.s.languages:
            action = "on_air" if on else "off_air"
            await self.server.call(
                "interpret", action=action, interpreter=f"interp-{lang}", language=lang
            )

    async def peers(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for result in await asyncio.gather(*(w.call("stats") for w in self.workers)):
            merged.update(result)
        return merged

    async def receiving(self, slot: str) -> bool:
        """Whether every receiver with ``slot`` (if any) got packets on it since last asked."""
        peers = await self.peers()
        counts = {(name, slot): p[slot]["packets"] for name, p in peers.items() if slot in p}
        self.silent = sorted(
            name for (name, _), n in counts.items() if n <= self._seen.get((name, slot), 0)
        )
        self._seen |= counts
        return not self.silent

    async def snapshot(self) -> dict[str, Any]:
        server, peers, interpreters = await asyncio.gather(
            self.server.call("stats"), self.peers(), self.interpreters.call("stats")
        )
        pid = self.server.pid
        clients = [self.publisher, self.interpreters, *self.workers]
        return {
            "mono": time.monotonic(),
            "us": monotonic_us(),
            "server_cpu": cpu_seconds(pid),
            "server_user_sys": cpu_split(pid),
            "server_rss": rss_bytes(pid),
            "server_wait": run_queue_wait(pid),
            "server": server,
            "peers": peers,
            "interpreters": interpreters,
            "machine": machine_jiffies(),
            "clients_cpu": {c.role + str(i): cpu_or_none(c.pid) for i, c in enumerate(clients)},
        }

    async def latency(self, t0: int, t1: int) -> dict[str, Any]:
        bridge: dict[str, list[int]] = {}
        direct: list[int] = []
        for result in await asyncio.gather(
            *(w.call("latency", t0=t0, t1=t1) for w in self.workers)
        ):
            for lang, values in result["bridge"].items():
                bridge.setdefault(lang, []).extend(values)
            direct.extend(result["direct"])
        return {"bridge": bridge, "direct": direct}

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.children), return_exceptions=True)


def _count(peers: list[dict[str, str]]) -> dict[str, Any]:
    """How many sites, how many listeners, and how many of both per language."""
    per_language: dict[str, int] = {}
    for peer in peers:
        per_language[peer["language"]] = per_language.get(peer["language"], 0) + 1
    sites = sum(1 for peer in peers if peer["kind"] == "site")
    return {"sites": sites, "listeners": len(peers) - sites, "per_language": per_language}


async def _measure(rig: Rig, round_: int, phase: str) -> dict[str, Any]:
    s = rig.s
    snapshots = [await rig.snapshot()]
    for _ in range(s.subwindows):
        await asyncio.sleep(s.window / s.subwindows)
        snapshots.append(await rig.snapshot())
    before, after = snapshots[0], snapshots[-1]
    latency = await rig.latency(before["us"], after["us"])
    point = {"round": round_, "phase": phase} | window(before, after, latency)
    robust_cpu(point, snapshots)
    return point


async def run(s: Scenario) -> dict[str, Any]:
    clear_logs(s.out_dir / "logs", "interp-*.log")
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "windows": [],
        "receivers": _count(plan(s)),
    }
    rig = Rig(s)
    try:
        await rig.start()
        results["server_cpus"] = cpus_allowed(rig.server.pid)
        results["client_cpus"] = cpus_allowed(rig.publisher.pid)
        await _expect(rig, "hall.video", "every site receives the main hall")
        for round_ in range(1, s.rounds + 1):
            for phase in PHASES:
                await rig.on_air(phase == "interpretation")
                await asyncio.sleep(s.settle)
                if phase == "interpretation":
                    await _expect(rig, "interpretation.audio", "every listener hears its booth")
                point = await _measure(rig, round_, phase)
                results["windows"].append(point)
                log(progress(point))
        if s.profile > 0:
            await rig.on_air(True)
            await asyncio.sleep(s.settle)
            log(f"interpretation: profiling the server for {s.profile:.0f} s")
            results["profile"] = await rig.server.call("profile", seconds=s.profile)
    except Exception as exc:
        if not results["windows"]:
            raise
        # keep what was measured (a noisy neighbour can starve a pinned server into ICE
        # consent failures); the report says the run was cut short
        results["error"] = f"{type(exc).__name__}: {exc}"
        log(f"interpretation: stopped early: {results['error']}")
    finally:
        await rig.stop()
    results["duration_s"] = time.time() - started
    return results


async def _expect(rig: Rig, slot: str, what: str) -> None:
    """Wait until every receiver of ``slot`` gets packets; measure anyway after 30 s."""
    try:
        await until(what, lambda: rig.receiving(slot), 30)
    except RuntimeError as exc:
        log(f"interpretation: {exc}: not {', '.join(rig.silent[:10])} (measuring anyway)")


def parse(argv: list[str]) -> Scenario:
    defaults = Scenario()
    parser = argparse.ArgumentParser(
        prog="python -m bench interpretation",
        description="Concord interpretation benchmark (issue 4): booths and their listeners "
        "plus the main hall, the server pinned to one core (see bench/interpretation.py).",
    )
    parser.add_argument("--quick", action="store_true", help="2 rounds of 5 s windows")
    parser.add_argument("--sites", type=int, default=defaults.sites)
    parser.add_argument("--listeners-per-booth", type=int, default=defaults.listeners_per_booth)
    parser.add_argument(
        "--languages", default=",".join(defaults.languages), help="the booths (default lo,en,vi)"
    )
    parser.add_argument("--rounds", type=int, help="off-air/on-air window pairs (default 3)")
    parser.add_argument("--window", type=float, help="seconds measured per window (default 10)")
    parser.add_argument("--settle", type=float, default=defaults.settle)
    parser.add_argument("--peers-per-worker", type=int, default=defaults.peers_per_worker)
    parser.add_argument("--server-cpu", type=int, help="the server's CPU (default the last)")
    parser.add_argument(
        "--no-pin-clients", action="store_true", help="let the clients use the server's CPU too"
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="every bench process's nice value, each in its own session (negative, as root: "
        "ahead of other people's processes on a shared machine)",
    )
    parser.add_argument(
        "--profile", type=float, default=defaults.profile, help="seconds of cProfile (0: none)"
    )
    parser.add_argument("--out", type=Path, help="output folder (default bench/results)")
    args = parser.parse_args(argv)
    languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
    if not languages or args.sites < 0 or args.listeners_per_booth < 0:
        parser.error("give at least one language and non-negative counts")
    scenario = Scenario(
        sites=args.sites,
        listeners_per_booth=args.listeners_per_booth,
        languages=languages,
        rounds=args.rounds or (2 if args.quick else defaults.rounds),
        window=args.window or (5.0 if args.quick else defaults.window),
        settle=args.settle,
        peers_per_worker=args.peers_per_worker,
        server_cpu=args.server_cpu,
        pin_clients=not args.no_pin_clients,
        nice=args.nice,
        profile=args.profile,
    )
    if args.out:
        scenario.out_dir = args.out
    return scenario


def measure(scenario: Scenario) -> dict[str, Any]:
    """Run the scenario, write bench/results/interpretation.{json,md}, return the results."""
    results = asyncio.run(run(scenario))
    config = asdict(scenario)
    config["out_dir"] = str(scenario.out_dir)
    results = {"config": config, "environment": report.environment()} | results
    results["analysis"] = analyse(results)
    for kind, path in write(results, scenario.out_dir).items():
        log(f"{kind}: {path}")
    return results


def main(argv: list[str]) -> int:
    print(markdown(measure(parse(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
