"""What a feature's ``/room`` handlers may use of the room's namespace: the rooms and the
database, who a member is and which room they are in, the limits, and sending. The features
(health, site checks, signing, recording) are given the namespace as this, so they depend on
these few calls rather than on ``RoomNamespace`` and its state."""

from __future__ import annotations

from typing import Any, Protocol

from rooms.room import BridgeRoom
from server.db import Database
from server.live.limits import Kind
from server.live.members import Member
from server.live.registry import LiveRooms
from server.sent import Sent


class RoomContext(Protocol):
    def database(self) -> Database: ...

    def live_rooms(self) -> LiveRooms: ...

    def room_of(self, member: Member) -> BridgeRoom:
        """The member's room, open on this node (refused ``not_joined`` otherwise)."""
        ...

    def chair_room(self, member: Member) -> BridgeRoom:
        """The member's room, for the chair only (refused ``forbidden`` otherwise)."""
        ...

    def limit(self, kind: Kind, member: Member) -> None: ...

    def ice_addresses(self) -> list[str]: ...

    def ice_servers(self, member: Member) -> list[dict[str, Any]]: ...

    async def tell(
        self,
        payload: Sent,
        *,
        to: str | None = None,
        room: str | None = None,
        skip_sid: str | None = None,
    ) -> None:
        """``payload`` (its model names its event) to one connection (``to``) or a socket.io
        room."""
        ...

    async def enter_room(self, sid: str, room: str) -> None: ...
