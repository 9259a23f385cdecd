"""Recordings of a conference's bridge room: one per start/stop, with a file per channel.

A restart of the server cuts a recording into parts: the part going on is closed (finished
on SIGTERM, read back from disk after a crash) and the restarted process continues the same
recording as the next part when the room reopens. The media lives in the data directory:
part 1 in ``<data_dir>/recordings/<conference>/<recording>/``, part N in its ``part-N/``;
these rows are the manifest's index. A finished file's SHA-256 is also appended to the ledger,
so it stays provable after retention has deleted the file (``pruned_at``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow


class Recording(Base):
    """One recording of a conference's room, from a start to a stop (or an interruption)."""

    __tablename__ = "recordings"
    __table_args__ = (Index("ix_recordings_conference", "conference_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    started_by: Mapped[str] = mapped_column(String(320), default="")  # an actor, or "session"
    status: Mapped[str] = mapped_column(String(20), default="recording")
    """recording, resuming (a restart cut it: it continues when the room reopens), finished,
    interrupted (the process ended without a stop and the room was not kept), pruned"""
    parts: Mapped[int] = mapped_column(default=1, server_default="1")
    """parts begun: each restart during the recording begins another"""
    directory: Mapped[str] = mapped_column(String(400))  # relative to the data directory
    # The node whose data directory holds the files (server.live.heartbeat.node_name): only
    # it can read them back after a crash. None: recorded before nodes were named here.
    node: Mapped[str | None] = mapped_column(String(64), default=None)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pruned_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    files: Mapped[list[RecordingFile]] = relationship(
        cascade="all, delete-orphan", order_by="RecordingFile.id"
    )


class RecordingFile(Base):
    """One channel's file: the floor programme (``channel`` "floor") or a language's channel."""

    __tablename__ = "recording_files"
    __table_args__ = (Index("ix_recording_files_recording", "recording_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # "floor" or a language code
    part: Mapped[int] = mapped_column(default=1, server_default="1")  # the recording's part
    path: Mapped[str] = mapped_column(String(400))  # relative to the data directory
    media_type: Mapped[str] = mapped_column(String(60))  # video/webm, audio/ogg...
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    duration: Mapped[float | None] = mapped_column(default=None)  # seconds
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)  # once finished
    ledger_position: Mapped[int | None] = mapped_column(default=None)
