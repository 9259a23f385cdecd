"""The ledger: an append-only Merkle log of what Concord attests, and its signed tree heads.

The rows are *claims*; only the signed heads are evidence (``recordings.ledger.verify``). So each
entry keeps the exact bytes that were hashed (``data``) next to the structured ``payload``:
verification never has to re-serialise JSON (whose formatting a database may not preserve),
and an edit to either column shows up as a mismatch against the signed roots.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow

LEDGER_KINDS = ("signing", "minutes_final", "permit_decision", "recording")
"""What may be attested; ``kind`` is one of these."""


class LedgerEntry(Base):
    """One attested fact. ``position`` is its index in the log: dense, from 0, never reused."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_ref", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    ref: Mapped[str] = mapped_column(String(120))  # e.g. "permit:12"
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # the canonical bytes that were hashed
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    appended_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LedgerHead(Base):
    """A signed tree head (``recordings.ledger.tree_head.SignedTreeHead``): one per log size."""

    __tablename__ = "ledger_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(unique=True)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # ms since the Unix epoch, UTC
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    frontier: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
