"""This node in its cluster while the app runs: announced, its rooms placed, its sign-in
throttle shared. Without ``CONCORD_REDIS_URL`` none of it: a single node works as it always did.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import redis.asyncio
import redis.exceptions

from server.accounts.throttle import LoginThrottle
from server.cluster.event_relay import EventRelay
from server.cluster.handover import Handover, Tell
from server.cluster.load import LoadMeter
from server.cluster.nodes import NodeLease
from server.cluster.placement import RoomLeases
from server.cluster.throttle_sync import ThrottleSync
from server.config import Config
from server.events import Events
from server.live.registry import LiveRooms
from server.live.sent import ClusterNodes


@dataclass(frozen=True)
class Clients:
    """How the cluster reaches this node's room clients: ``tell`` sends an event to everyone in
    a conference's room here; ``present`` counts those still using this node."""

    tell: Tell
    present: Callable[[int], int]


@contextlib.asynccontextmanager
async def membership(
    config: Config,
    node: str,
    rooms: LiveRooms,
    throttle: LoginThrottle,
    clients: Clients | None = None,
    on_drain: Callable[[], None] | None = None,
    events: Events | None = None,
) -> AsyncIterator[Handover | None]:
    """Yields what hands the rooms over when the node stops (None: a single node). The
    clients are told the live nodes' URLs when they change (``cluster.nodes``), so each knows
    where to go if this node dies; ``on_drain`` is called when ``concord nodes drain`` names
    this node (it stops the node, which hands its rooms over); ``events`` are relayed to and from
    the other nodes (``server.cluster.event_relay``)."""
    if not config.redis_url:
        yield None
        return
    client = redis.asyncio.from_url(config.redis_url, socket_timeout=2, socket_connect_timeout=2)
    lease = NodeLease(
        client,
        node,
        config.own_url,
        config.ice_host_addresses,
        LoadMeter(rooms.live).sample,
        on_drain=on_drain,
    )

    async def tell_nodes(urls: list[str]) -> None:
        if clients is not None:
            for conference_id in rooms.live():
                await clients.tell(conference_id, ClusterNodes(nodes=urls))

    leases = RoomLeases(client, node, lambda: rooms.live().keys(), on_nodes=tell_nodes)
    shared = ThrottleSync(config.redis_url, throttle, node)
    relay = EventRelay(config.redis_url, node, events) if events is not None else None
    handover = Handover(lease, leases, rooms, clients.tell, clients.present) if clients else None
    try:
        await lease.start()
        rooms.place_with(leases)
        with contextlib.suppress(OSError, redis.exceptions.RedisError):
            await leases.refresh_urls()
        leases.start()
        await shared.start()
        if relay is not None:
            await relay.start()
        yield handover
    finally:
        # (before the rooms close: the node leaves the list and gives its rooms up first)
        if relay is not None:
            await relay.close()
        await shared.close()
        rooms.place_with(None)
        await leases.close()
        await lease.close()
        await client.aclose()
