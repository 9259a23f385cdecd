"""A live server (real TCP on 127.0.0.1), a chair on its console, and synthetic sites."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from server.db import Database
from server.live.simulate import SimulatedSite
from tests.conftest import hold_conference, sign_in

Client = TestClient[Any, Any]


async def until(condition: Callable[[], object], limit: float = 10.0, what: object = "") -> float:
    """Poll ``condition`` until true; the seconds it took. Fails after ``limit`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > limit:
            said = what() if callable(what) else what
            pytest.fail(f"timed out after {limit} s waiting for {said or condition}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


class Chair:
    """The organiser on the console (no media): admits, grants the floor, watches."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.sio = socketio.AsyncClient(reconnection=False)
        self.states: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.sio.on("room.state", self.states.append, namespace="/room")
        self.sio.on("room.event", self.events.append, namespace="/room")

    async def start(self, conference_id: int) -> dict[str, Any]:
        await sign_in(self.client, "organiser@concord.example")
        cookie = "; ".join(f"{c.key}={c.value}" for c in self.client.session.cookie_jar)
        await self.sio.connect(
            str(self.client.make_url("")),
            headers={"Cookie": cookie},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=10,
        )
        return await self.call("join", {"conference_id": conference_id, "as": "console"})

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.sio.call(event, data or {}, namespace="/room", timeout=20)
        assert isinstance(answer, dict)
        return answer

    def site(self, site_id: int) -> dict[str, Any]:
        return next(s for s in self.states[-1]["sites"] if s["site_id"] == site_id)

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest.fixture
async def live(client: Client, demo: Database) -> AsyncIterator[dict[str, Any]]:
    """The app, its base URL, a chair, and a factory of invited synthetic sites. The demo's
    memorandum (conference 1) is made live again, so that its room can be held."""
    await hold_conference(demo)
    csrf = await sign_in(client, "organiser@concord.example")
    made: list[SimulatedSite] = []
    chairs: list[Chair] = []

    async def invite(
        conference_id: int, site_id: int, name: str, tone: float, **options: Any
    ) -> SimulatedSite:
        response = await client.post(
            f"/api/conferences/{conference_id}/invitations",
            json={"site_id": site_id, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status == 201, await response.text()
        url = (await response.json())["url"]
        site = SimulatedSite(
            str(client.make_url("")), url[url.index("/join/") :], name=name, tone_hz=tone, **options
        )
        made.append(site)
        return site

    async def chair(conference_id: int) -> Chair:
        from aiohttp import CookieJar

        own: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
        await own.start_server()
        seat = Chair(own)
        chairs.append(seat)
        joined = await seat.start(conference_id)
        assert joined["ok"], joined
        return seat

    yield {"client": client, "invite": invite, "chair": chair, "csrf": csrf}
    for site in made:
        await site.close()
    for seat in chairs:
        await seat.close()
        await seat.client.session.close()  # not .close(): the server is shared
