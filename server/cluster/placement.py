"""Which node holds which live room: a lease per room in Redis (issue 16, part 2).

A live room is held by exactly one node. The first node asked to open it chooses the node
(``server.cluster.rendezvous``: rendezvous hashing weighted by load, among the live nodes) and
sets ``concord:room:<conference id>`` to that node's id (``SET NX`` with a lease of ``LEASE``
seconds). When it chose itself it opens the room; otherwise it answers with the chosen node, as
for any room held elsewhere, and the chosen node takes the lease over when the first client
arrives. The holder renews it every ``EVERY`` seconds while the room is open and gives it up
when the room ends or the node stops. A node asked to open a room another node holds does not
open a second one: it answers with the holder (``RoomElsewhere``, its id and public URL), so
a main hall and its sites can never end up in two rooms of the same conference, and a site
can never be connected on two nodes at once. When the holder dies its lease runs out, and the
next node asked opens the room from its kept state (``server.live.room_state``).

Renewing and giving up compare the value first (a Lua script run atomically by Redis), so a
node whose lease ran out (cut off from Redis for longer than a lease) never renews or deletes
the lease of the node that took the room over; a renewal that finds the lease gone takes it
again. While Redis does not answer, rooms still open (a conference must go on), unplaced
until Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

import redis.asyncio
import redis.exceptions

from rooms.tasks import cancelled
from server.cluster.nodes import LEASE, PREFIX, Load, Node, live_nodes
from server.cluster.rendezvous import choose
from server.live.registry import RoomElsewhere

log = logging.getLogger(__name__)

EVERY = 1.0
"""Seconds between renewals of the rooms a node holds."""
PLACE_BEAT_WITHIN = 2.0
"""A new room goes only to a node that beat within this many seconds (it beats every second):
not to one that died a moment ago and whose lease has not run out yet."""

_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_TRANSFER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RoomLeases:
    """This node's claims on rooms. ``start()`` begins renewing what ``held()`` returns;
    ``close()`` gives every claim up and is safe twice."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        node_id: str,
        held: Callable[[], Iterable[int]],
        *,
        lease: float = LEASE,
        every: float = EVERY,
        prefix: str = PREFIX,
        on_nodes: Callable[[list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.client, self.node_id, self.held = client, node_id, held
        self.on_nodes = on_nodes  # the live nodes' URLs changed (told to this node's clients)
        self.lease, self.every, self.prefix = lease, every, prefix
        self._claimed: set[int] = set()
        self.urls: list[str] = []  # the live nodes' public URLs, as of the last renewal
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def _key(self, conference_id: int) -> str:
        return f"{self.prefix}room:{conference_id}"

    async def claim(self, conference_id: int) -> None:
        """Hold the room from now on, or raise ``RoomElsewhere`` naming its holder. While
        Redis does not answer the room opens here anyway (a conference goes on; the lease is
        taken at the first renewal that reaches Redis, unless another node took it)."""
        try:
            await self._claim(conference_id)
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("room %s opens unplaced: Redis does not answer (%s)", conference_id, exc)
            self._claimed.add(conference_id)

    async def _claim(self, conference_id: int) -> None:
        key, ms = self._key(conference_id), int(self.lease * 1000)
        holder = await self.client.get(key)
        if holder is None:  # a room opening: placed by rendezvous among the live nodes
            listed = await live_nodes(self.client, self.prefix, beat_within=PLACE_BEAT_WITHIN)
            nodes = [node for node in listed if not node.draining]
            if not nodes:  # only this node (its first beat on its way, or draining): here
                nodes = [Node(self.node_id, "", (), 0.0, 0.0, Load())]
            chosen = choose(conference_id, nodes)
            target = chosen.id if chosen is not None else self.node_id
            if not await self.client.set(key, target, nx=True, px=ms):
                return await self._claim(conference_id)  # another node placed it meanwhile
            if target == self.node_id:
                self._claimed.add(conference_id)
                return
            # Held for the chosen node until its first client arrives there (it renews from
            # then on), or for one lease if none does.
            assert chosen is not None
            raise RoomElsewhere(conference_id, target, chosen.url)
        holder_id = holder.decode() if isinstance(holder, bytes) else str(holder)
        if holder_id == self.node_id:  # ours, or placed here by another node
            if not await self.client.eval(_RENEW, 1, key, self.node_id, ms):
                return await self._claim(conference_id)
            self._claimed.add(conference_id)
            return
        entry = await self.client.get(f"{self.prefix}node:{holder_id}")
        url = Node.from_json(entry).url if entry is not None else None
        raise RoomElsewhere(conference_id, holder_id, url)

    def node_urls(self) -> list[str]:
        return list(self.urls)

    async def refresh_urls(self) -> None:
        urls = [node.url for node in await live_nodes(self.client, self.prefix)]
        if urls != self.urls:
            self.urls = urls
            if self.on_nodes is not None:
                await self.on_nodes(urls)

    async def transfer(self, conference_id: int, node_id: str) -> bool:
        """Hand the room's lease to ``node_id`` (this node drains): it holds it from now on,
        as if it had placed the room, and reopens it when the first client arrives. False if
        this node no longer held it."""
        self._claimed.discard(conference_id)
        key, ms = self._key(conference_id), int(self.lease * 1000)
        return bool(await self.client.eval(_TRANSFER, 1, key, self.node_id, node_id, ms))

    async def release(self, conference_id: int) -> None:
        """Give the room up (it ended, or this node stops)."""
        self._claimed.discard(conference_id)
        with contextlib.suppress(OSError, redis.exceptions.RedisError):
            await self.client.eval(_RELEASE, 1, self._key(conference_id), self.node_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="room leases")

    async def renew(self) -> list[int]:
        """Renew every room this node holds; returns those whose lease another node took."""
        lost = []
        for conference_id in sorted(set(self.held()) & self._claimed):
            key, ms = self._key(conference_id), int(self.lease * 1000)
            if not await self.client.eval(_RENEW, 1, key, self.node_id, ms):
                lost.append(conference_id)
        for conference_id in lost:
            log.error(
                "node %s lost its lease on the room of conference %s (cut off from Redis for "
                "longer than %s s?): another node may hold it now",
                self.node_id,
                conference_id,
                self.lease,
            )
        return lost

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.renew()
                await self.refresh_urls()
            except (OSError, redis.exceptions.RedisError) as exc:
                log.warning("room leases: Redis does not answer (%s)", exc)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)
        for conference_id in sorted(self._claimed):
            await self.release(conference_id)
