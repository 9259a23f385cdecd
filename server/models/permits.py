"""The conference permit: an organiser's application to hold an international conference,
its foreign participants and attachments, and every step of its handling."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow


class PermitStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class PermitApplication(Base):
    __tablename__ = "permit_applications"
    __table_args__ = (
        Index("ix_permit_applications_conference", "conference_id"),
        Index("ix_permit_applications_status", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default=PermitStatus.DRAFT.value)
    purpose: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10))  # ConferenceKind: online or hybrid
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    content: Mapped[str] = mapped_column(Text)
    funding_source: Mapped[str] = mapped_column(String(300))
    funding_amount: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    funding_currency: Mapped[str] = mapped_column(String(3))  # ISO 4217
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The clock: set on each (re)submission, cleared when the approver asks for changes.
    clock_started_at: Mapped[dt.datetime | None]
    due_on: Mapped[dt.date | None]  # last working day for the decision (authority's zone)
    decided_at: Mapped[dt.datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_number: Mapped[str | None] = mapped_column(String(40))

    participants: Mapped[list[PermitParticipant]] = relationship(
        cascade="all, delete-orphan", order_by="PermitParticipant.id"
    )
    attachments: Mapped[list[PermitAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="PermitAttachment.id"
    )
    steps: Mapped[list[PermitStep]] = relationship(
        cascade="all, delete-orphan", order_by="PermitStep.id"
    )


class PermitParticipant(Base):
    """Foreign participants from one country and organisation."""

    __tablename__ = "permit_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    organisation: Mapped[str] = mapped_column(String(300))
    number: Mapped[int]


class PermitAttachment(Base):
    """A file stored under the data directory with a server-generated name."""

    __tablename__ = "permit_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(200))  # as the uploader named it (checked)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the content
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PermitStep(Base):
    """One step of an application's handling; the report's figures are computed from these."""

    __tablename__ = "permit_steps"
    __table_args__ = (Index("ix_permit_steps_application", "application_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE")
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))  # created, submitted, approved, ...
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str] = mapped_column(Text, default="")
