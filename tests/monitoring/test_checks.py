"""Pre-conference site checks over socket.io with a real aiortc page: the loopback call through
Concord's media path, the stored result, who may check which site, and bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio
from sqlalchemy import func, select

from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack
from server.db import Database
from server.keys import LIVE_ROOMS
from server.models import SiteCheck
from tests.conftest import sign_in
from tests.live.conftest import Client, until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MOU, HALL, CHAMPASAK = 1, 1, 2
ECHO_SLOTS = [("echo.video", "video"), ("echo.audio", "audio")]


class Page:
    """A check page: a socket.io connection with the given cookies."""

    def __init__(self, client: Client, cookies: str) -> None:
        self.client = client
        self.cookies = cookies
        self.sio = socketio.AsyncClient(reconnection=False)
        self.media: SyntheticSite | None = None

    async def connect(self) -> None:
        await self.sio.connect(
            str(self.client.make_url("")),
            headers={"Cookie": self.cookies},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=10,
        )

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        answer = await self.sio.call(event, data, namespace="/room", timeout=30)
        assert isinstance(answer, dict)
        return answer

    async def loopback(self) -> SyntheticSite:
        media = self.media = SyntheticSite(
            "check", camera=PatternTrack(320, 180, 15), microphone=ToneTrack(550), slots=ECHO_SLOTS
        )
        sdp, layout = await media.offer()
        answer = await self.call("check.offer", {"sdp": sdp, "layout": layout})
        assert answer["ok"], answer
        await media.accept(answer["sdp"])
        return media

    async def close(self) -> None:
        if self.media is not None:
            await self.media.close()
        await self.sio.disconnect()


@pytest.fixture
async def pages(client: Client) -> AsyncIterator[list[Page]]:
    made: list[Page] = []
    yield made
    for page in made:
        await page.close()


async def guest_page(client: Client, pages: list[Page], site_id: int) -> Page:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await client.post(
        f"/api/conferences/{MOU}/invitations",
        json={"site_id": site_id, "role": "delegate"},
        headers={"X-CSRF-Token": csrf},
    )
    url = (await made.json())["url"]
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        base = str(client.make_url("")).rstrip("/")
        async with http.get(base + url[url.index("/join/") :], allow_redirects=False) as opened:
            assert opened.status == 303
        cookies = "; ".join(f"{c.key}={c.value}" for c in http.cookie_jar)
    finally:
        await http.close()
    page = Page(client, cookies)
    pages.append(page)
    await page.connect()
    return page


async def test_a_site_checks_its_link_through_the_media_path(
    client: Client, pages: list[Page], demo: Database
) -> None:
    page = await guest_page(client, pages, CHAMPASAK)
    assert (await page.call("check.offer", {"sdp": "v=0 not really sdp", "layout": {}}))[
        "code"
    ] == "not_checking"
    other = await page.call("check.start", {"conference_id": MOU, "site_id": HALL})
    assert other["ok"] is False and other["code"] == "forbidden"
    started = await page.call("check.start", {"conference_id": MOU})
    assert started["ok"] and started["site_id"] == CHAMPASAK and started["last"] is None
    assert started["duration"] == 20 and started["site_name"] == "Champasak hall"
    again = await page.call("check.start", {"conference_id": MOU})
    assert again["code"] == "invalid"

    media = await page.loopback()
    # Our own camera and voice come back through Concord.
    await until(lambda: media.received["echo.video"].frames > 10, 15, "the echoed video")
    await until(lambda: media.received["echo.audio"].frames > 20, 10, "the echoed audio")
    await asyncio.sleep(6.5)  # three measuring windows

    refused = await page.call("check.finish", {"devices": {"camera": "perfect"}})
    assert refused["code"] == "invalid" and "devices" in refused["detail"]
    finished = await page.call(
        "check.finish",
        {
            "devices": {"camera": "ok", "microphone": "ok", "speaker": "ok"},
            "browser": {"rtt": 0.002, "loss": 0.0, "bitrate_up": 400000},
            "user_agent": "test page",
        },
    )
    assert finished["ok"], finished
    check = finished["check"]
    assert check["passed"] is True and check["failed"] == [], check
    network = check["results"]["network"]
    assert network["samples"] >= 2 and network["loss"] == 0
    assert network["rtt"] is not None and 0 < network["rtt"] < 0.1
    assert network["uplink_bitrate"] > 250_000
    assert check["results"]["browser"]["bitrate_up"] == 400000
    assert (await page.call("check.finish", {"devices": {}}))["code"] == "not_checking"

    # A failed device fails the check; the latest one is what the room's lobby shows.
    assert (await page.call("check.start", {"conference_id": MOU}))["last"]["passed"] is True
    await page.loopback()
    await asyncio.sleep(4.5)
    done = await page.call("check.finish", {"devices": {"camera": "failed", "speaker": "ok"}})
    assert done["check"]["passed"] is False
    # (A loaded test machine may add "network:jitter" to this short second call: not the point.)
    devices = [f for f in done["check"]["failed"] if not f.startswith("network:")]
    assert devices == ["camera"], done["check"]["failed"]
    assert done["check"]["results"]["devices"]["microphone"] == "skipped"
    async with demo.session() as db:
        stored = await db.scalar(select(func.count()).select_from(SiteCheck))
    assert stored == 2
    room = await client.app[LIVE_ROOMS].room(MOU)
    assert room.sites[str(CHAMPASAK)].public()["check"] == "failed"
    assert room.sites[str(HALL)].public()["check"] is None


async def test_organisers_check_any_site_others_may_not(
    client: Client, pages: list[Page], demo: Database
) -> None:
    await sign_in(client, "organiser@concord.example")
    cookies = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)
    organiser = Page(client, cookies)
    pages.append(organiser)
    await organiser.connect()
    assert (await organiser.call("check.start", {"conference_id": MOU}))["code"] == "forbidden"
    assert (await organiser.call("check.start", {"conference_id": MOU, "site_id": 99}))[
        "code"
    ] == "bad_site"
    assert (await organiser.call("check.start", {"conference_id": 404}))["code"] == "forbidden"
    started = await organiser.call("check.start", {"conference_id": MOU, "site_id": HALL})
    assert started["ok"] and started["site_id"] == HALL
    bad = await organiser.call("check.offer", {"sdp": "v=0 nothing", "layout": {"0": "hall.video"}})
    assert bad["code"] == "bad_offer"
    # The connection ends mid-check: nothing is stored.
    await organiser.sio.disconnect()
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(SiteCheck)) == 0
