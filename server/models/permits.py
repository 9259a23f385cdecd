"""The conference permit: an organiser's application to hold an international conference,
its foreign participants and attachments, and every step of its handling."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text
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


class DecidingLevel(enum.StrEnum):
    """Who decides the conference (Decision 06/2020/QĐ-TTg): the Prime Minister, or another
    competent person (a minister, a provincial chairman for the province's own units...)."""

    PRIME_MINISTER = "prime_minister"
    COMPETENT_PERSON = "competent_person"


class ConsultationAnswer(enum.StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    REMARKS = "remarks"  # agrees with remarks


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
    # What the deciding level is suggested from; the level itself (DecidingLevel), chosen by
    # the organiser (none: the suggestion) and confirmed by whoever submits.
    ministerial_participants: Mapped[bool] = mapped_column(default=False)
    sensitive_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    deciding_level: Mapped[str | None] = mapped_column(String(20))
    level_confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    level_confirmed_at: Mapped[dt.datetime | None]
    lead_days: Mapped[int | None]  # the lead time applied at the (re)submission
    submitted_late: Mapped[bool] = mapped_column(default=False)  # acknowledged by the submitter
    # A re-approval after a material change: the approved round it follows (kept as it was),
    # and, once approved, the conference's plan that a later change is compared with.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="SET NULL")
    )
    approved_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    participants: Mapped[list[PermitParticipant]] = relationship(
        cascade="all, delete-orphan", order_by="PermitParticipant.id"
    )
    attachments: Mapped[list[PermitAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="PermitAttachment.id"
    )
    steps: Mapped[list[PermitStep]] = relationship(
        cascade="all, delete-orphan", order_by="PermitStep.id"
    )
    consultations: Mapped[list[PermitConsultation]] = relationship(
        cascade="all, delete-orphan", order_by="PermitConsultation.id"
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


class PermitConsultation(Base):
    """An opinion the authority asks of another agency (foreign affairs, public security...)
    before deciding, with its own deadline."""

    __tablename__ = "permit_consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("permit_applications.id", ondelete="CASCADE"), index=True
    )
    agency: Mapped[str] = mapped_column(String(300))
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_on: Mapped[dt.date]  # the last working day for the answer (authority's zone)
    asked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[dt.datetime | None]
    answer: Mapped[str | None] = mapped_column(String(20))  # ConsultationAnswer
    remarks: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
