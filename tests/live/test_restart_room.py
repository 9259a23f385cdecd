"""A restart during the conference (issue 14): a served ``concord serve`` holding a room
(four invited sites admitted with media, one holding the floor with a time limit, another
muted, one listening to the Lao channel, the Lao booth on air, the room locked, the room
recorded) is stopped with SIGTERM, or killed with SIGKILL, and started again. Nobody admits
anyone afterwards: the sites reconnect by themselves and are admitted again, with the same
floor holder, the same remaining speaking time, the same mute, lock, booth and listener, and
the recording goes on as its second part; every part's files are readable by ffprobe."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from bench.served import Served, api_token
from server.db import Database
from server.live.simulate import SimulatedSite
from server.settings import load_config
from tests.live.conftest import until
from tests.room_recording.helpers import probe, recordings_of
from tests.room_recording.test_crash import environment, organiser_token  # noqa: F401

MOU, HALL, CHAMPASAK = 1, 1, 2
ADDED = ("Binh Son hall", "Pakse hall")  # two more sites, added before the room opens
LIMIT = 300
INTERPRETER = "interpreter.lo@concord.example"
BACK_WITHIN = 10.0


class Console:
    """The chair's console over socket.io with an API token (no media)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.states: list[dict[str, Any]] = []
        self.recording: list[dict[str, Any]] = []
        self.sio.on("room.state", self.states.append, namespace="/room")
        self.sio.on("recording.state", self.recording.append, namespace="/room")

    async def join(self) -> dict[str, Any]:
        await self.sio.connect(
            self.base,
            auth={"token": self.token},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=10,
        )
        return await self.call("join", {"conference_id": MOU, "as": "console"})

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.sio.call(event, data or {}, namespace="/room", timeout=20)
        assert isinstance(answer, dict) and answer.get("ok"), (event, answer)
        return answer

    def site(self, site_id: int) -> dict[str, Any]:
        return next(s for s in self.states[-1]["sites"] if s["site_id"] == site_id)

    async def close(self) -> None:
        await self.sio.disconnect()


