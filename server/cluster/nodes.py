"""This process as a node of a Concord cluster, announced in Redis on a lease (issue 16).

Every ``concord serve`` pointed at Redis (``CONCORD_REDIS_URL``) announces itself: its id
(``server.live.heartbeat.node_name``, kept in its data directory), its public URL, the
addresses its media sockets gather ICE candidates on, when it started, and its load (live
rooms, connected sites, RTP packets forwarded per second, CPU seconds per second over the last
beat). It beats every ``EVERY`` seconds; an entry that is not renewed within ``LEASE`` seconds
is gone, so a node killed with SIGKILL or cut off from Redis leaves the list by itself, and a
node that stops cleanly takes its entry out at once. ``concord nodes`` lists them.

In Redis (names under ``PREFIX``):

- ``concord:node:<id>``: the node's entry (JSON), expiring with its lease;
- ``concord:nodes``: a sorted set of node ids scored by the end of their lease (ms), so that
  listing needs no ``SCAN`` of the keyspace; ids whose lease ended are pruned by whoever lists.

Redis that does not answer does not stop a node from serving: the lease keeps trying every beat
and logs once per outage (``/healthz`` reports Redis as unreachable meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio
import redis.exceptions

from rooms.tasks import cancelled

log = logging.getLogger(__name__)

PREFIX = "concord:"
LEASE = 3.0
"""Seconds an entry lives without a beat: a dead node is out of the list within this."""
EVERY = 1.0
"""Seconds between beats (a few per lease, so one lost beat does not drop a live node)."""


@dataclass(frozen=True)
class Load:
    """What a node carries, over the last beat."""

    rooms: int = 0
    sites: int = 0
    forwarded_pps: float = 0.0
    cpu: float = 0.0  # CPU seconds per second of the process (1.0: one core busy)


@dataclass(frozen=True)
class Node:
    """A node's entry as the cluster sees it."""

    id: str
    url: str
    ice_addresses: tuple[str, ...]
    started_at: float  # Unix time
    beat_at: float  # Unix time of the entry's last renewal
    load: Load
    draining: bool = False  # handing its rooms over before it stops: no new rooms for it

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Node:
        data: dict[str, Any] = json.loads(text)
        return cls(
            id=str(data["id"]),
            url=str(data["url"]),
            ice_addresses=tuple(str(a) for a in data["ice_addresses"]),
            started_at=float(data["started_at"]),
            beat_at=float(data["beat_at"]),
            load=Load(**data["load"]),
            draining=bool(data.get("draining", False)),
        )


def _entry(prefix: str, node_id: str) -> str:
    return f"{prefix}node:{node_id}"


def drain_key(node_id: str, prefix: str = PREFIX) -> str:
    """Set (``concord nodes drain ID``) to ask the node to hand its rooms over and stop."""
    return f"{prefix}drain:{node_id}"


async def live_nodes(
    client: redis.asyncio.Redis, prefix: str = PREFIX, beat_within: float | None = None
) -> list[Node]:
    """The nodes whose lease is running, by id; with ``beat_within``, only those that beat in
    the last that many seconds (by Redis's clock: the lease left), as a node that is placing
    a room wants: a node dead a second ago still has a lease for two more."""
    index = prefix + "nodes"
    now_ms = int(time.time() * 1000)
    await client.zremrangebyscore(index, "-inf", now_ms)
    found = await client.zrange(index, 0, -1)
    ids = [i.decode() if isinstance(i, bytes) else str(i) for i in found]
    if not ids:
        return []
    keys = [_entry(prefix, i) for i in ids]
    async with client.pipeline(transaction=False) as pipe:
        pipe.mget(keys)
        for key in keys:
            pipe.pttl(key)
        entries, *left = await pipe.execute()
    nodes = []
    for entry, ms in zip(entries, left, strict=True):
        if entry is None or (beat_within is not None and ms < (LEASE - beat_within) * 1000):
            continue
        nodes.append(Node.from_json(entry))
    return sorted(nodes, key=lambda n: n.id)


class NodeLease:
    """Announces this node and renews its lease every ``every`` seconds until ``close()``.

    ``load`` is called at every beat (``LoadMeter.sample``). ``close()`` takes the entry out
    (a clean stop leaves no ghost for ``LEASE`` seconds) and is safe to call twice.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        node_id: str,
        url: str,
        ice_addresses: tuple[str, ...],
        load: Callable[[], Load],
        *,
        lease: float = LEASE,
        every: float = EVERY,
        prefix: str = PREFIX,
        on_drain: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.on_drain = on_drain  # called once when ``concord nodes drain`` names this node
        self.draining = False
        self.node_id, self.url, self.ice_addresses = node_id, url, ice_addresses
        self.load = load
        self.lease, self.every, self.prefix = lease, every, prefix
        self.started_at = time.time()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._reachable = True

    async def start(self) -> None:
        """The first beat (logged, not raised, if Redis does not answer), then the others."""
        await self.beat()
        self._task = asyncio.create_task(self._run(), name=f"node lease {self.node_id}")

    async def beat(self) -> bool:
        """Renew the entry now; False if Redis did not answer."""
        now = time.time()
        node = Node(
            self.node_id,
            self.url,
            self.ice_addresses,
            self.started_at,
            now,
            self.load(),
            self.draining,
        )
        ends_ms = int((now + self.lease) * 1000)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                entry = _entry(self.prefix, self.node_id)
                pipe.set(entry, node.to_json(), px=int(self.lease * 1000))
                pipe.zadd(self.prefix + "nodes", {self.node_id: ends_ms})
                pipe.get(drain_key(self.node_id, self.prefix))
                *_, asked = await pipe.execute()
        except (OSError, redis.exceptions.RedisError) as exc:
            if self._reachable:
                log.warning("node %s: Redis does not answer (%s); retrying", self.node_id, exc)
            self._reachable = False
            return False
        if not self._reachable:
            log.info("node %s: Redis answers again; the node is listed", self.node_id)
        self._reachable = True
        if asked is not None and not self.draining and self.on_drain is not None:
            log.info("node %s: asked to drain: handing its rooms over, then stopping", self.node_id)
            self.draining = True
            self.on_drain()
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.beat()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)
        with contextlib.suppress(OSError, redis.exceptions.RedisError):
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(_entry(self.prefix, self.node_id))
                pipe.zrem(self.prefix + "nodes", self.node_id)
                pipe.delete(drain_key(self.node_id, self.prefix))  # (done: a restart serves)
                await pipe.execute()
