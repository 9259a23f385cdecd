"""Calendars: personal subscription feeds and the record of invitations sent by e-mail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.accounts import PersonalSecret
from server.models.base import Base, utcnow


class CalendarFeed(PersonalSecret, Base):
    """A personal feed: ``/calendar/<token>.ics``."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_user", "user_id"),)


class CalendarDispatch(Base):
    """One iTIP message sent to one recipient: what a later send compares with.

    ``fingerprint`` sums up the sequences of the series and of its changed occurrences, so a
    change to one occurrence (which raises only that occurrence's SEQUENCE) is seen too.
    """

    __tablename__ = "calendar_dispatches"
    __table_args__ = (Index("ix_calendar_dispatches_uid", "conference_id", "uid", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(255))
    sequence: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(320))
    method: Mapped[str] = mapped_column(String(10))  # REQUEST or CANCEL
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CalendarSendLock(Base):
    """A conference whose calendar invitations are being sent: one row while a send plans,
    mails and records (server.calendars.send_locks.SendLocks). The primary key makes the
    database refuse a second at once, from any node; ``taken_at`` lets a lock left by a
    process that died mid-send be taken over once it is stale."""

    __tablename__ = "calendar_send_locks"

    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    holder: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CalendarRender(Base):
    """One event's VEVENTs as icalendar serialised them, under a digest of the event's value
    (``server.ical.rendered.digest``): a restarted process serves feeds from these bytes
    instead of serialising every event again. A cache: rows are deleted after a while."""

    __tablename__ = "calendar_renders"
    __table_args__ = (Index("ix_calendar_renders_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    spans: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