async def post(base: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the conference's API with the chair's token; the created object."""
    async with aiohttp.ClientSession() as http:
        made = await http.post(
            f"{base}/api/conferences/{MOU}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status == 201, await made.text()
        created: dict[str, Any] = await made.json()
    return created


async def invite(base: str, token: str, site_id: int) -> str:
    made = await post(base, token, "/invitations", {"site_id": site_id, "role": "delegate"})
    url = str(made["url"])
    return url[url.index("/join/") :]


async def add_site(base: str, token: str, name: str) -> int:
    made = await post(base, token, "/sites", {"name": name, "time_zone": "Asia/Ho_Chi_Minh"})
    return int(made["id"])


def lao(state: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in state["interpretation"]["booths"] if b["language"] == "lo")


def remaining(floor: dict[str, Any], now: float) -> float:
    return float(floor["granted_at"]) + float(floor["limit_seconds"]) - now


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_the_room_is_as_it_was_after_a_restart(
    environment: tuple[dict[str, str], int],  # noqa: F811
    tmp_path: Path,
    how: str,
) -> None:
    env, port = environment
    server = Served(env, port, tmp_path / "serve.log")
    await server.start()
    base = server.url
    token = await organiser_token(base)
    chair = Console(base, token)
    sites: list[SimulatedSite] = []
    again: Console | None = None
    booth: socketio.AsyncClient | None = None
    try:
        site_ids = [HALL, CHAMPASAK] + [await add_site(base, token, name) for name in ADDED]
        await chair.join()
        for number, site_id in enumerate(site_ids):
            site = SimulatedSite(
                base,
                await invite(base, token, site_id),
                name=f"s{site_id}",
                tone_hz=440 + 110 * number,
            )
            sites.append(site)
            assert await site.start() == "lobby"
            await chair.call("admit", {"site_id": site_id})
            await until(site.admitted.is_set, 5)
            await site.connect_media()
        await until(
            lambda: all(chair.site(s)["link"] == "connected" for s in site_ids),
            15,
            "every site connected",
        )
        await chair.call("floor.grant", {"site_id": CHAMPASAK, "limit_seconds": LIMIT})
        await chair.call("mute", {"site_id": HALL, "muted": True})
        await chair.call("lock", {"locked": True})
        await chair.call("floor.language", {"language": "vi"})
        booth = socketio.AsyncClient(reconnection=False)  # stays until the stop
        await booth.connect(
            base,
            auth={"token": await api_token(base, INTERPRETER, "restart")},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=10,
        )
        join = {"conference_id": MOU, "as": "interpreter", "language": "lo"}
        assert (await booth.call("join", join, namespace="/room"))["ok"]
        assert (await booth.call("booth.on_air", {}, namespace="/room"))["ok"]
        assert (await sites[3].call("language", {"language": "lo"}))["hears"] == "booth"
        await until(lambda: lao(chair.states[-1])["on_air"] is not None, 5, "the booth on air")
        await until(lambda: lao(chair.states[-1])["listeners"] == 1, 5, "the Lao listener")
        on_air = lao(chair.states[-1])["on_air"]
        before = chair.states[-1]["floor"]
        assert before["holder"] == CHAMPASAK
        recording_id = (await chair.call("recording.start"))["id"]
        await asyncio.sleep(3.0)  # a first part with media in it

        if how == "sigterm":
            server.stop()
            assert server.process is not None and server.process.returncode == 0
        else:
            server.kill()
        await chair.close()
        restarted = Served(env, port, tmp_path / "serve-again.log")
        answered = await restarted.start()
        server = restarted

        # Nobody admits: the sites come back admitted by themselves (their own reconnection).
        again = Console(base, token)
        joined = await again.join()
        assert joined["room"]["locked"] is True

        def current() -> dict[str, Any]:
            assert again is not None
            return again.states[-1] if again.states else joined["room"]

        def back() -> bool:
            rows = {s["site_id"]: s for s in current()["sites"]}
            return all(
                rows[s]["admission"] == "admitted" and rows[s]["link"] == "connected"
                for s in site_ids
            )

        await until(back, BACK_WITHIN, current)
        took = time.monotonic() - answered
        state = current()
        floor = state["floor"]
        assert floor["holder"] == CHAMPASAK and floor["limit_seconds"] == LIMIT
        now = time.time()
        assert abs(remaining(floor, now) - remaining(before, now)) < 1.0, (floor, before)
        assert {s["site_id"]: s["muted"] for s in state["sites"]}[HALL] is True
        assert state["interpretation"]["floor_language"] == "vi"
        assert lao(state)["on_air"] == on_air, "the booth is on air as before"
        assert lao(state)["listeners"] == 1, "the Lao listener still listens to Lao"
        # The recording goes on as its second part, its clock counting from the first.
        recording = joined["recording"]
        if not recording["recording"]:
            await until(lambda: again.recording, 5, "the recording to continue")
            recording = again.recording[-1]
        assert recording["id"] == recording_id and recording["part"] == 2, recording
        # Media flows again to the floor's listeners.
        hall = sites[0]
        frames = hall.report().frames_received
        await until(lambda: hall.report().frames_received > frames + 10, 10, "media again")
        print(f"{how}: every site back, admitted, {took:.1f} s after /healthz answered")
        await asyncio.sleep(2.0)
        await again.call("recording.stop")
    finally:
        for site in sites:
            await site.close()
        if again is not None:
            await again.close()
        if booth is not None:
            await booth.disconnect()
        server.stop()
        await asyncio.sleep(0)
    await every_part_is_playable(env, recording_id)


async def every_part_is_playable(env: dict[str, str], recording_id: int) -> None:
    """Both parts stored under the one recording, each with a floor that ffprobe reads."""
    config = load_config(environ={k: v for k, v in env.items() if k.startswith("CONCORD_")})
    database = Database(config.database_url)
    try:
        [row] = [r for r in await recordings_of(database, MOU) if r.id == recording_id]
    finally:
        await database.close()
    assert row.status == "finished" and row.parts == 2, (row.status, row.parts)
    assert [p["part"] for p in row.manifest["parts"]] == [1, 2]
    for part in (1, 2):
        names = {Path(f.path).name for f in row.files if f.part == part}
        assert {"floor.webm", "floor-audio.ogg"} <= names, (part, names)
    for stored in row.files:
        found = probe(config.data_dir / stored.path)
        assert found["streams"] and max(found["last"].values()) > 0.5, stored.path
