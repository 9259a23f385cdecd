"""An organiser working through node B changes a room that node A holds (issue 16): the
conference's events reach every node over Redis (``server.cluster.event_relay``). A site
added through B appears in A's room; the conference ended through B closes A's room."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from server.app import create_app
from server.cluster.event_relay import EventRelay
from server.config import Config
from server.db import Database
from server.events import Events, RosterChanged
from server.keys import LIVE_ROOMS
from tests.cluster.conftest import name_node, names_placing
from tests.cluster.test_placement import _chair
from tests.conftest import hold_conference, sign_in
from tests.live.conftest import until

Client = TestClient[Any, Any]
MOU = 1


async def test_a_change_made_through_one_node_reaches_the_room_another_node_holds(
    aiohttp_client: Callable[..., Awaitable[Client]],
    config: Config,
    demo: Database,
    redis_url: str,
    tmp_path: Path,
) -> None:
    await hold_conference(demo)
    apps = []
    for name, node_id in zip(("a", "b"), names_placing(MOU, ("a", "b")), strict=True):
        name_node(tmp_path / name, node_id)
        node = dataclasses.replace(
            config, redis_url=redis_url, data_dir=tmp_path / name, public_url=f"http://{name}.x"
        )
        apps.append(await aiohttp_client(create_app(node)))
    a, b = apps
    chair, joined = await _chair(a, MOU)
    try:
        assert joined["ok"], joined
        room = a.app[LIVE_ROOMS].live()[MOU]
        before = set(room.sites)
        csrf = await sign_in(b, "organiser@concord.example")
        added = await b.post(
            f"/api/conferences/{MOU}/sites",
            json={"name": "Attapeu hall", "time_zone": "Asia/Vientiane"},
            headers={"X-CSRF-Token": csrf},
        )
        assert added.status == 201, await added.text()
        site_id = str((await added.json())["id"])
        await until(lambda: site_id in room.sites, 5, "the new site in node A's room")
        assert set(room.sites) == before | {site_id}
        assert b.app[LIVE_ROOMS].live() == {}  # (B opened no room for it)

        ended = await b.post(
            f"/api/conferences/{MOU}/status",
            json={"status": "ended"},
            headers={"X-CSRF-Token": csrf},
        )
        assert ended.status == 200, await ended.text()
        await until(lambda: MOU not in a.app[LIVE_ROOMS].live(), 5, "node A's room closed")
    finally:
        await chair.close()
        await chair.client.session.close()


async def test_the_relay_ignores_its_own_node_and_what_is_not_an_event(redis_url: str) -> None:
    got: list[object] = []
    events = Events()

    async def seen(event: RosterChanged) -> None:
        got.append(event)

    events.subscribe(RosterChanged, seen)
    relay = EventRelay(redis_url, "node-a", events)
    try:
        for garbage in (
            b"nonsense",
            b'{"node": "b"}',
            b'{"node": "b", "kind": "Nope", "data": {}}',
        ):
            await relay.arrive(garbage)
        await relay.arrive(b'{"node": "b", "kind": "RosterChanged", "data": {"bad": 1}}')
        await relay.arrive(
            b'{"node": "node-a", "kind": "RosterChanged", "data": {"conference_id": 1}}'
        )
        assert got == []
        await relay.arrive(b'{"node": "b", "kind": "RosterChanged", "data": {"conference_id": 7}}')
        assert got == [RosterChanged(7)]
    finally:
        await relay.close()
        await relay.close()  # (safe twice)
