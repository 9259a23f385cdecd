"""The signing part of the ``/room`` namespace (docs/signalling.md, "Signing").

The chair opens an agreement's signing from the console (``signing.open``); every member of
the room then receives ``signing.state``, and again after each signing (the HTTP handler of
``server.agreements.api`` publishes ``SigningChanged``, which :func:`broadcast` sends on).
"""

from __future__ import annotations

import socketio

from server.agreements import ceremony
from server.agreements.schemas import OpenIn, SigningState
from server.live import schemas
from server.live.context import RoomContext
from server.live.members import Answer, Member, On, conference_room
from server.sent import Sent, send

NAMESPACE = "/room"


async def broadcast(sockets: socketio.AsyncServer, state: Sent) -> None:
    """``signing.state`` to everyone in the conference's room."""
    assert isinstance(state, SigningState)
    await send(sockets, state, room=conference_room(state.conference_id), namespace=NAMESPACE)


class SigningHandlers:
    def __init__(self, namespace: RoomContext) -> None:
        self._ns = namespace

    def handlers(self) -> dict[str, On]:
        return {
            "signing.open": On(OpenIn, self._open),
            "signing.status": On(schemas.Empty, self._status),
        }

    async def _open(self, sid: str, member: Member, body: OpenIn) -> Answer:
        self._ns.chair_room(member)  # joined, and the room is live on this node
        assert member.conference_id is not None
        async with self._ns.database().session() as db, db.begin():
            agreement = await ceremony.open_signing(
                db, member.identity, member.conference_id, body.agreement_id, room_live=True
            )
            state = await ceremony.signing_state(db, agreement)
        await self._ns.tell(state, room=conference_room(member.conference_id))
        return {"ok": True, "state": state.wire()}

    async def _status(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        self._ns.room_of(member)
        assert member.conference_id is not None
        async with self._ns.database().session() as db:
            states = await ceremony.open_states(db, member.conference_id)
        return {"ok": True, "agreements": [state.wire() for state in states]}
