"""The recording part of the ``/room`` namespace (docs/signalling.md, "Recording").

``recording.start`` and ``recording.stop`` are chair actions; the state reaches every member
of the room as ``recording.state`` (and in the join answer, ``"recording"``).
"""

from __future__ import annotations

from collections.abc import Callable

from server.live import schemas
from server.live.context import RoomContext
from server.live.members import Answer, Member, On, Refused
from server.room_recording.schemas import RecordingState
from server.room_recording.service import RoomRecordings


class RecordingHandlers:
    def __init__(self, namespace: RoomContext, recordings: Callable[[], RoomRecordings]) -> None:
        self._ns = namespace
        self._recordings = recordings

    def handlers(self) -> dict[str, On]:
        return {
            "recording.start": On(schemas.Empty, self._start),
            "recording.stop": On(schemas.Empty, self._stop),
        }

    def state(self, conference_id: int) -> RecordingState:
        """What the join answer carries as ``"recording"``."""
        return self._recordings().state(conference_id)

    async def _start(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        self._ns.chair_room(member)
        assert member.conference_id is not None
        recording_id = await self._recordings().begin(
            member.conference_id, member.identity.actor, member.identity
        )
        return {"ok": True, "id": recording_id}

    async def _stop(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        self._ns.chair_room(member)
        assert member.conference_id is not None
        recording_id = await self._recordings().end(
            member.conference_id, member.identity.actor, member.identity
        )
        if recording_id is None:
            raise Refused("not_recording", "the room is not being recorded")
        return {"ok": True, "id": recording_id}
