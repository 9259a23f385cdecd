"""``python -m bench scheduling``: latency of the scheduling API with 10,000 conferences (issue 5).

For each backend (PostgreSQL in a database of its own, ``concord_bench``, dropped at the end;
and SQLite in a temporary file) the run migrates, loads the demo (users), bulk-inserts the
conferences (``bench.scheduling_data``), serves ``create_app`` on 127.0.0.1 in this process
and times requests one at a time from an aiohttp client after a warm-up: the conference list
(first page as admin and as an organiser, a filtered page), the timetable's occurrences, the
conference page, the conflict-checked session writes (409, and 201 followed by its DELETE),
and the 1,000-session feed (``server.ical.ics.calendar`` directly, and over HTTP when the
route exists). Targets: p95 ≤ 50 ms for the API calls, ≤ 200 ms for the feed. Calls over
target are profiled (cProfile, server and client together) and the top functions written.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event, select
from sqlalchemy.orm import selectinload

from bench.scheduling_data import Fixture, populate

RESULTS = Path(__file__).parent / "results"
ADMIN_URL = os.environ.get(
    "CONCORD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BENCH_DB = "concord_bench"
API_TARGET_MS = 50.0
FEED_TARGET_MS = 200.0


@dataclass
class Options:
    backends: list[str] = field(default_factory=lambda: ["postgresql", "sqlite"])
    conferences: int = 10_000
    requests: int = 200
    warmup: int = 20
    profile: int = 30  # requests profiled for a call over target (0: none)
    out_dir: Path = RESULTS


def log(message: str) -> None:
    print(f"[scheduling {time.strftime('%H:%M:%S')}] {message}", flush=True)


def stats(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean in ms of samples in seconds (nearest-rank percentiles)."""
    ordered = sorted(s * 1000 for s in samples)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {
        "n": len(ordered),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def profile_top(profiler: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(limit)
    text = out.getvalue()
    return text[text.find("   ncalls") :] if "   ncalls" in text else text


class Client:
    """A signed-in browser: ``call`` checks the status and returns the seconds it took."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def sign_in(self, email: str, password: str | None = None) -> None:
        from server.demo.data import demo_password

        body = {"email": email, "password": password or demo_password(email)}
        async with self.http.post(self.base + "/api/session", json=body) as response:
            assert response.status == 201, await response.text()
            self.csrf = (await response.json())["csrf_token"]

    async def call(
        self, method: str, path: str, expect: int, body: Any = None
    ) -> tuple[float, Any]:
        headers = {"X-CSRF-Token": self.csrf}
        started = time.perf_counter()
        async with self.http.request(
            method, self.base + path, json=body, headers=headers
        ) as response:
            data = await response.read()
            elapsed = time.perf_counter() - started
            if response.status != expect:
                raise AssertionError(f"{method} {path}: {response.status} {data[:300]!r}")
        parsed = json.loads(data) if data and "json" in response.content_type else data
        return elapsed, parsed

    async def close(self) -> None:
        await self.http.close()


Timed = Callable[[], Awaitable[float]]
#: Statements executed by the app's engine (``count_statements``).
STATEMENTS = [0]


def count_statements(engine: Any) -> None:
    def counted(*_: Any) -> None:
        STATEMENTS[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", counted)


async def measure(opts: Options, name: str, target: float, once: Timed) -> dict[str, Any]:
    """Warm up, time ``opts.requests`` calls, profile them if over target. A failing call is
    recorded (``error``) and the run goes on: the tree may be changing under the benchmark."""
    try:
        return await _measure(opts, name, target, once)
    except (AssertionError, aiohttp.ClientError) as exc:
        log(f"{name}: failed: {str(exc)[:200]}")
        return {"name": name, "target_ms": target, "n": 0, "error": str(exc)[:500]}


async def _measure(opts: Options, name: str, target: float, once: Timed) -> dict[str, Any]:
    for _ in range(opts.warmup):
        await once()
    cpu, queries = time.process_time(), STATEMENTS[0]
    samples = [await once() for _ in range(opts.requests)]
    cpu = (time.process_time() - cpu) / opts.requests * 1000
    result: dict[str, Any] = {"name": name, "target_ms": target, **stats(samples)}
    # This process's CPU (server, client and, for SQLite, the database) per request; the
    # rest of the wall time is PostgreSQL, worker threads' waits, or other people's load.
    result["cpu_ms"] = round(cpu, 2)
    result["load"] = round(os.getloadavg()[0], 2)
    # SQL statements the app sent per request (its engine; the DELETE of a 201 included).
    result["queries"] = round((STATEMENTS[0] - queries) / opts.requests, 1)
    result["met"] = result["p95"] <= target
    if not result["met"] and opts.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(opts.profile):
            await once()
        profiler.disable()
        result["profile"] = profile_top(profiler)
    log(f"{name}: p50 {result['p50']:.1f} p95 {result['p95']:.1f} p99 {result['p99']:.1f} ms")
    return result


def render_feed(events: list[Any], cache: Any = None) -> Timed:
    from server.ical.ics import calendar

    async def once() -> float:
        started = time.perf_counter()
        calendar(events, name="Bench feed", cache=cache)
        return time.perf_counter() - started

    return once


async def feed_events(database: Any, conference_id: int) -> list[Any]:
    """The feed conference's sessions as calendar events (``series.event_of``)."""
    from server.conferences.series import event_of
    from server.models import AgendaSession, Conference

    async with database.session() as db:
        conference = await db.scalar(
            select(Conference)
            .where(Conference.id == conference_id)
            .options(selectinload(Conference.sessions).selectinload(AgendaSession.sites))
        )
    assert conference is not None
    return [event_of(s, []) for s in conference.sessions if s.series_id is None]


def getter(client: Client, path: str) -> Timed:
    async def once() -> float:
        return (await client.call("GET", path, 200))[0]

    return once


async def api_calls(
    opts: Options, admin: Client, organiser: Client, fx: Fixture, routes: set[str]
) -> list[dict[str, Any]]:
    """The list, the timetable's data and page, and the conflict-checked writes."""
    out: list[dict[str, Any]] = []
    target = API_TARGET_MS
    filtered = "/api/conferences?status=scheduled,approved&from=2027-01-01&to=2028-01-01&offset=50"
    occ = "/api/conferences/{}/occurrences"
    reads = [
        ("list, first page (admin: all 10k)", admin, "/api/conferences"),
        ("list, first page (organiser)", organiser, "/api/conferences"),
        ("list, filtered 2nd page (admin)", admin, filtered),
        ("list, filtered 2nd page (organiser)", organiser, filtered),
        ("occurrences, 3-day conference", organiser, occ.format(fx.typical_id)),
        ("occurrences, weekly series conference", admin, occ.format(fx.series_id)),
        ("conference page (HTML)", organiser, f"/conferences/{fx.typical_id}"),
    ]
    if "/conferences/{conference_id}/timetable" in routes:
        page = "/conferences/{}/timetable"
        reads.append(("timetable page, 3-day conference", organiser, page.format(fx.typical_id)))
        reads.append(("timetable page, weekly series", admin, page.format(fx.series_id)))
    for name, client, path in reads:
        out.append(await measure(opts, name, target, getter(client, path)))
    sessions = f"/api/conferences/{fx.write_id}/sessions"

    def body(slot: tuple[str, str]) -> dict[str, Any]:
        return {"title": "Bench", "starts_at": slot[0], "ends_at": slot[1]}

    async def collide() -> float:
        return (await organiser.call("POST", sessions, 409, body(fx.collide)))[0]

    deletes: list[float] = []

    async def create_delete() -> float:
        took, made = await organiser.call("POST", sessions, 201, body(fx.free))
        deletes.append((await organiser.call("DELETE", f"{sessions}/{made['id']}", 204))[0])
        return took

    out.append(await measure(opts, "POST session, conflict (409)", target, collide))
    out.append(await measure(opts, "POST session, no conflict (201)", target, create_delete))
    kept = deletes[opts.warmup : opts.warmup + opts.requests]
    out.append({"name": "DELETE that session (204)", "target_ms": target, **stats(kept)})
    out[-1]["met"] = out[-1]["p95"] <= target
    big = ("occurrences, 1,000-session conference (extra)", occ.format(fx.feed_id))
    out.append(await measure(opts, big[0], target, getter(admin, big[1])))
    return out


async def calendar_calls(
    opts: Options, admin: Client, fx: Fixture, app: web.Application, database: Any
) -> list[dict[str, Any]]:
    """The 1,000-session feed: ``calendar()`` directly (icalendar from scratch, then with its
    events' bytes cached), the conference's ``.ics`` and the owner's personal feed, each with
    nothing cached, after one session changed (the usual case: its feed must be rendered
    again, the 999 others' bytes are reused), after a restart (the process's cache empty, the
    renderings stored in the database) and, for the feed, unchanged (bytes cached)."""
    from bench.scheduling_data import FEED_PASSWORD
    from server.ical.rendered import RenderedEvents
    from server.keys import FEED_CACHE, RENDERED_EVENTS

    target = FEED_TARGET_MS
    out: list[dict[str, Any]] = []
    events = await feed_events(database, fx.feed_id)
    name = f"calendar() on {len(events)} events (direct, from scratch)"
    out.append(await measure(opts, name, target, render_feed(events)))
    name = f"calendar() on {len(events)} events (direct, events cached)"
    out.append(await measure(opts, name, target, render_feed(events, RenderedEvents())))
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    if "/api/conferences/{conference_id}/calendar.ics" not in routes:
        out.append({"name": "HTTP feeds: not routed in this tree", "target_ms": target, "n": 0})
        return out
    owner = Client(admin.base)
    try:
        await owner.sign_in(fx.feed_owner_email, FEED_PASSWORD)
        _, agenda = await owner.call("GET", f"/api/conferences/{fx.feed_id}/sessions", 200)
        one = f"/api/conferences/{fx.feed_id}/sessions/{agenda[0]['id']}"
        changes = [0]

        def after_change(client: Client, path: str) -> Timed:
            async def once() -> float:
                changes[0] += 1
                await owner.call("PATCH", one, 200, {"title": f"Bench change {changes[0]}"})
                return (await client.call("GET", path, 200))[0]

            return once

        path = f"/api/conferences/{fx.feed_id}/calendar.ics"
        rendered = app[RENDERED_EVENTS]
        limit, rendered.max_bytes = rendered.max_bytes, 0
        rendered.clear()
        try:
            name = "conference .ics, 1,000 sessions, nothing cached"
            out.append(await measure(opts, name, target, getter(admin, path)))
        finally:
            rendered.max_bytes = limit
        name = "conference .ics, 1,000 sessions, after one changed"
        out.append(await measure(opts, name, target, after_change(admin, path)))

        async def restarted() -> float:
            rendered.clear()  # as after a restart: only the stored renderings are left
            return (await admin.call("GET", path, 200))[0]

        name = "conference .ics, 1,000 sessions, after a restart (stored renderings)"
        out.append(await measure(opts, name, target, restarted))
        _, made = await owner.call("POST", "/api/me/calendar-feeds", 201, {"name": "bench"})
        feed = f"/calendar/{made['token']}.ics"
        cache = app[FEED_CACHE]
        took, _ = await owner.call("GET", feed, 200)
        out.append(
            {
                "name": "personal feed, 1,000 sessions, first request (after the .ics)",
                **stats([took]),
            }
        )
        out[-1] |= {"target_ms": target, "met": took * 1000 <= target}
        kept, cache.max_age, rendered.max_bytes = cache.max_age, 0.0, 0
        rendered.clear()
        try:
            name = "personal feed, 1,000 sessions, nothing cached"
            out.append(await measure(opts, name, target, getter(owner, feed)))
        finally:
            cache.max_age, rendered.max_bytes = kept, limit
        name = "personal feed, 1,000 sessions, after one changed"
        out.append(await measure(opts, name, target, after_change(owner, feed)))
        name = "personal feed, 1,000 sessions, unchanged (cached)"
        out.append(await measure(opts, name, target, getter(owner, feed)))
    finally:
        await owner.close()
    return out


async def scenarios(
    opts: Options, base: str, fx: Fixture, app: web.Application, database: Any
) -> list[dict[str, Any]]:
    admin, organiser = Client(base), Client(base)
    try:
        await admin.sign_in("admin@concord.example")
        await organiser.sign_in(fx.organiser_email)
        routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
        out = await api_calls(opts, admin, organiser, fx, routes)
        out += await calendar_calls(opts, admin, fx, app, database)
    finally:
        await admin.close()
        await organiser.close()
    return out


async def _postgres(drop_only: bool = False) -> str:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await conn.close()
    return "postgresql+asyncpg://" + ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0] + "/" + BENCH_DB


async def run_backend(opts: Options, backend: str, tmp: Path) -> dict[str, Any]:
    from server.accounts.passwords import Passwords
    from server.app import create_app
    from server.db import Database
    from server.demo.loader import load_demo
    from server.keys import DATABASE
    from server.search.index import keep_index
    from server.settings import load_config

    if backend == "postgresql":
        url = await _postgres()
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    config = load_config(
        environ={
            "CONCORD_DATA_DIR": str(tmp / f"data-{backend}"),
            "CONCORD_DATABASE_URL": url,
            "CONCORD_SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
            "CONCORD_ARGON2_TIME_COST": "1",
            "CONCORD_ARGON2_MEMORY_KIB": "1024",
        }
    )
    database = keep_index(Database(url))
    runner: web.AppRunner | None = None
    try:
        started = time.perf_counter()
        await database.upgrade()
        await load_demo(database, Passwords.from_config(config))
        log(f"{backend}: migrated and demo loaded in {time.perf_counter() - started:.1f} s")
        fixture = await populate(database, Passwords.from_config(config), opts.conferences)
        log(f"{backend}: {fixture.counts} in {fixture.seconds:.1f} s")
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        count_statements(app[DATABASE].engine)
        gc.collect()
        gc.freeze()  # as ``concord serve`` does once started (server.cli._freeze_heap)
        port = runner.addresses[0][1]
        calls = await scenarios(opts, f"http://127.0.0.1:{port}", fixture, app, database)
        return {"backend": backend, "fixture": asdict(fixture), "calls": calls}
    finally:
        if runner is not None:
            await runner.cleanup()
        await database.close()
        if backend == "postgresql":
            await _postgres(drop_only=True)


def environment() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Scheduling benchmark (issue 5)",
        "",
        "Machine: {cpus} CPUs ({machine}), Python {python}, {date}; load average {load_average}"
        " before, {load_average_after} after (shared machine: compare within a run).".format(
            **results["environment"]
        ),
        "",
        "Requests one at a time after warm-up, client and server in one process on 127.0.0.1;"
        " times in ms. Targets: API p95 ≤ 50 ms, 1,000-session feed ≤ 200 ms.",
    ]
    for backend in results["backends"]:
        fx = backend["fixture"]
        lines += [
            "",
            f"## {backend['backend']}",
            "",
            f"{fx['conferences']} conferences, {fx['sessions']} sessions, {fx['sites']} sites,"
            f" {fx['bookings']} bookings (generated in {fx['seconds']:.0f} s)",
            "",
            "| call | n | p50 | p95 | p99 | max | CPU/req | SQL/req | load | target | met |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in backend["calls"]:
            if not c.get("n"):
                why = f" (failed: {c['error'][:80]})" if "error" in c else ""
                lines.append(f"| {c['name']}{why} | 0 | | | | | | | | {c['target_ms']:.0f} | — |")
                continue
            lines.append(
                f"| {c['name']} | {c['n']} | {c['p50']:.1f} | {c['p95']:.1f} | {c['p99']:.1f}"
                f" | {c['max']:.1f} | {c.get('cpu_ms', '')} | {c.get('queries', '')}"
                f" | {c.get('load', '')}"
                f" | {c['target_ms']:.0f} | {'yes' if c['met'] else '**no**'} |"
            )
        for c in backend["calls"]:
            if "profile" in c:
                lines += ["", f"### Profile: {c['name']} ({backend['backend']})", "", "```"]
                lines += [c["profile"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


async def run(opts: Options) -> dict[str, Any]:
    results: dict[str, Any] = {"options": asdict(opts) | {"out_dir": str(opts.out_dir)}}
    results["environment"] = environment()
    results["backends"] = []
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        for backend in opts.backends:
            results["backends"].append(await run_backend(opts, backend, Path(tmp)))
            results["environment"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            write(results, opts.out_dir)  # after each backend, so a failure keeps what ran
    return results


def write(results: dict[str, Any], out_dir: Path) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scheduling.json").write_text(json.dumps(results, indent=2, default=str))
    text = markdown(results)
    (out_dir / "scheduling.md").write_text(text)
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scheduling", description=__doc__)
    parser.add_argument("--backends", default="postgresql,sqlite", help="postgresql,sqlite")
    parser.add_argument("--conferences", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per call")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", type=int, default=30, help="requests profiled if over target")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    opts = Options(
        backends=[b for b in args.backends.split(",") if b],
        conferences=args.conferences,
        requests=args.requests,
        warmup=args.warmup,
        profile=args.profile,
        out_dir=args.out,
    )
    print(write(asyncio.run(run(opts)), opts.out_dir))
    return 0
