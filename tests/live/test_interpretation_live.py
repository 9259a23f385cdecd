"""Interpretation over socket.io: only a booth's interpreters work in it; a site chooses its
language and hears the booth; the record keeps every on-air change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import socketio
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from rooms.synthetic import SyntheticSite, ToneTrack, dominant_frequency
from server.db import Database
from server.live.simulate import SITE_SLOTS
from server.models import RoomEventRecord
from tests.conftest import sign_in
from tests.live.conftest import until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def interpreter_socket(client: Any, email: str) -> socketio.AsyncClient:
    own: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    await sign_in(own, email)
    cookie = "; ".join(f"{c.key}={c.value}" for c in own.session.cookie_jar)
    await own.session.close()
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(
        str(client.make_url("")),
        headers={"Cookie": cookie},
        namespaces=["/room"],
        transports=["websocket"],
        wait_timeout=10,
    )
    return sio


async def test_a_site_hears_the_lao_booth(live: dict[str, Any], demo: Database) -> None:
    chair = await live["chair"](1)
    booth = await interpreter_socket(live["client"], "interpreter.lo@concord.example")
    wrong = await booth.call(
        "join", {"conference_id": 1, "as": "interpreter", "language": "vi"}, namespace="/room"
    )
    assert wrong["ok"] is False and wrong["code"] == "forbidden"
    joined = await booth.call(
        "join", {"conference_id": 1, "as": "interpreter", "language": "lo"}, namespace="/room"
    )
    assert joined["ok"], joined
    media = SyntheticSite("lo-booth", microphone=ToneTrack(660), slots=[("source.audio", "audio")])
    try:
        sdp, layout = await media.offer()
        answer = await booth.call("offer", {"sdp": sdp, "layout": layout}, namespace="/room")
        assert answer["ok"], answer
        await media.accept(answer["sdp"])
        assert (await booth.call("booth.on_air", {}, namespace="/room"))["ok"]
        assert (await chair.call("floor.language", {"language": "vi"}))["ok"]

        site = await live["invite"](
            1, 2, "champasak", 880, slots=(*SITE_SLOTS, ("interpretation.audio", "audio"))
        )
        await site.start()
        await chair.call("admit", {"site_id": 2})
        await until(site.admitted.is_set, 5)
        await site.connect_media()
        refused = await site.sio.call("language", {"language": "xx"}, namespace="/room")
        assert refused["code"] == "no_booth"
        assert (await site.call("language", {"language": "lo"}))["ok"]
        heard = site.media.received["interpretation.audio"]
        heard.keep_samples = 20
        await until(lambda: len(heard.samples) >= 20, 10)
        assert abs(dominant_frequency(np.concatenate(heard.samples)) - 660) < 20

        guest_booth = await site.sio.call("booth.on_air", {}, namespace="/room")
        assert guest_booth["code"] == "forbidden", "a delegate cannot publish into a booth"
        await until(lambda: chair.states and chair.states[-1]["interpretation"]["booths"], 5)
        lao = next(b for b in chair.states[-1]["interpretation"]["booths"] if b["language"] == "lo")
        assert lao["on_air"] == "interpreter:5"
    finally:
        await media.close()
        await booth.disconnect()
    async with demo.session() as db:
        types = list(await db.scalars(select(RoomEventRecord.type)))
    assert "booth.on_air" in types and "floor.language" in types
