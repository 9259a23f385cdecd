"""socket.io: the server, and its ``/`` namespace (docs/signalling.md).

Connections authenticate with the same session cookie as pages, or with a personal API token
in the ``auth`` payload (``{"token": "cnc_..."}``) for scripts; anonymous ones are refused.
The bridge room's namespace is ``server.live.namespace``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import socketio

from server.accounts.grants import LiveGrants
from server.accounts.sessions import identity_for_socket
from server.config import Config
from server.db import Database
from server.identity import Identity
from server.sent import Revoked, Sent, send


class Signalling(socketio.AsyncNamespace):
    def __init__(self, database: Callable[[], Database], grants: Callable[[], LiveGrants]) -> None:
        super().__init__("/")
        self._database = database  # resolved per connection: the engine starts with the app
        self._grants = grants

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        async with self._database().session() as db:
            who = await identity_for_socket(db, environ, auth)
        if not who.signed_in:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "unauthorized", "detail": "sign in before connecting"}
            )
        await self.save_session(sid, {"identity": who})
        self._grants().watch(("/", sid), who, lambda why: self._revoked(sid, why))
        await send(self, _welcome(who), to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._grants().forget(("/", sid))

    async def _revoked(self, sid: str, reason: str) -> None:
        await send(self, Revoked(code=reason), to=sid)
        await self.disconnect(sid)


class Welcome(Sent):
    """Who the connection is (namespace ``/``, right after connecting)."""

    event: ClassVar[str] = "welcome"
    namespaces: ClassVar[tuple[str, ...]] = ("/",)

    user_id: int | None
    display_name: str
    roles: list[str]
    guest_conference_id: int | None
    guest_site_id: int | None


def _welcome(who: Identity) -> Welcome:
    return Welcome(
        user_id=who.user_id,
        display_name=who.display_name,
        roles=sorted(r.value for r in who.roles),
        guest_conference_id=who.guest.conference_id if who.guest else None,
        guest_site_id=who.guest.site_id if who.guest else None,
    )


MAX_FRAME_BYTES = 2 * 1024 * 1024
"""The largest frame engine.io reads; a larger one ends the connection. Events are held to
less (``server.live.sizes.MAX_EVENT_BYTES``) and answered ``too_large`` between the two."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(config: Config, nodes: Callable[[], list[str]]) -> Callable[[str | None], bool]:
    """Pages of this node's public URL, and in a cluster those of every live node: a page
    served by node B connects its socket to node A when A holds the room (``room_elsewhere``)."""
    own = {origin_of(config.public_url), origin_of(config.own_url)}

    def allowed(origin: str | None) -> bool:
        return origin is not None and (
            origin in own or origin in {origin_of(url) for url in nodes()}
        )

    return allowed


def create_socket_server(
    config: Config,
    database: Callable[[], Database],
    grants: Callable[[], LiveGrants],
    nodes: Callable[[], list[str]] = list,
) -> socketio.AsyncServer:
    """``nodes``: the cluster's live nodes' URLs (their pages may connect here)."""
    manager = socketio.AsyncRedisManager(config.redis_url) if config.redis_url else None
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=allowed_origins(config, nodes),
        logger=False,
        engineio_logger=False,
        max_http_buffer_size=MAX_FRAME_BYTES,
    )
    server.register_namespace(Signalling(database, grants))
    return server
