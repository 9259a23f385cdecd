"""The minutes of a conference: their workflow state, every saved revision, and the delegations'
comments. The document itself is the canonical JSON of ``server.minutes.document.Minutes``,
stored per revision with its SHA-256 so "final" can be re-checked from the rows alone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow


class MinutesDocument(Base):
    """One conference's minutes: where the workflow stands and which revision is current."""

    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(12), default="draft")  # draft, circulated, final
    revision: Mapped[int] = mapped_column(default=0)  # the current revision's number
    round: Mapped[int] = mapped_column(default=0)  # circulation rounds so far
    delegations: Mapped[list[int]] = mapped_column(JSON, default=list)  # circulated to
    digest: Mapped[str | None] = mapped_column(String(64), default=None)  # SHA-256 once final
    finalised_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finalised_by: Mapped[str] = mapped_column(String(320), default="")  # an actor
    finalised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    ledger_position: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MinutesRevision(Base):
    """One save: the whole canonical document, who saved it and when. Numbers start at 1."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("minutes_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    number: Mapped[int]
    author: Mapped[str] = mapped_column(String(320), default="")  # an actor, e.g. user:3
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="save")  # created, save, attendance
    document: Mapped[str] = mapped_column(Text)  # canonical JSON
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON
    # Circulated to the delegations (or finalised) as this revision: the ones they may read;
    # the others are the editors' drafts.
    circulated: Mapped[bool] = mapped_column(default=False)


class MinutesComment(Base):
    """A delegation's comment on circulated minutes (kept with its circulation round)."""

    __tablename__ = "minutes_comments"
    __table_args__ = (Index("ix_minutes_comments_minutes", "minutes_id", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    round: Mapped[int]
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="SET NULL")
    )
    author: Mapped[str] = mapped_column(String(320), default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    author_name: Mapped[str] = mapped_column(String(200), default="")
    path: Mapped[str | None] = mapped_column(String(300), default=None)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
