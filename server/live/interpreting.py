"""The interpretation part of the ``/room`` namespace (docs/signalling.md, "Interpretation").

Listeners choose a language (remembered per user), interpreters work their booth (on air,
handover, source, a private booth chat, presence), the chair tags the floor language, and
technicians poll the booths' status. Handlers validate, check who may, call the room, answer.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from rooms.peer_id import PeerId
from rooms.room import BridgeRoom
from server.live import schemas
from server.live.listening import load_listening, save_listening
from server.live.members import Answer, Handler, Member, On, Refused, booth_room
from server.live.sent import BoothChatMessage

if TYPE_CHECKING:
    from server.live.namespace import RoomNamespace


class Interpreting:
    def __init__(self, namespace: RoomNamespace) -> None:
        self._ns = namespace

    def handlers(self) -> dict[str, On]:
        return {
            "language": On(schemas.Listening, self._language),
            "floor.language": On(schemas.Language, self._floor_language),
            "booth.on_air": On(schemas.Empty, self._booth("on_air")),
            "booth.off_air": On(schemas.Empty, self._booth("off_air")),
            "booth.handover_request": On(schemas.Empty, self._booth("request")),
            "booth.handover_accept": On(schemas.Empty, self._booth("accept")),
            "booth.source": On(schemas.BoothSource, self._booth_source),
            "booth.chat": On(schemas.Chat, self._booth_chat),
            "booths.status": On(schemas.Empty, self._booths_status),
        }

    # --- joining and leaving -------------------------------------------------------------------

    async def listening(self, member: Member) -> dict[str, Any]:
        async with self._ns.database().session() as db:
            return await load_listening(db, member.identity)

    async def arrived(self, sid: str, member: Member, room: BridgeRoom) -> None:
        """An interpreter joined their booth: present, and in the booth's private channel."""
        assert member.conference_id is not None and member.language is not None
        await self._ns.enter_room(sid, booth_room(member.conference_id, member.language))
        room.interpreter_present(_interpreter(member), member.language, True)

    def departed(self, sid: str, member: Member, room: BridgeRoom) -> None:
        """An interpreter's connection ended: absent (and off air) unless another of their
        connections is still in the booth (a second tab, or a reconnection that came first)."""
        assert member.language is not None
        still_here = any(
            other.as_ == "interpreter"
            and other.conference_id == member.conference_id
            and other.language == member.language
            and other.identity.user_id == member.identity.user_id
            for other_sid, other in self._ns.members.items()
            if other_sid != sid
        )
        if not still_here:
            room.interpreter_present(_interpreter(member), member.language, False)

    # --- listeners -----------------------------------------------------------------------------

    async def _language(self, sid: str, member: Member, body: schemas.Listening) -> Answer:
        """A site or console chooses the booth it listens to (null: the floor only)."""
        room = self._ns.room_of(member)
        if member.as_ not in ("site", "console"):
            raise Refused("forbidden", "only a site or a console listens to a channel")
        listener = (
            PeerId.site(member.site_id)
            if member.site_id is not None and member.as_ == "site"
            else PeerId.console(sid)
        )
        hears = room.choose_language(listener, body.language)
        async with self._ns.database().session() as db, db.begin():
            chosen = await save_listening(db, member.identity, body.language, body.floor_level)
        return {"ok": True, "hears": hears, "listening": chosen}

    async def _floor_language(self, sid: str, member: Member, body: schemas.Language) -> Answer:
        self._ns.chair_room(member).set_floor_language(body.language)
        return {"ok": True}

    async def _booths_status(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        room = self._ns.chair_room(member)
        return {"ok": True, "booths": room.booth_status()}

    # --- interpreters --------------------------------------------------------------------------

    def _interpreter_room(self, member: Member) -> BridgeRoom:
        room = self._ns.room_of(member)
        if member.as_ != "interpreter" or member.language is None:
            raise Refused("forbidden", "only an interpreter in a booth may do this")
        return room

    def _booth(self, action: str) -> Handler:
        async def handle(sid: str, member: Member, _: schemas.Empty) -> Answer:
            room = self._interpreter_room(member)
            assert member.language is not None
            room.interpret(action, _interpreter(member), member.language)
            return {"ok": True}

        return handle

    async def _booth_source(self, sid: str, member: Member, body: schemas.BoothSource) -> Answer:
        room = self._interpreter_room(member)
        assert member.language is not None
        hears = room.choose_booth_source(_interpreter(member), member.language, body.source)
        return {"ok": True, "hears": hears}

    async def _booth_chat(self, sid: str, member: Member, body: schemas.Chat) -> Answer:
        """To the booth's partners only; not stored (it is the interpreters' own channel)."""
        self._interpreter_room(member)
        self._ns.limit("chat", member)
        assert member.conference_id is not None and member.language is not None
        message = BoothChatMessage(
            from_=member.name,
            interpreter=_interpreter(member),
            text=body.text,
            at=dt.datetime.now(dt.UTC).isoformat(),
        )
        await self._ns.tell(message, room=booth_room(member.conference_id, member.language))
        return {"ok": True}


def _interpreter(member: Member) -> str:
    return PeerId.interpreter(member.identity.user_id)
