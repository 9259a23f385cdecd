"""What the server sends over socket.io: every payload is a model of ``Sent`` that names its
event, and goes out through ``send`` (or a namespace's ``tell``), dumped as JSON by the same
model (docs/signalling.md defines each; ``tests/live/test_protocol_document.py`` holds the
document's fields to the models' and finds no event sent any other way)."""

from __future__ import annotations

from typing import Any, ClassVar

import socketio
from pydantic import BaseModel, ConfigDict


class Sent(BaseModel):
    """A payload the server sends: ``event`` is its event's name, ``namespaces`` where."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event: ClassVar[str]
    namespaces: ClassVar[tuple[str, ...]] = ("/room",)

    def wire(self) -> dict[str, Any]:
        """The payload as it goes out: JSON values, fields under their names in the document."""
        return self.model_dump(mode="json", by_alias=True)


class Shape(BaseModel):
    """A part of a sent payload (a row, a site, a booth)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


async def send(
    sockets: socketio.AsyncServer | socketio.AsyncNamespace,
    payload: Sent,
    *,
    to: str | None = None,
    room: str | None = None,
    skip_sid: str | None = None,
    namespace: str | None = None,
) -> None:
    """``payload`` to one connection (``to``), a socket.io room, or everyone."""
    await sockets.emit(
        payload.event,
        payload.wire(),
        to=to,
        room=room,
        skip_sid=skip_sid,
        namespace=namespace,
    )


class ServerRestarting(Sent):
    event: ClassVar[str] = "server.restarting"
    namespaces: ClassVar[tuple[str, ...]] = ("/room", "/")

    retry_after_ms: int


class Revoked(Sent):
    """The connection's access was withdrawn (the reason's code); the socket closes next."""

    event: ClassVar[str] = "revoked"
    namespaces: ClassVar[tuple[str, ...]] = ("/room", "/")

    code: str
