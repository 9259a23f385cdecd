"""This node in its cluster while the app runs: announced, its rooms placed, its sign-in
throttle shared. Without ``CONCORD_REDIS_URL`` none of it: a single node works as it always did.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio
import redis.exceptions

from server.accounts.throttle import LoginThrottle
from server.cluster.load import LoadMeter
from server.cluster.nodes import NodeLease
from server.cluster.placement import RoomLeases
from server.cluster.throttle_sync import ThrottleSync
from server.config import Config
from server.live.registry import LiveRooms


@contextlib.asynccontextmanager
async def membership(
    config: Config,
    node: str,
    rooms: LiveRooms,
    throttle: LoginThrottle,
    tell_nodes: Callable[[list[str]], Awaitable[None]] | None = None,
) -> AsyncIterator[None]:
    """``tell_nodes``: sends the live nodes' URLs to this node's clients when they change
    (``cluster.nodes`` in docs/signalling.md), so each knows where to go if this node dies."""
    if not config.redis_url:
        yield
        return
    client = redis.asyncio.from_url(config.redis_url, socket_timeout=2, socket_connect_timeout=2)
    lease = NodeLease(
        client, node, config.public_url, config.ice_host_addresses, LoadMeter(rooms.live).sample
    )
    leases = RoomLeases(client, node, lambda: rooms.live().keys(), on_nodes=tell_nodes)
    shared = ThrottleSync(config.redis_url, throttle, node)
    try:
        await lease.start()
        rooms.place_with(leases)
        with contextlib.suppress(OSError, redis.exceptions.RedisError):
            await leases.refresh_urls()
        leases.start()
        await shared.start()
        yield
    finally:
        # (before the rooms close: the node leaves the list and gives its rooms up first)
        await shared.close()
        rooms.place_with(None)
        await leases.close()
        await lease.close()
        await client.aclose()
