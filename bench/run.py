"""The orchestrator: starts every role in its own process, grows the load, measures windows.

For each server (the SFU, then the MediaRelay baseline) it starts the server process, connects
the publisher and the probe, then for each N adds count-only sites (in worker processes of at
most ``sites_per_worker`` sites each), waits until every site receives video, lets things
settle, and measures one window: the server's CPU and RSS from /proc, its forwarded-packet
counter, every site's counters, the publisher's sent counters and the probe's latencies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp

from bench.measure import cpu_seconds, cpu_split, machine_jiffies, median, rss_bytes
from bench.node import call

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Options:
    sizes: list[int]
    relay_sizes: list[int]
    window: float = 10.0
    subwindows: int = 3  # server CPU is the median over these parts of the window
    settle: float = 3.0
    sites_per_worker: int = 16
    width: int = 640
    height: int = 360
    fps: int = 30
    video_bitrate: int = 600_000
    audio_bitrate: int = 32_000
    relay: bool = True
    micro: bool = True
    out_dir: Path = field(default_factory=lambda: REPO / "bench" / "results")

    @property
    def log_dir(self) -> Path:
        return self.out_dir / "logs"


def _log_file(log_dir: Path, name: str) -> BinaryIO:
    """A child's stderr: ``<log_dir>/<name>.log``, appended to."""
    log_dir.mkdir(parents=True, exist_ok=True)
    return open(log_dir / f"{name}.log", "ab")  # the caller closes it


class Child:
    """One bench process (``python -m bench.node ROLE``) and its RPC address."""

    def __init__(self, role: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.role = role
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.session: aiohttp.ClientSession | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    async def start(cls, role: str, log_dir: Path, name: str = "", **options: Any) -> Child:
        with _log_file(log_dir, name or role) as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.node",
                role,
                json.dumps(options),
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=REPO,
                env=os.environ | {"PYTHONPATH": str(REPO)},
            )
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{role} did not start; see {log_dir}/{name or role}.log")
        child = cls(role, proc, int(line.split()[1]))
        child.session = aiohttp.ClientSession()
        return child

    async def call(self, name: str, **kwargs: Any) -> Any:
        assert self.session is not None
        return await call(self.session, self.url, name, **kwargs)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                await asyncio.wait_for(self.call("shutdown"), 5)
                await asyncio.wait_for(self.proc.wait(), 30)
            except Exception:
                pass
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self.session is not None:
            await self.session.close()
            self.session = None


def cpu_or_none(pid: int) -> float | None:
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


