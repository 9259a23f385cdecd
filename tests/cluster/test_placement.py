"""Rooms held by one node each, through leases in the real Redis (issue 16, part 2 begun).

A room one node holds is not opened on another: its chair is refused with ``room_elsewhere``
and the holder's URL. A holder that gives the room up, or dies (its lease runs out), leaves it
to the next node asked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient

from bench.served import free_port
from server.app import create_app
from server.cluster.nodes import Load, NodeLease, live_nodes
from server.cluster.placement import RoomLeases
from server.config import Config
from server.db import Database
from server.keys import LIVE_ROOMS
from server.live.registry import RoomElsewhere
from server.live.simulate import SimulatedSite
from tests.cluster.conftest import name_node, names_placing
from tests.conftest import hold_conference, sign_in
from tests.live.conftest import Chair, until

Client = TestClient[Any, Any]
MOU, CHAMPASAK = 1, 2


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    connection = redis.asyncio.from_url(redis_url)
    yield connection
    await connection.aclose()


async def test_a_room_held_by_one_node_is_refused_on_another_until_given_up(
    client: redis.asyncio.Redis,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    a_id, b_id = names_placing(7, ("a", "b"))
    announce = NodeLease(client, a_id, "https://a.example", (), Load, prefix=prefix)
    await announce.start()
    a = RoomLeases(client, a_id, lambda: [7], prefix=prefix)
    b = RoomLeases(client, b_id, lambda: [], prefix=prefix)
    await a.claim(7)
    await a.claim(7)  # (again: still ours)
    with pytest.raises(RoomElsewhere) as refused:
        await b.claim(7)
    assert (refused.value.node, refused.value.url) == (a_id, "https://a.example")
    await a.release(7)
    await announce.close()  # node A stops: the room goes to the next node asked
    await b.claim(7)
    with pytest.raises(RoomElsewhere):
        await a.claim(7)
    for leases in (a, b):
        await leases.close()
        await leases.close()  # (safe twice)
    assert await client.keys(prefix + "*") == []


async def test_a_room_opening_is_placed_on_the_node_rendezvous_chooses(
    client: redis.asyncio.Redis,
) -> None:
    """Node A is asked first for a room that rendezvous places on node B: A opens nothing,
    answers with B (its URL), and holds the lease for B, which takes it over when its first
    client arrives. Node A is refused from then on."""
    prefix = f"test-{uuid.uuid4().hex}:"
    b_id, a_id = names_placing(7, ("b", "a"))
    announced = [
        NodeLease(client, node_id, f"https://{name}.example", (), Load, prefix=prefix)
        for node_id, name in ((a_id, "a"), (b_id, "b"))
    ]
    for lease in announced:
        await lease.start()
    a = RoomLeases(client, a_id, lambda: [], prefix=prefix)
    b = RoomLeases(client, b_id, lambda: [7], prefix=prefix)
    with pytest.raises(RoomElsewhere) as placed:
        await a.claim(7)
    assert (placed.value.node, placed.value.url) == (b_id, "https://b.example")
    assert await client.get(f"{prefix}room:7") == b_id.encode()
    await b.claim(7)
    assert await b.renew() == []
    with pytest.raises(RoomElsewhere):
        await a.claim(7)
    to_close: list[RoomLeases | NodeLease] = [a, b, *announced]
    for closing in to_close:
        await closing.close()
    assert await client.keys(prefix + "*") == []


async def test_a_dead_holders_room_goes_to_the_next_node_when_its_lease_runs_out(
    client: redis.asyncio.Redis,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}:"
    a = RoomLeases(client, "node-a", lambda: [7], prefix=prefix, lease=0.6, every=0.1)
    b = RoomLeases(client, "node-b", lambda: [7], prefix=prefix, lease=0.6, every=0.1)
    await a.claim(7)
    a.start()
    await asyncio.sleep(1.0)  # longer than the lease: renewed
    with pytest.raises(RoomElsewhere) as refused:
        await b.claim(7)
    assert refused.value.url is None  # node A never announced itself: no URL to give
    assert a._task is not None
    a._task.cancel()  # node A dies: no more renewals
    await asyncio.sleep(1.0)
    await b.claim(7)  # the room is free again
    assert await a.renew() == [7]  # node A, back, finds its lease taken: it does not renew it
    await b.close()
    assert await client.get(f"{prefix}room:7") is None


async def _chair(app_client: Client, conference_id: int) -> tuple[Chair, dict[str, Any]]:
    own: Client = TestClient(app_client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    seat = Chair(own)
    return seat, await seat.start(conference_id)


async def test_a_chair_on_a_second_node_is_sent_to_the_node_holding_the_room(
    aiohttp_client: Callable[..., Awaitable[Client]],
    config: Config,
    demo: Database,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """Two nodes on one database and one Redis: the console opens conference 1's room on
    node A; a console on node B is refused with room_elsewhere and node A's URL, and node B
    opens no room. (Node ids such that rendezvous places the room on A.)"""
    await hold_conference(demo)
    apps = []
    for name, node_id in zip(("a", "b"), names_placing(MOU, ("a", "b")), strict=True):
        name_node(tmp_path / name, node_id)
        node = dataclasses.replace(
            config,
            redis_url=redis_url,
            data_dir=tmp_path / name,
            public_url=f"https://{name}.concord.example",
        )
        apps.append(await aiohttp_client(create_app(node)))
    seats = []
    try:
        first, joined = await _chair(apps[0], MOU)
        seats.append(first)
        assert joined["ok"], joined
        second, refused = await _chair(apps[1], MOU)
        seats.append(second)
        assert refused["ok"] is False and refused["code"] == "room_elsewhere", refused
        assert refused["url"] == "https://a.concord.example", refused
        assert apps[1].app[LIVE_ROOMS].live() == {}
    finally:
        for seat in seats:
            await seat.close()
            await seat.client.session.close()  # (not .close(): the server is shared)


async def test_a_site_joining_through_another_node_is_taken_to_the_room_and_its_media_flows(
    aiohttp_client: Callable[..., Awaitable[Client]],
    config: Config,
    demo: Database,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """The main hall's console is on node A; a synthetic site opens its invitation link on
    node B, is refused there with room_elsewhere, joins on node A by itself, is admitted and
    sends its media to node A's room (``concord simulate-sites`` behaves the same)."""
    await hold_conference(demo)
    apps = []
    for name, node_id in zip(("a", "b"), names_placing(MOU, ("a", "b")), strict=True):
        name_node(tmp_path / name, node_id)
        port = free_port()
        node = dataclasses.replace(
            config,
            redis_url=redis_url,
            data_dir=tmp_path / name,
            public_url=f"http://127.0.0.1:{port}",
        )
        apps.append(await aiohttp_client(create_app(node), server_kwargs={"port": port}))
    a, b = apps
    chair, joined = await _chair(a, MOU)
    site = None
    try:
        assert joined["ok"], joined
        csrf = await sign_in(b, "organiser@concord.example")
        made = await b.post(
            f"/api/conferences/{MOU}/invitations",
            json={"site_id": CHAMPASAK, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        assert made.status == 201, await made.text()
        url = (await made.json())["url"]
        path = url[url.index("/join/") :]
        site = SimulatedSite(str(b.make_url("")), path, name="champasak", tone_hz=880)
        assert await site.start() == "lobby"
        assert site.base_url == str(a.make_url("")).rstrip("/")
        assert (await chair.call("admit", {"site_id": CHAMPASAK}))["ok"]
        await asyncio.wait_for(site.admitted.wait(), 10)
        await site.connect_media()
        room = a.app[LIVE_ROOMS].live()[MOU]
        await until(lambda: room.sites[str(CHAMPASAK)].link == "connected", 15, "media on A")
        assert b.app[LIVE_ROOMS].live() == {}
    finally:
        if site is not None:
            await site.close()
        await chair.close()
        await chair.client.session.close()


async def test_a_new_room_is_not_placed_on_a_node_that_stopped_beating(
    client: redis.asyncio.Redis,
) -> None:
    """Node A (which rendezvous prefers for room 7) beat once and then stopped, as a killed
    node does: its entry lives on for the rest of its lease, but a room opening through node B
    two seconds later is placed on B, not sent to the dead node."""
    prefix = f"test-{uuid.uuid4().hex}:"
    a_id, b_id = names_placing(7, ("a", "b"))
    a_entry = NodeLease(client, a_id, "https://a.example", (), Load, prefix=prefix)
    b_entry = NodeLease(client, b_id, "https://b.example", (), Load, prefix=prefix)
    await a_entry.beat()  # (once: no renewals)
    await b_entry.start()
    await asyncio.sleep(2.3)
    assert a_id in [n.id for n in await live_nodes(client, prefix)]  # still listed
    b = RoomLeases(client, b_id, lambda: [7], prefix=prefix)
    await b.claim(7)
    assert await client.get(f"{prefix}room:7") == b_id.encode()
    for closing in (b, a_entry, b_entry):
        await closing.close()
