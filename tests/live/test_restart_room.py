"""A restart during the conference (issue 14): a served ``concord serve`` holding a room
(two invited sites admitted with media, one holding the floor with a time limit, another
muted, the room locked) is stopped with SIGTERM, or killed with SIGKILL, and started again.
Nobody admits anyone afterwards: the sites reconnect by themselves and are admitted again,
with the same floor holder, the same remaining speaking time, the same mute and lock."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.demo.data import demo_password
from server.live.simulate import SimulatedSite
from tests.live.conftest import until
from tests.recording.test_crash import Serve, environment, organiser_token  # noqa: F401

MOU, HALL, CHAMPASAK = 1, 1, 2
LIMIT = 300
INTERPRETER = "interpreter.lo@concord.example"
BACK_WITHIN = 10.0


class Console:
    """The chair's console over socket.io with an API token (no media)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.states: list[dict[str, Any]] = []
        self.sio.on("room.state", self.states.append, namespace="/room")

    async def join(self) -> dict[str, Any]:
        await self.sio.connect(
            self.base, auth={"token": self.token}, namespaces=["/room"], transports=["websocket"]
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


async def invite(base: str, token: str, site_id: int) -> str:
    async with aiohttp.ClientSession() as http:
        made = await http.post(
            f"{base}/api/conferences/{MOU}/invitations",
            json={"site_id": site_id, "role": "delegate"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status == 201, await made.text()
        url: str = (await made.json())["url"]
    return url[url.index("/join/") :]


async def user_token(base: str, email: str) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        signed = await http.post(
            base + "/api/session", json={"email": email, "password": demo_password(email)}
        )
        assert signed.status == 201, await signed.text()
        csrf = (await signed.json())["csrf_token"]
        made = await http.post(
            base + "/api/tokens", json={"name": "restart"}, headers={"X-CSRF-Token": csrf}
        )
        assert made.status == 201, await made.text()
        token: str = (await made.json())["token"]
    return token


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
    server = Serve(env, port, tmp_path / "serve.log")
    await server.start()
    base = server.url
    token = await organiser_token(base)
    chair = Console(base, token)
    sites: list[SimulatedSite] = []
    again: Console | None = None
    booth: socketio.AsyncClient | None = None
    try:
        await chair.join()
        for site_id, tone in ((HALL, 440), (CHAMPASAK, 880)):
            site = SimulatedSite(
                base, await invite(base, token, site_id), name=f"s{site_id}", tone_hz=tone
            )
            sites.append(site)
            assert await site.start() == "lobby"
            await chair.call("admit", {"site_id": site_id})
            await until(site.admitted.is_set, 5)
            await site.connect_media()
        await until(
            lambda: all(chair.site(s)["link"] == "connected" for s in (HALL, CHAMPASAK)),
            10,
            "both sites connected",
        )
        await chair.call("floor.grant", {"site_id": CHAMPASAK, "limit_seconds": LIMIT})
        await chair.call("mute", {"site_id": HALL, "muted": True})
        await chair.call("lock", {"locked": True})
        await chair.call("floor.language", {"language": "vi"})
        booth = socketio.AsyncClient(reconnection=False)  # stays until the stop
        await booth.connect(
            base,
            auth={"token": await user_token(base, INTERPRETER)},
            namespaces=["/room"],
            transports=["websocket"],
        )
        join = {"conference_id": MOU, "as": "interpreter", "language": "lo"}
        assert (await booth.call("join", join, namespace="/room"))["ok"]
        assert (await booth.call("booth.on_air", {}, namespace="/room"))["ok"]
        await until(lambda: lao(chair.states[-1])["on_air"] is not None, 5, "the booth on air")
        on_air = lao(chair.states[-1])["on_air"]
        before = chair.states[-1]["floor"]
        assert before["holder"] == CHAMPASAK

        if how == "sigterm":
            server.stop()
            assert server.process is not None and server.process.returncode == 0
        else:
            server.kill()
        await chair.close()
        restarted = Serve(env, port, tmp_path / "serve-again.log")
        await restarted.start()
        answered = time.monotonic()
        server = restarted

        # Nobody admits: the sites come back admitted by themselves (their own reconnection).
        again = Console(base, token)
        joined = await again.join()
        assert joined["room"]["locked"] is True

        def back() -> bool:
            state = again.states[-1] if again.states else joined["room"]
            rows = {s["site_id"]: s for s in state["sites"]}
            return all(
                rows[s]["admission"] == "admitted" and rows[s]["link"] == "connected"
                for s in (HALL, CHAMPASAK)
            )

        await until(back, BACK_WITHIN, lambda: again.states[-1:] or joined["room"])
        took = time.monotonic() - answered
        state = again.states[-1] if again.states else joined["room"]
        floor = state["floor"]
        assert floor["holder"] == CHAMPASAK and floor["limit_seconds"] == LIMIT
        now = time.time()
        assert abs(remaining(floor, now) - remaining(before, now)) < 1.0, (floor, before)
        assert {s["site_id"]: s["muted"] for s in state["sites"]}[HALL] is True
        assert state["interpretation"]["floor_language"] == "vi"
        assert lao(state)["on_air"] == on_air, "the booth is on air as before"
        # Media flows again to the floor's listeners.
        hall = sites[0]
        frames = hall.report().frames_received
        await until(lambda: hall.report().frames_received > frames + 10, 10, "media again")
        print(f"{how}: every site back, admitted, {took:.1f} s after /healthz answered")
    finally:
        for site in sites:
            await site.close()
        if again is not None:
            await again.close()
        if booth is not None:
            await booth.disconnect()
        server.stop()
        await asyncio.sleep(0)
