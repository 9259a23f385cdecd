"""The issue's crash test: a real ``concord serve`` records a room filled by synthetic sites
(``concord simulate-sites``'s code over socket.io) and is SIGKILLed about 10 s in. The files
it leaves are readable by ffprobe to within 3 s of the kill; after a restart the part the
kill cut is read back ("interrupted"), its files hashed and in the ledger, and the recording
waits to continue ("resuming") since the room's state is kept."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.served import Served, api_token, demo_environment, free_port
from server.config import Config
from server.db import Database
from server.live.simulate_cli import simulate
from server.live.simulate_console import Operator
from server.models import LedgerEntry
from server.settings import load_config
from tests.room_recording.helpers import probe, recordings_of, sha256_of, stated_duration

RECORD_SECONDS = 10.0
TOLERANCE = 3.0
ORGANISER = "organiser@concord.example"


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    port = free_port()
    # The demo's memorandum has ended, and an ended conference's room is closed: hold it live.
    env = demo_environment(tmp_path / "data", port, live=1)
    yield env, port


async def organiser_token(base: str) -> str:
    return await api_token(base, ORGANISER, "crash test")


async def two_sites_connected(server: Served, config: Config) -> tuple[asyncio.Task[Any], Operator]:
    """Two synthetic sites (``simulate-sites``' code) in conference 1 and the organiser's
    console, once both sites' media is connected."""
    token = await organiser_token(server.url)
    sites = asyncio.create_task(simulate(config, 1, 2, 120.0, server.url, token))
    console = Operator(server.url, token)
    assert await console.join(1)
    deadline = time.monotonic() + 30
    while connected(console.state) < 2:
        assert time.monotonic() < deadline, f"the sites did not connect: {console.state}"
        await asyncio.sleep(0.1)
    return sites, console


def connected(state: dict[str, Any]) -> int:
    return sum(1 for s in state.get("sites", []) if s["link"] == "connected")


async def test_a_killed_server_leaves_playable_files_and_an_interrupted_recording(
    environment: tuple[dict[str, str], int], tmp_path: Path
) -> None:
    env, port = environment
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    server = Served(env, port, tmp_path / "serve.log")
    await server.start()
    sites: asyncio.Task[Any] | None = None
    recorder = None
    try:
        sites, recorder = await two_sites_connected(server, config)
        await asyncio.sleep(1.0)  # the floor is granted as the sites arrive
        started = await recorder.call("recording.start", {})
        assert started["ok"], started
        began = time.monotonic()
        await asyncio.sleep(RECORD_SECONDS - (time.monotonic() - began))
        server.kill()
        recorded = time.monotonic() - began
    finally:
        if recorder is not None:
            await recorder.close()
        if sites is not None:
            sites.cancel()
            with contextlib.suppress(BaseException):
                await sites
        if server.process is not None and server.process.poll() is None:
            server.stop()

    directory = config.data_dir / "recordings" / "1" / str(started["id"])
    floor = probe(directory / "floor.webm")
    assert set(floor["streams"].values()) == {"video", "audio"}
    for kind in ("video", "audio"):
        assert floor["last"][kind] >= recorded - TOLERANCE, (kind, floor["last"], recorded)
    print(f"recorded {recorded:.1f} s before the kill; floor.webm reaches {floor['last']}")
    voice = probe(directory / "floor-audio.ogg")
    assert voice["last"]["audio"] >= recorded - TOLERANCE, (voice["last"], recorded)

    restarted = Served(env, port, tmp_path / "serve-again.log")
    await restarted.start()
    try:
        database = Database(config.database_url)
        try:
            [row] = await recordings_of(database, 1)
            async with database.session() as db:
                ledger = {
                    e.ref: e
                    for e in await db.scalars(
                        select(LedgerEntry).where(LedgerEntry.kind == "recording")
                    )
                }
        finally:
            await database.close()
    finally:
        restarted.stop()
    assert row.id == started["id"] and row.status == "resuming" and row.parts == 1
    assert row.stopped_at is not None and row.stopped_at > row.started_at
    names = {Path(f.path).name: f for f in row.files}
    assert {"floor.webm", "floor-audio.ogg"} <= names.keys()
    for name, stored in names.items():
        assert stored.sha256 == sha256_of(directory / name), name
        assert stored.size == (directory / name).stat().st_size
        entry = ledger[f"recording:{row.id}:{Path(name).stem}"]
        assert entry.payload["sha256"] == stored.sha256
        assert entry.payload["status"] == "interrupted" and entry.payload["part"] == 1
    assert row.manifest["status"] == "resuming" and "marks" in row.manifest
    [part] = row.manifest["parts"]
    assert part["ended"] == "interrupted" and part["ended_by"] == "restart", part
    # Its duration is the media's, not the last manifest write's (up to 5 s before the kill),
    # and the WebM was finalised: it states its duration now, and the ledger has its hash.
    lasted = (row.stopped_at - row.started_at).total_seconds()
    assert recorded - TOLERANCE <= lasted <= recorded + 1.0, (lasted, recorded)
    assert row.manifest["duration"] == pytest.approx(lasted, abs=0.01)
    [remuxed] = part["recovered"]["remuxed"]
    assert remuxed["name"] == "floor.webm"
    assert remuxed["sha256_before"] != names["floor.webm"].sha256
    stated = stated_duration(directory / "floor.webm")
    assert stated == pytest.approx(names["floor.webm"].duration, abs=0.05), stated
    for name, stored in names.items():
        reaches = max(probe(directory / name)["last"].values())
        assert stored.duration is not None and abs(stored.duration - reaches) < 0.5, name
