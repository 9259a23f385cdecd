"""The sign-in throttle shared by two nodes through the real Redis (issue 16, part 4).

Two apps on one database and one Redis, each a node with its own data directory: wrong
passwords on node A make node B ask the same client to wait (429), and the news travels
only between nodes (a node's own news is not counted twice; garbage on the channel is
ignored).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio
from aiohttp.test_utils import TestClient

from server.accounts.throttle import LoginThrottle
from server.app import create_app
from server.cluster.throttle_sync import CHANNEL, ThrottleSync
from server.config import Config
from server.db import Database
from server.keys import THROTTLE

Client = TestClient[Any, Any]
OWNER = "organiser@concord.example"


async def until(condition: Callable[[], bool], what: str, limit: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_failures_on_one_node_slow_the_same_client_on_another(
    aiohttp_client: Callable[..., Awaitable[Client]],
    config: Config,
    demo: Database,
    redis_url: str,
    tmp_path: Path,
) -> None:
    nodes = []
    for name in ("a", "b"):
        node = dataclasses.replace(config, redis_url=redis_url, data_dir=tmp_path / name)
        nodes.append(await aiohttp_client(create_app(node)))
    a, b = nodes
    guess = {"email": OWNER, "password": "not-the-password"}
    for _ in range(4):  # the free failures of one account from one address
        assert (await a.post("/api/session", json=guess)).status == 401
    await until(lambda: len(b.app[THROTTLE]) == 3, "node B heard of node A's failures")
    assert (await b.post("/api/session", json=guess)).status == 401  # the 5th failure
    await until(lambda: a.app[THROTTLE].failures(OWNER, "127.0.0.1") == 5, "back on A")
    waiting = await a.post("/api/session", json=guess)
    assert waiting.status == 429 and int(waiting.headers["Retry-After"]) >= 1
    assert b.app[THROTTLE].failures(OWNER, "127.0.0.1") == 5


async def test_own_news_is_not_counted_twice_and_garbage_is_ignored(redis_url: str) -> None:
    mine, theirs = LoginThrottle(), LoginThrottle()
    syncs = [ThrottleSync(redis_url, mine, "node-a"), ThrottleSync(redis_url, theirs, "node-b")]
    for sync in syncs:
        await sync.start()
    try:
        for sync in syncs:
            await asyncio.wait_for(sync.subscribed.wait(), 5)
        publisher = redis.asyncio.from_url(redis_url)
        for garbage in (b"not json", b"[]", b'{"node": "x", "change": "failed"}'):
            await publisher.publish(CHANNEL, garbage)
        await publisher.aclose()
        for _ in range(6):
            mine.failed("owner@example.org", "192.0.2.1")
        owner = ("owner@example.org", "192.0.2.1")
        await until(lambda: theirs.failures(*owner) == 6, "node B heard all six")
        assert mine.failures(*owner) == 6  # its own, not counted again when they came back
        assert theirs.retry_after(*owner) > 0
        theirs.succeeded(*owner)  # the owner signs in on node B
        await until(lambda: mine.failures(*owner) == 0, "the client's own failures forgotten")
        assert len(mine) == 2  # (the address's and the account's counts stay)
        assert mine.retry_after(*owner) == 0
    finally:
        for sync in syncs:
            await sync.close()
            await sync.close()  # (safe twice)
    assert mine.on_change is None
