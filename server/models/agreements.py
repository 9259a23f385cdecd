"""Agreements signed at a conference, their language versions, signatories and signings.

An agreement (a memorandum of understanding, an aid agreement...) has parties, one PDF per
language version (kept under ``<data_dir>/agreements/<agreement>/`` with its SHA-256), and a
designated signatory per party. Each signing keeps the full evidence (IP address, user agent,
the nonce of their commitment); its public trace is the ledger entry at ``ledger_position``.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow


class AgreementKind(enum.StrEnum):
    MOU = "mou"  # memorandum of understanding
    AID = "aid"  # aid agreement
    OTHER = "other"


class AgreementStatus(enum.StrEnum):
    DRAFT = "draft"  # registered; versions and signatories may change
    OPEN = "open"  # the chair opened the signing in the live room
    SIGNED = "signed"  # every signatory signed


class Agreement(Base):
    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_conference", "conference_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default=AgreementKind.OTHER.value)
    donor: Mapped[str] = mapped_column(String(300), default="")
    programme: Mapped[str] = mapped_column(String(300), default="")
    # In the currency's minor units (VND has none: 25 billion VND is 25000000000).
    amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)  # ISO 4217
    period_starts_on: Mapped[dt.date | None] = mapped_column(default=None)
    period_ends_on: Mapped[dt.date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(10), default=AgreementStatus.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    parties: Mapped[list[AgreementParty]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementParty.id"
    )
    versions: Mapped[list[AgreementVersion]] = relationship(
        cascade="all, delete-orphan", order_by="AgreementVersion.language"
    )
    signatories: Mapped[list[Signatory]] = relationship(
        cascade="all, delete-orphan", order_by="Signatory.id"
    )


class AgreementParty(Base):
    """A party to an agreement, usually one of the conference's delegations."""

    __tablename__ = "agreement_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="SET NULL"), default=None
    )


class AgreementVersion(Base):
    """One language version: a PDF stored under a random name, with its SHA-256."""

    __tablename__ = "agreement_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Signatory(Base):
    """Who signs for a party, and at which site of the conference."""

    __tablename__ = "agreement_signatories"
    __table_args__ = (UniqueConstraint("agreement_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_parties.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(300), default="")

    party: Mapped[AgreementParty] = relationship(lazy="joined")
    signing: Mapped[Signing | None] = relationship(
        back_populates="signatory", uselist=False, lazy="selectin"
    )


class Signing(Base):
    """One signatory's confirmation, with the evidence the certificate prints.

    ``ip`` and ``user_agent`` stay here; the public ledger entry carries only ``commitment``,
    the SHA-256 of the canonical JSON of ``{"ip", "nonce", "user_agent"}``.
    """

    __tablename__ = "agreement_signings"

    id: Mapped[int] = mapped_column(primary_key=True)
    signatory_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_signatories.id", ondelete="CASCADE"), unique=True
    )
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    nonce: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    auth_method: Mapped[str] = mapped_column(String(20))  # "password" or "one-time code"
    recording_offset: Mapped[float | None] = mapped_column(Float, default=None)  # seconds
    version_hashes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ledger_position: Mapped[int] = mapped_column()

    signatory: Mapped[Signatory] = relationship(back_populates="signing")


class OneTimeCode(Base):
    """A code mailed to a signatory: stored as an HMAC, short-lived, a few attempts."""

    __tablename__ = "agreement_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    signatory_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_signatories.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
