"""The search index: one row per searchable thing (a conference, a session, a delegation,
an agenda item's minutes, an agreement).

Rows are derived data, rebuilt by ``server.search.index``; ``kind`` says what a row stands
for and ``ref_id`` which row of that kind, so later kinds (minutes, agreements) join by
adding a kind. On SQLite an FTS5 table ``search_fts`` (external content: this table) and
its triggers are created by migration 0010 only: SQLAlchemy never manages them. On
PostgreSQL the same migration adds a GIN index on ``to_tsvector('simple', folded)``.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base

SEARCH_KINDS = ("conference", "session", "delegation", "minutes", "agreement")


class SearchDocument(Base):
    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_conference_id", "conference_id"),
        Index("ix_search_documents_kind_ref", "kind", "ref_id"),
        Index("ix_search_documents_year", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int]
    conference_id: Mapped[int] = mapped_column(ForeignKey("conferences.id", ondelete="CASCADE"))
    year: Mapped[int]
    parties: Mapped[str] = mapped_column(Text, default="")  # folded countries, organisations
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    folded: Mapped[str] = mapped_column(Text)  # fold(title + body): what the index reads
