"""Where a live room's state is kept while the room is open (``rooms.room_state``).

One small interface, ``RoomStore``, so that a cluster can keep it in Redis later; the database
(SQLite or PostgreSQL) is the first store, written in the room's event order by the registry's
event pump, so a restarted process finds what the last event left.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import delete

from server.db import Database
from server.models import LiveRoomState, utcnow


class RoomStore(Protocol):
    async def load(self, conference_id: int) -> dict[str, Any] | None: ...

    async def save(self, conference_id: int, state: dict[str, Any]) -> None: ...

    async def drop(self, conference_id: int) -> None: ...


class DatabaseRoomStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def load(self, conference_id: int) -> dict[str, Any] | None:
        async with self._database.session() as db:
            row = await db.get(LiveRoomState, conference_id)
            return dict(row.state) if row is not None else None

    async def save(self, conference_id: int, state: dict[str, Any]) -> None:
        async with self._database.session() as db, db.begin():
            row = await db.get(LiveRoomState, conference_id)
            if row is None:
                db.add(LiveRoomState(conference_id=conference_id, state=state, saved_at=utcnow()))
            else:
                row.state, row.saved_at = state, utcnow()

    async def drop(self, conference_id: int) -> None:
        async with self._database.session() as db, db.begin():
            await db.execute(
                delete(LiveRoomState).where(LiveRoomState.conference_id == conference_id)
            )
