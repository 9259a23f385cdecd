"""Issue 14, point 3, SIGTERM: a real ``concord serve`` with a console, a ``/`` client and two
synthetic sites (aiortc media, one of them on the floor) records the room and gets SIGTERM.
It exits with code 0 within 10 s; every client got ``server.restarting`` while still
connected; every recording file is a finished one (ffprobe reads its stated duration) and the
part is stored as finished, the recording "resuming" (it continues when the room reopens)."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from pathlib import Path
from typing import Any

import socketio
from sqlalchemy import select

from bench.served import Served
from server.db import Database
from server.live.simulate import SimulatedSite, run_sites
from server.live.simulate_cli import _admit_all, invitation_paths
from server.live.simulate_console import Operator
from server.models import RoomEventRecord
from server.settings import load_config
from tests.room_recording.helpers import probe, recordings_of, stated_duration
from tests.room_recording.test_crash import (  # noqa: F401
    connected,
    environment,
    organiser_token,
)

MOU = 1
RECORD_SECONDS = 4.0


def notes(client: socketio.AsyncClient, namespace: str, log: list[str]) -> None:
    """Log the notice, and whether the socket was still up when it came."""

    async def restarting(data: Any) -> None:
        assert data["retry_after_ms"] > 0
        log.append("restarting" if client.connected else "restarting after close")

    client.on("server.restarting", restarting, namespace=namespace)


async def test_sigterm_tells_clients_finishes_the_recording_and_exits_cleanly(
    environment: tuple[dict[str, str], int],  # noqa: F811
    tmp_path: Path,
) -> None:
    env, port = environment
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    began = dt.datetime.now(dt.UTC)  # the demo's own history of the room comes before
    server = Served(env, port, tmp_path / "serve.log")
    await server.start()
    token = await organiser_token(server.url)
    console = Operator(server.url, token)
    plain = socketio.AsyncClient(reconnection=False)
    logs: dict[str, list[str]] = {"console": [], "/": []}
    notes(console.sio, "/room", logs["console"])
    notes(plain, "/", logs["/"])
    plain.on("disconnect", lambda *_: logs["/"].append("disconnect"), namespace="/")
    sites = [
        SimulatedSite(server.url, path, name=name, tone_hz=440.0 + 110 * i)
        for i, (name, path) in enumerate(await invitation_paths(config, MOU, 2, False))
    ]
    for site in sites:
        logs[site.name] = []
        notes(site.sio, "/room", logs[site.name])
    tasks: list[asyncio.Task[Any]] = []
    try:
        await plain.connect(
            server.url, auth={"token": token}, transports=["websocket"], wait_timeout=10
        )
        assert await console.join(MOU), console.refusal
        tasks += [asyncio.create_task(run_sites(sites, 120.0))]
        tasks += [asyncio.create_task(_admit_all(console, sites))]
        deadline = time.monotonic() + 30
        while connected(console.state) < 2 or console.state["floor"]["holder"] is None:
            assert time.monotonic() < deadline, f"the sites did not connect: {console.state}"
            await asyncio.sleep(0.1)
        started = await console.call("recording.start", {})
        assert started["ok"], started
        await asyncio.sleep(RECORD_SECONDS)
        assert server.process is not None
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.process.wait, 15)
        exited = time.monotonic() - signalled
        await asyncio.sleep(0.2)  # the clients see their sockets close
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await console.close()
        await plain.disconnect()
        server.stop()
    print(f"SIGTERM: exit code {code} after {exited:.2f} s; clients saw {logs}")
    assert code == 0, server.log.read_text()[-3000:]
    assert exited < 10.0
    for who, log in logs.items():
        assert log[:1] == ["restarting"], (who, log)
    assert logs["/"] == ["restarting", "disconnect"]

    database = Database(config.database_url)
    try:
        [row] = await recordings_of(database, MOU)
        async with database.session() as db:
            closing = list(
                await db.scalars(
                    select(RoomEventRecord)
                    .where(
                        RoomEventRecord.type.in_(("site.left", "room.interrupted")),
                        RoomEventRecord.at >= began,
                    )
                    .order_by(RoomEventRecord.id)
                )
            )
    finally:
        await database.close()
    # Attendance is closed too, as a clean stop: both sites left, then the room.
    assert [e.type for e in closing][-1] == "room.interrupted", [e.type for e in closing]
    left = [e for e in closing if e.type == "site.left"]
    assert len(left) >= 2 and all(e.data.get("unclean") is False for e in closing), closing
    # The part going on is finished; the recording waits for the room to reopen.
    assert row.id == started["id"] and row.status == "resuming", row.status
    [part] = row.manifest["parts"]
    assert part["ended"] == "finished" and part["ended_by"] == "restart", part
    assert {Path(f.path).name for f in row.files} >= {"floor.webm", "floor-audio.ogg"}
    for stored in row.files:
        path = config.data_dir / stored.path
        assert stored.sha256 is not None, stored.path  # (a booth nobody spoke in has no file)
        stated = stated_duration(path)  # a finished file states its duration
        assert stated is not None and stated >= RECORD_SECONDS - 1.5, (stored.path, stated)
        assert probe(path)["streams"], stored.path
