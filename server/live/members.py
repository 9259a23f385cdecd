"""Who is connected to the ``/room`` namespace, and the small pieces its handlers share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rooms.check import CheckCall
from rooms.room import BridgeRoom
from server.identity import Identity

Answer = dict[str, Any]


class Refused(Exception):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code, self.detail, self.extra = code, detail, extra


@dataclass
class Member:
    identity: Identity
    conference_id: int | None = None
    as_: str = ""
    site_id: int | None = None
    language: str | None = None  # an interpreter's booth
    can_chair: bool = False
    check: CheckCall | None = None  # a pre-conference site check in progress
    check_site: tuple[int, int] | None = None  # its (conference, site)

    @property
    def name(self) -> str:
        return self.identity.display_name or self.identity.actor


def conference_room(conference_id: int) -> str:
    return f"conference:{conference_id}"


def site_room(conference_id: int, site_id: int) -> str:
    return f"site:{conference_id}:{site_id}"


def booth_room(conference_id: int, language: str) -> str:
    return f"booth:{conference_id}:{language}"


def refusal(code: str, detail: str) -> Answer:
    return {"ok": False, "code": code, "detail": detail}


def still_here(room: BridgeRoom | None) -> int:
    """How many of a room's peer connections (sites, consoles, interpreters) are still open on
    this node: a client moving to another node closes its old one once its new one works
    there. (Their sockets do not count: a stopping node may not finish a client's close
    handshake; the stop drops them.)"""
    if room is None:
        return 0
    return sum(1 for peer in room.peers() if peer.state not in ("closed", "failed"))


Handler = Callable[[str, Member, Any], Awaitable[Answer]]
"""One ``/room`` event's handler: (the connection, its member, its payload) → the answer."""


@dataclass(frozen=True)
class On:
    """One client → server ``/room`` event: the model its payload must match
    (docs/signalling.md; a mismatch is answered ``invalid``, naming the field) and the handler
    that is given the payload validated."""

    payload: type[BaseModel]
    handler: Handler