class Load:
    """Count-only sites spread over worker processes."""

    def __init__(self, opts: Options, tag: str) -> None:
        self.opts = opts
        self.tag = tag
        self.workers: list[tuple[Child, list[str]]] = []

    @property
    def count(self) -> int:
        return sum(len(names) for _, names in self.workers)

    async def grow(self, server: Child, total: int) -> None:
        names = [f"site{i}" for i in range(self.count, total)]
        plan: list[tuple[Child, list[str]]] = []
        for worker, hosted in self.workers:
            room = self.opts.sites_per_worker - len(hosted)
            if room > 0 and names:
                plan.append((worker, names[:room]))
                names = names[room:]
        while names:
            index = len(self.workers)
            worker = await Child.start("sites", self.opts.log_dir, name=f"{self.tag}-sites{index}")
            self.workers.append((worker, []))
            plan.append((worker, names[: self.opts.sites_per_worker]))
            names = names[self.opts.sites_per_worker :]
        await asyncio.gather(*(w.call("add", server=server.url, names=n) for w, n in plan))
        for worker, added in plan:
            hosted = next(h for w, h in self.workers if w is worker)
            hosted.extend(added)

    async def stats(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for result in await asyncio.gather(*(w.call("stats") for w, _ in self.workers)):
            merged.update(result)
        return merged

    async def close(self) -> None:
        await asyncio.gather(*(w.stop() for w, _ in self.workers), return_exceptions=True)
        self.workers = []


async def until(what: str, check: Any, within: float, interval: float = 0.25) -> float:
    start = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise RuntimeError(f"not within {within} s: {what}")
        await asyncio.sleep(interval)


async def _snapshot(server: Child, load: Load, publisher: Child, probe: Child) -> dict[str, Any]:
    stats, sites, pub = await asyncio.gather(
        server.call("stats"), load.stats(), publisher.call("stats")
    )
    # Read the clocks right after the calls, so both snapshots include one stats call each.
    return {
        "wall": time.time(),
        "mono": time.monotonic(),
        "server_cpu": cpu_seconds(server.pid),
        "server_user_sys": cpu_split(server.pid),
        "server_rss": rss_bytes(server.pid),
        "server": stats,
        "sites": sites,
        "publisher": pub,
        "machine": machine_jiffies(),
        "cpu": {
            "publisher": cpu_or_none(publisher.pid),
            "probe": cpu_or_none(probe.pid),
            "workers": [cpu_or_none(w.pid) for w, _ in load.workers],
        },
    }


def _rate(after: dict[str, Any], before: dict[str, Any], seconds: float, *path: str) -> float:
    a: Any = after
    b: Any = before
    for key in path:
        a, b = a.get(key, {}), b.get(key, {})
    return ((a or 0) - (b or 0)) / seconds


def _point(
    before: dict[str, Any], after: dict[str, Any], latency: dict[str, Any]
) -> dict[str, Any]:
    seconds = after["mono"] - before["mono"]
    cpu = (after["server_cpu"] - before["server_cpu"]) / seconds
    forwarded = (after["server"]["forwarded"] - before["server"]["forwarded"]) / seconds
    sites = []
    for name, now in after["sites"].items():
        then = before["sites"].get(name)
        if then is None:
            continue
        video, audio = now["hall.video"], now["hall.audio"]
        video0, audio0 = then["hall.video"], then["hall.audio"]
        sites.append(
            {
                "site": name,
                "fps": (video["frames"] - video0["frames"]) / seconds,
                "video_pps": (video["packets"] - video0["packets"]) / seconds,
                "audio_pps": (audio["packets"] - audio0["packets"]) / seconds,
                "lost": (video["lost"] - video0["lost"]) + (audio["lost"] - audio0["lost"]),
                "rtcp_lost": now["rtcp_lost"] - then["rtcp_lost"],
                "connected": now["state"] == "connected",
            }
        )
    fps = [s["fps"] for s in sites]
    pub_fps = _rate(after, before, seconds, "publisher", "frames")
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    steal = after["machine"][2] - before["machine"][2]
    others = {}
    for role in ("publisher", "probe"):
        a, b = after["cpu"][role], before["cpu"][role]
        others[role] = None if a is None or b is None else (a - b) / seconds
    workers = [
        (a - b) / seconds
        for a, b in zip(after["cpu"]["workers"], before["cpu"]["workers"], strict=False)
        if a is not None and b is not None
    ]
    others["workers"] = sum(workers)
    bridge, direct = latency["bridge"], latency["direct"]
    added = None
    if bridge["p95_ms"] is not None and direct["p95_ms"] is not None:
        added = bridge["p95_ms"] - direct["p95_ms"]
    user = (after["server_user_sys"][0] - before["server_user_sys"][0]) / seconds
    system = (after["server_user_sys"][1] - before["server_user_sys"][1]) / seconds
    return {
        "window_s": seconds,
        "server_cpu": cpu,
        "server_user": user,
        "server_system": system,
        "server_rss_mb": after["server_rss"] / 2**20,
        "forwarded_pps": forwarded,
        "received_pps": _rate(after, before, seconds, "server", "received") or None,
        "us_per_packet": cpu / forwarded * 1e6 if forwarded else None,
        "sites_measured": len(sites),
        "sites_connected": sum(s["connected"] for s in sites),
        "min_fps": min(fps) if fps else None,
        "median_fps": median(fps),
        "max_fps": max(fps) if fps else None,
        "min_audio_pps": min((s["audio_pps"] for s in sites), default=None),
        "median_video_pps": median([s["video_pps"] for s in sites]),
        "lost": sum(s["lost"] for s in sites),
        "rtcp_lost": sum(s["rtcp_lost"] for s in sites),
        "sites_with_loss": sum(1 for s in sites if s["lost"] > 0 or s["rtcp_lost"] > 0),
        "publisher_fps": pub_fps,
        "publisher_video_kbps": _rate(
            after, before, seconds, "publisher", "bridge", "video", "octets"
        )
        * 8
        / 1000,
        "publisher_audio_kbps": _rate(
            after, before, seconds, "publisher", "bridge", "audio", "octets"
        )
        * 8
        / 1000,
        "machine_busy": busy / total if total else None,
        "machine_steal": steal / total if total else None,
        "other_cpu": others,
        "latency": latency,
        "bridge_p50_ms": bridge["p50_ms"],
        "bridge_p95_ms": bridge["p95_ms"],
        "direct_p50_ms": direct["p50_ms"],
        "direct_p95_ms": direct["p95_ms"],
        "added_p95_ms": added,
        "probe_fps": bridge["fps"],
        "probe_direct_fps": direct["fps"],
        "keyframe_requests": after["server"].get("keyframe_requests"),
        "per_site": sites,
    }


def server_rates(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    seconds = after["mono"] - before["mono"]
    cpu = (after["server_cpu"] - before["server_cpu"]) / seconds
    forwarded = (after["server"]["forwarded"] - before["server"]["forwarded"]) / seconds
    return {
        "server_cpu": cpu,
        "server_user": (after["server_user_sys"][0] - before["server_user_sys"][0]) / seconds,
        "server_system": (after["server_user_sys"][1] - before["server_user_sys"][1]) / seconds,
        "forwarded_pps": forwarded,
    }


def robust_cpu(point: dict[str, Any], snapshots: list[dict[str, Any]]) -> None:
    """Server CPU and forwarded rate as medians over the sub-windows (a noisy neighbour's
    burst in one of them moves the median less than the mean); the whole-window means are
    kept beside them."""
    subs = [server_rates(a, b) for a, b in itertools.pairwise(snapshots)]
    point["subwindows"] = subs
    for key in ("server_cpu", "server_user", "server_system", "forwarded_pps"):
        point[f"{key}_window_mean"] = point[key]
        point[key] = median([s[key] for s in subs])
    point["us_per_packet"] = median(
        [s["server_cpu"] / s["forwarded_pps"] * 1e6 for s in subs if s["forwarded_pps"]]
    )


def _collapse(point: dict[str, Any], cores: int) -> str | None:
    """Why the baseline stops growing here, if it does."""
    publisher = point["publisher_fps"] or 0
    if point["min_fps"] is not None and point["min_fps"] < 0.5 * publisher:
        return (
            f"lowest site frame rate {point['min_fps']:.1f} fps < 50% of the publisher's "
            f"{publisher:.1f} fps"
        )
    if point["server_cpu"] >= 0.9 * cores:
        return f"server CPU saturated ({point['server_cpu']:.2f} s/s on {cores} cores)"
    if point["machine_busy"] is not None and point["machine_busy"] >= 0.95:
        return f"machine CPU saturated ({point['machine_busy']:.0%} of all cores busy)"
    return None


async def _measure_server(
    kind: str, sizes: list[int], opts: Options, publisher: Child, probe: Child
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if kind == "relay":
        options = {"video_bitrate": opts.video_bitrate, "audio_bitrate": opts.audio_bitrate}
    server = await Child.start(kind, opts.log_dir, **options)
    load = Load(opts, kind)
    points: list[dict[str, Any]] = []
    collapse: dict[str, Any] | None = None
    cores = os.cpu_count() or 1
    try:
        await publisher.call("connect", server=server.url)
        await probe.call("connect", server=server.url)

        async def probe_sees_video() -> bool:
            return (await probe.call("frames"))["bridge"] > 5

        await until(f"{kind}: the probe decodes the main hall", probe_sees_video, 30)
        for n in sizes:
            started = time.monotonic()
            await load.grow(server, n)
            joined = time.monotonic() - started

            async def every_site_receives(n: int = n) -> bool:
                stats = await load.stats()
                return len(stats) >= n and all(
                    s["hall.video"]["frames"] > 2 and s["hall.audio"]["packets"] > 2
                    for s in stats.values()
                )

            try:
                await until(f"{kind}: {n} sites receive media", every_site_receives, 60, 0.5)
            except RuntimeError as exc:
                log(f"{exc} (measuring anyway)")
            await asyncio.sleep(opts.settle)
            snapshots = [await _snapshot(server, load, publisher, probe)]
            for _ in range(opts.subwindows):
                await asyncio.sleep(opts.window / opts.subwindows)
                snapshots.append(await _snapshot(server, load, publisher, probe))
            before, after = snapshots[0], snapshots[-1]
            latency = await probe.call(
                "window", t0=int(before["wall"] * 1000), t1=int(after["wall"] * 1000)
            )
            point = {"n": n, "join_s": joined} | _point(before, after, latency)
            robust_cpu(point, snapshots)
            points.append(point)
            log(_progress(kind, point))
            if kind == "relay":
                reason = _collapse(point, cores)
                if reason is not None:
                    collapse = {"n": n, "reason": reason}
                    log(f"relay: collapsed at N={n}: {reason}; not growing further")
                    break
    finally:
        await load.close()
        for child, name in ((probe, "leave"), (publisher, "disconnect")):
            try:
                await child.call(name)
            except Exception as exc:
                log(f"{child.role} {name}: {exc}")
        await server.stop()
    return {"points": points, "collapse": collapse}


def _progress(kind: str, p: dict[str, Any]) -> str:
    def f(value: Any, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    return (
        f"{kind} N={p['n']}: cpu {p['server_cpu']:.3f} s/s, {p['forwarded_pps']:.0f} pkt/s "
        f"({f(p['us_per_packet'], '.1f')} µs/pkt), rss {p['server_rss_mb']:.0f} MB, "
        f"fps min {f(p['min_fps'], '.1f')} (publisher {p['publisher_fps']:.1f}), "
        f"lost {p['lost']}/{p['rtcp_lost']}, latency p95 {f(p['bridge_p95_ms'], '.0f')} ms "
        f"(direct {f(p['direct_p95_ms'], '.0f')}), machine {f(p['machine_busy'], '.0%')} busy"
    )


async def _run_micro(opts: Options) -> dict[str, Any] | None:
    log("micro-benchmark of the forwarding send path")
    with _log_file(opts.log_dir, "micro") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.micro",
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=REPO,
            env=os.environ | {"PYTHONPATH": str(REPO)},
        )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 180)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log("micro-benchmark timed out")
        return None
    if proc.returncode != 0:
        log(f"micro-benchmark failed; see {opts.log_dir / 'micro.log'}")
        return None
    return json.loads(out.decode().strip().splitlines()[-1])


def clear_logs(log_dir: Path, pattern: str = "*.log") -> None:
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob(pattern):
        old.unlink()


async def run(opts: Options) -> dict[str, Any]:
    clear_logs(opts.log_dir)
    started = time.time()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "servers": {},
    }
    children: list[Child] = []
    try:
        probe = await Child.start("probe", opts.log_dir)
        children.append(probe)
        publisher = await Child.start(
            "publisher",
            opts.log_dir,
            width=opts.width,
            height=opts.height,
            fps=opts.fps,
            video_bitrate=opts.video_bitrate,
            audio_bitrate=opts.audio_bitrate,
        )
        children.append(publisher)
        await publisher.call("direct", probe=probe.url)
        log("publisher → probe direct connection up")
        plan = [("sfu", opts.sizes)]
        if opts.relay and opts.relay_sizes:
            plan.append(("relay", opts.relay_sizes))
        for kind, sizes in plan:
            log(f"{kind}: N = {', '.join(map(str, sizes))}")
            results["servers"][kind] = await _measure_server(kind, sizes, opts, publisher, probe)
    finally:
        await asyncio.gather(*(c.stop() for c in children), return_exceptions=True)
    if opts.micro:
        results["micro"] = await _run_micro(opts)
    results["duration_s"] = time.time() - started
    return results


def default_sizes(quick: bool) -> tuple[list[int], list[int]]:
    if quick:
        return [1, 4, 16, 32], [1, 2, 4]
    return [1, 2, 4, 8, 16, 32, 64], [1, 2, 4, 8, 16]
