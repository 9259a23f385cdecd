"""The sign-in throttle shared by the nodes of a cluster, through Redis pub/sub (issue 16).

Each node keeps its own ``LoginThrottle`` (the check on every sign-in stays in memory, and a
Redis outage never stops anyone from signing in) and tells the other nodes of each sign-in it
saw fail or succeed, on the channel ``concord:throttle``. Every node applies the others' news
to its own throttle as if it had seen the sign-in itself, so failures on node A slow the same
account, address or device on node B within milliseconds. A node that starts late begins
with an empty memory, as a restarted single node does; failures are forgotten after an hour
anyway.

Why not keep the counts in Redis itself: that would put a Redis round trip (or several) in
front of every password check and make signing in fail when Redis does, for a gain of a few
milliseconds of consistency that an attacker cannot use (each node slows each guess by
seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import redis.asyncio
import redis.exceptions

from server.accounts.throttle import LoginThrottle
from server.cluster.channel import listen

log = logging.getLogger(__name__)

CHANNEL = "concord:throttle"
QUEUE_LIMIT = 10_000  # sign-ins waiting to be told (beyond it, news is dropped and logged)


class ThrottleSync:
    """Tells the cluster of ``throttle``'s sign-ins and applies the other nodes'.
    ``start()`` subscribes; ``close()`` is safe twice."""

    def __init__(self, redis_url: str, throttle: LoginThrottle, node_id: str) -> None:
        self._client = redis.asyncio.from_url(redis_url, socket_connect_timeout=2)
        self._throttle = throttle
        self._node = node_id
        self._outbox: asyncio.Queue[str] = asyncio.Queue(QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        self._throttle.on_change = self._tell
        self._tasks = [
            asyncio.create_task(
                listen(self._client, CHANNEL, self._arrive, self.subscribed),
                name="throttle sync: listen",
            ),
            asyncio.create_task(self._send(), name="throttle sync: send"),
        ]

    def _tell(self, change: str, email: str, address: str, device: str | None) -> None:
        message = {"node": self._node, "change": change, "email": email, "address": address}
        try:
            self._outbox.put_nowait(json.dumps(message | {"device": device}))
        except asyncio.QueueFull:
            log.warning("throttle sync: %d sign-ins not yet told; dropping one", QUEUE_LIMIT)

    async def _send(self) -> None:
        while True:
            message = await self._outbox.get()
            try:
                await self._client.publish(CHANNEL, message)
            except (OSError, redis.exceptions.RedisError) as exc:
                log.warning("throttle sync: could not tell the other nodes: %s", exc)

    async def _arrive(self, data: bytes) -> None:
        self.apply(data)

    def apply(self, data: bytes | str) -> None:
        """Apply one message of another node (this node's own are ignored; so is garbage)."""
        try:
            message: dict[str, Any] = json.loads(data)
            node, change = message["node"], message["change"]
            email, address, device = message["email"], message["address"], message["device"]
        except (ValueError, KeyError, TypeError):
            log.warning("throttle sync: a message that is not one: %r", data[:200])
            return
        if node == self._node or not (isinstance(email, str) and isinstance(address, str)):
            return
        device = device if isinstance(device, str) else None
        if change == "failed":
            self._throttle.failed(email, address, device, told=False)
        elif change == "succeeded":
            self._throttle.succeeded(email, address, device, told=False)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._throttle.on_change = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._client.aclose()
