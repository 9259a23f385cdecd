"""What organisers plan: conferences, their agenda, sites, delegations, languages, booths."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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


class Conference(Base):
    __tablename__ = "conferences"
    __table_args__ = (Index("ix_conferences_starts_at", "starts_at"),)

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


class AgendaSession(Base):
    """One item of the agenda: planned in an IANA zone, stored in UTC."""

    __tablename__ = "agenda_sessions"
    __table_args__ = (Index("ix_agenda_sessions_span", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    time_zone: Mapped[str] = mapped_column(String(64))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    speakers: Mapped[list[str]] = mapped_column(JSON, default=list)


class Site(Base):
    """A bridge point: a hall that joins the bridge room (the main hall is one of them)."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("conference_id", "name"),)

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
