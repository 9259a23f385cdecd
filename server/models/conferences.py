"""What organisers plan: conferences, their agenda, sites, delegations, languages, booths."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow


class ConferenceKind(enum.StrEnum):
    ONLINE = "online"
    HYBRID = "hybrid"


class ConferenceStatus(enum.StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"


class SessionStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"  # kept (with its UID and SEQUENCE) so calendars get a CANCEL


class Conference(Base):
    __tablename__ = "conferences"
    __table_args__ = (
        Index("ix_conferences_starts_at", "starts_at"),
        Index("ix_conferences_status_starts_at", "status", "starts_at"),
        Index("ix_conferences_organiser", "organiser_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # Title and description in the other conference languages: {"lo": {"title": ..., ...}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kind: Mapped[str] = mapped_column(String(10), default=ConferenceKind.ONLINE.value)
    status: Mapped[str] = mapped_column(String(20), default=ConferenceStatus.DRAFT.value)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Legal hold (server.archive.hold): while set, retention deletes nothing of this conference.
    legal_hold: Mapped[bool] = mapped_column(default=False)
    legal_hold_reason: Mapped[str] = mapped_column(Text, default="")
    legal_hold_by: Mapped[str] = mapped_column(String(320), default="")
    legal_hold_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    languages: Mapped[list[ConferenceLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="ConferenceLanguage.id"
    )
    sessions: Mapped[list[AgendaSession]] = relationship(
        cascade="all, delete-orphan", order_by="AgendaSession.starts_at"
    )
    sites: Mapped[list[Site]] = relationship(
        cascade="all, delete-orphan", order_by="(Site.is_main_hall.desc(), Site.name)"
    )
    delegations: Mapped[list[Delegation]] = relationship(
        cascade="all, delete-orphan", order_by="Delegation.precedence"
    )
    interpreters: Mapped[list[InterpreterAssignment]] = relationship(
        cascade="all, delete-orphan", order_by="InterpreterAssignment.id"
    )
    members: Mapped[list[ConferenceMember]] = relationship(cascade="all, delete-orphan")


class ConferenceMember(Base):
    """A user's part in one conference (co-organiser, technician, secretary, interpreter...)."""

    __tablename__ = "conference_members"
    __table_args__ = (
        UniqueConstraint("conference_id", "user_id", "role"),
        Index("ix_conference_members_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))


class ConferenceLanguage(Base):
    __tablename__ = "conference_languages"
    __table_args__ = (UniqueConstraint("conference_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))  # BCP 47: vi, lo, en, ...
    is_floor: Mapped[bool] = mapped_column(default=True)  # may be spoken on the floor
    is_interpreted: Mapped[bool] = mapped_column(default=True)  # has a booth (target language)
    is_sign_language: Mapped[bool] = mapped_column(default=False)  # a video booth


def new_uid() -> str:
    """A session's iCalendar UID: stable for its whole life, unique across every calendar."""
    return f"{uuid.uuid4()}@concord"


session_sites = Table(
    "session_sites",
    Base.metadata,
    Column("session_id", ForeignKey("agenda_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_session_sites_site", "site_id"),
)


class AgendaSession(Base):
    """One item of the agenda: planned in an IANA zone, stored in UTC.

    A series carries ``rrule`` (and ``exdates``, the UTC starts of removed occurrences). A
    moved or otherwise changed occurrence of a series is a row of its own with ``series_id``
    and ``recurrence_id`` (the start the rule gave it) and the series' ``uid``. ``sequence``
    is the iCalendar SEQUENCE: +1 on every change of time, place, title or cancellation.
    No sites listed means every site of the conference takes part.
    """

    __tablename__ = "agenda_sessions"
    __table_args__ = (
        Index("ix_agenda_sessions_span", "starts_at", "ends_at"),
        Index("ix_agenda_sessions_conference", "conference_id", "starts_at"),
        Index("ix_agenda_sessions_uid", "uid"),
        UniqueConstraint("series_id", "recurrence_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    time_zone: Mapped[str] = mapped_column(String(64))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    speakers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Target languages interpreted in this session; empty: every booth of the conference.
    interpreted_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    uid: Mapped[str] = mapped_column(String(255), default=new_uid)
    sequence: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default=SessionStatus.CONFIRMED.value)
    rrule: Mapped[str | None] = mapped_column(String(500))
    exdates: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 8601, UTC
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_sessions.id", ondelete="CASCADE")
    )
    recurrence_id: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    sites: Mapped[list[Site]] = relationship(secondary=session_sites, order_by="Site.id")


class Venue(Base):
    """A physical hall that may be a site of several conferences.

    Sites are per conference; two sites with the same venue are the same room and cannot
    take part in overlapping sessions.
    """

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(300), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Site(Base):
    """A bridge point: a hall that joins the bridge room (the main hall is one of them)."""

    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("conference_id", "name"),
        Index("ix_sites_venue", "venue_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(300), default="")
    time_zone: Mapped[str] = mapped_column(String(64))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    equipment: Mapped[str] = mapped_column(Text, default="")
    is_main_hall: Mapped[bool] = mapped_column(default=False)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="SET NULL"))


class Delegation(Base):
    """A party to the conference: the host or a partner, seated in precedence order."""

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    organisation: Mapped[str] = mapped_column(String(300))
    is_host: Mapped[bool] = mapped_column(default=False)
    precedence: Mapped[int] = mapped_column(default=0)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))

    members: Mapped[list[DelegationMember]] = relationship(
        cascade="all, delete-orphan", order_by="DelegationMember.precedence"
    )
    site: Mapped[Site | None] = relationship()


class DelegationMember(Base):
    __tablename__ = "delegation_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(20), default="member")  # head, member, adviser...
    precedence: Mapped[int] = mapped_column(default=0)
    language: Mapped[str] = mapped_column(String(16), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class InterpreterAssignment(Base):
    """An interpreter working a booth (one target language), optionally for a shift."""

    __tablename__ = "interpreter_assignments"
    __table_args__ = (Index("ix_interpreter_assignments_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    interpreter_name: Mapped[str] = mapped_column(String(200))
    target_language: Mapped[str] = mapped_column(String(16))
    source_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    shift_starts_at: Mapped[dt.datetime | None]
    shift_ends_at: Mapped[dt.datetime | None]


class BookingKind(enum.StrEnum):
    VENUE = "venue"  # a site's venue (shared by conferences)
    SITE = "site"  # a site with no venue (only its own conference can double-book it)
    INTERPRETER = "interpreter"  # a user, in their booth shift
    CHAIR = "chair"  # a user chairing


class Booking(Base):
    """One occurrence of a session holding one resource: what the conflict check reads.

    Derived data, rebuilt for a whole conference by every operation that changes what it
    books (``server.conferences.bookings``); a series is stored occurrence by occurrence, so
    overlaps are one indexed range query whatever the number of conferences.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_resource", "kind", "resource_id", "starts_at"),
        Index("ix_bookings_conference", "conference_id"),
        Index("ix_bookings_session", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    resource_id: Mapped[int]
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    occurrence: Mapped[dt.datetime]  # the occurrence's RECURRENCE-ID (its start by the rule)
    session_id: Mapped[int] = mapped_column(ForeignKey("agenda_sessions.id", ondelete="CASCADE"))
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
