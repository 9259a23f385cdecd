"""The control plane's events that concern live rooms, told to every node (issue 16).

Any node serves the API and the pages, but a live room is held by one node. When an organiser
on node B adds a site or ends the conference, the room on node A must follow: its
``RosterChanged`` or ``StatusChanged`` (``server.events``) has to reach node A. Each node
relays those events, as its handlers publish them, on the Redis channel ``concord:events``,
and publishes the other nodes' into its own ``Events``, where the live room's subscribers act
on them when the room is theirs (and do nothing otherwise); an ``AgreementSigned`` marks the
recording on whichever node records the room. An event is published locally at
once, then relayed: Redis being down delays nobody's request, it only keeps the other nodes'
rooms behind (logged).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

import redis.asyncio
import redis.exceptions

from rooms.tasks import cancelled
from server.cluster.channel import listen
from server.events import AgreementSigned, Events, RosterChanged, StatusChanged

log = logging.getLogger(__name__)

CHANNEL = "concord:events"
RELAYED: dict[str, type[Any]] = {
    kind.__name__: kind for kind in (RosterChanged, StatusChanged, AgreementSigned)
}


class EventRelay:
    """``start()`` subscribes (locally and in Redis); ``close()`` is safe twice."""

    def __init__(self, redis_url: str, node_id: str, events: Events) -> None:
        # (a client of its own, without a read timeout: a quiet channel is not a dead one)
        self._client = redis.asyncio.from_url(redis_url, socket_connect_timeout=2)
        self._node, self._events = node_id, events
        self._arriving: set[int] = set()  # ids of events being published from another node
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.subscribed = asyncio.Event()

    async def start(self) -> None:
        for kind in RELAYED.values():
            self._events.subscribe(kind, self._tell)
        listening = listen(self._client, CHANNEL, self.arrive, self.subscribed)
        self._task = asyncio.create_task(listening, name="event relay")

    async def _tell(self, event: object) -> None:
        if id(event) in self._arriving or self._closed:
            return  # (it came from another node: not sent back)
        message = {"node": self._node, "kind": type(event).__name__}
        message["data"] = dataclasses.asdict(event)  # type: ignore[call-overload]
        try:
            await self._client.publish(CHANNEL, json.dumps(message))
        except (OSError, redis.exceptions.RedisError) as exc:
            log.warning("event relay: could not tell the other nodes of %s: %s", message, exc)

    async def arrive(self, data: bytes | str) -> None:
        """Publish another node's event here (this node's own, and garbage, are ignored)."""
        try:
            message: dict[str, Any] = json.loads(data)
            kind = RELAYED[message["kind"]]
            event = kind(**message["data"])
        except (ValueError, KeyError, TypeError):
            log.warning("event relay: a message that is not an event: %r", data[:200])
            return
        if message.get("node") == self._node:
            return
        self._arriving.add(id(event))
        try:
            await self._events.publish(event)
        finally:
            self._arriving.discard(id(event))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await cancelled(self._task)
        await self._client.aclose()
