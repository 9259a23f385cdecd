"""The console of whoever runs ``concord simulate-sites``: admits its sites, hands out the floor.
The same client joins as a booth's interpreter (``as_="interpreter"`` and a language), without
media, to put the booth on air in tests of a room that moves.

Like a synthetic site (``server.live.simulate``) it finds the room wherever it is: a join
refused with ``room_elsewhere`` and a URL is made again on that node, and when its socket drops
it comes back by itself, through the node it came in by when the room's node is gone (in a
cluster the room reopens on another node within a lease). ``joins`` counts its joins, so the
floor can be handed out again in a new room.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from typing import Any

import aiohttp
import socketio

from server.live.cluster_urls import CONNECT_WAIT, NodeUrls

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.25, 0.5, 1.0)  # then every second until it is back or closed
TRANSIENT = frozenset({"rate_limited", "internal_error", "room_elsewhere"})
DROPS = (socketio.exceptions.SocketIOError, aiohttp.ClientError, OSError, TimeoutError, ValueError)


class Operator:
    def __init__(
        self, base_url: str, token: str, as_: str = "console", language: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.role: dict[str, str] = {"as": as_} | ({"language": language} if language else {})
        self.nodes = NodeUrls(self.base_url)  # where to go when the room's node dies
        self.token = token
        self.state: dict[str, Any] = {}
        self.joins = 0
        self.conference_id: int | None = None
        self.refusal = ""  # why the console could not join, as the server said
        self._hanging_up: set[asyncio.Future[None]] = set()
        self._closing = False
        self._coming_back: asyncio.Task[None] | None = None
        self._moving_to: asyncio.Task[None] | None = None
        self.sio = self._client()

    def _client(self) -> socketio.AsyncClient:
        """A socket.io client with the console's handlers (it comes back on its own)."""
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("room.state", self._state, namespace="/room")
        sio.on("disconnect", self._dropped, namespace="/room")
        sio.on("cluster.nodes", self.nodes.update, namespace="/room")
        sio.on("room.moving", self._on_moving, namespace="/room")
        return sio

    async def _state(self, state: dict[str, Any]) -> None:
        self.state = state

    async def join(self, conference_id: int) -> bool:
        """Join (as console, or the role given); False when the token's user may not."""
        if not await self._connect_and_join(conference_id):
            return False
        self.conference_id = conference_id
        return True

    def _swap(self) -> None:
        """A new client for another node; the old one hangs up aside (its close handshake
        can take seconds), without handlers: no drop to come back from."""
        old, self.sio = self.sio, self._client()
        old.handlers.pop("/room", None)
        hanging_up = asyncio.ensure_future(old.disconnect())
        self._hanging_up.add(hanging_up)
        hanging_up.add_done_callback(self._hanging_up.discard)

    async def _connect(self) -> None:
        await self.sio.connect(
            self.base_url,
            auth={"token": self.token},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=CONNECT_WAIT,
        )

    async def _connect_and_join(self, conference_id: int) -> bool:
        await self._connect()
        join = {"conference_id": conference_id, **self.role}
        answer = await self.call("join", join)
        url = answer.get("url")
        if answer.get("code") == "room_elsewhere" and isinstance(url, str) and url:
            log.info("simulate-sites: the room is on %s; the console joins there", url)
            self._swap()
            self.base_url = url.rstrip("/")
            await self._connect()
            answer = await self.call("join", join)
        if not answer.get("ok"):
            self.refusal = f"{answer.get('code')}: {answer.get('detail')}"
            return False
        self.state = answer["room"]
        self.joins += 1
        self.nodes.joined(answer)
        return True

    async def _on_moving(self, data: Any = None) -> None:
        """The room moves to another node (its node drains): the console joins it there."""
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and url and self.conference_id is not None:
            self._moving_to = asyncio.ensure_future(self._move(url, self.conference_id))

    async def _move(self, url: str, conference_id: int) -> None:
        self._swap()
        self.base_url = url.rstrip("/")
        await self._dropped("moving")  # joins there (or comes back as after a drop)

    async def _dropped(self, reason: Any = None) -> None:
        if self._closing or self.conference_id is None:
            return
        if self._coming_back is None or self._coming_back.done():
            self._coming_back = asyncio.ensure_future(self._come_back(self.conference_id))

    async def _come_back(self, conference_id: int) -> None:
        for attempt in itertools.count():
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            try:
                if await self._connect_and_join(conference_id):
                    return
            except DROPS:
                self.nodes.failed(self.base_url)
            else:
                code = self.refusal.split(":", 1)[0]
                if code not in TRANSIENT:
                    log.warning("simulate-sites: the console could not join again (%s)", code)
                    await self._hang_up()
                    return
            await self._hang_up()
            self.base_url = self.nodes.next()  # (the room's node may be gone)

    def main_hall_connected(self) -> bool:
        return any(s["main_hall"] and s["link"] == "connected" for s in self.state.get("sites", []))

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.sio.call(event, data, namespace="/room", timeout=20)
        return answer

    async def _hang_up(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    async def close(self) -> None:
        self._closing = True
        for task in (self._moving_to, self._coming_back, *self._hanging_up):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._hang_up()
