"""What happened in a bridge room, kept for the minutes and the archive."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base


class RoomEventRecord(Base):
    """One room event (lobby, admission, floor, presentation, speaker...) with its time."""

    __tablename__ = "room_events"
    __table_args__ = (Index("ix_room_events_conference_at", "conference_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime]
    type: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RoomHeartbeat(Base):
    """A live room's last sign of life: the node holding it writes ``beat_at`` every few
    seconds, so a node that vanished leaves the time it was last alive (server/live/heartbeat.py).
    In the database, not a file, so that every node sharing it sees every room."""

    __tablename__ = "room_heartbeats"

    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    node: Mapped[str] = mapped_column(String(64))
    beat_at: Mapped[dt.datetime]


class LiveRoomState(Base):
    """What an open room's people would lose in a restart (``rooms.room_state.capture``),
    rewritten after each of the room's events; a restarted process reopens the room from it.
    Deleted when the conference's room ends (server/live/store.py)."""

    __tablename__ = "live_room_states"

    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[dt.datetime]
