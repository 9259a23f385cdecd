"""Searching the index as a given person may see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, column, func, literal_column, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.identity import Identity
from server.conferences.queries import visible_to
from server.errors import InvalidInput
from server.models import SEARCH_KINDS, Conference, SearchDocument
from server.search.folding import fold, fold_char, words

MAX_QUERY = 200
MAX_WORDS = 12
SNIPPET = 160
# FTS5's table, created by migration 0010 on SQLite only: named here, never in the metadata.
SEARCH_FTS = table("search_fts", column("rowid"), column("folded"))


@dataclass(frozen=True)
class Hit:
    kind: str
    ref: int
    conference_id: int
    conference_title: str
    year: int
    title: str
    snippet: str


def _snippet(body: str, terms: list[str]) -> str:
    """About ``SNIPPET`` characters of ``body`` around the first word that matches a term."""
    if not body:
        return ""
    folded: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(body):
        for part in fold_char(ch):
            folded.append(part)
            origin.append(index)
    haystack = "".join(folded)
    found = min((p for p in (haystack.find(t) for t in terms) if p >= 0), default=-1)
    start = 0 if found < 0 else max(0, origin[found] - SNIPPET // 3)
    piece = " ".join(body[start : start + SNIPPET].split())
    return ("…" if start else "") + piece + ("…" if start + SNIPPET < len(body) else "")


def _check(q: str, year: int | None, kind: str | None) -> list[str]:
    if not q.strip():
        raise InvalidInput("q: say what to search for", code="invalid_query")
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"q: at most {MAX_QUERY} characters", code="invalid_query")
    if year is not None and not 1900 <= year <= 2200:
        raise InvalidInput("year: a year between 1900 and 2200", code="invalid_year")
    if kind is not None and kind not in SEARCH_KINDS:
        raise InvalidInput(f"kind: one of {', '.join(SEARCH_KINDS)}", code="invalid_kind")
    return words(fold(q))[:MAX_WORDS]


async def search(
    db: AsyncSession,
    who: Identity,
    q: str,
    year: int | None = None,
    party: str | None = None,
    kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[Hit]:
    """Documents matching every word of ``q`` (each as a prefix), best first."""
    terms = _check(q, year, kind)
    if not terms:
        return []  # only punctuation: nothing can match
    visible = visible_to(select(Conference), who).with_only_columns(Conference.id)
    query: Select[Any]
    if db.get_bind().dialect.name == "sqlite":
        # Every term is made of letters, digits and marks only, and quoted: no FTS5 syntax.
        match = " ".join(f'"{t}"*' for t in terms)
        rank = func.bm25(literal_column("search_fts"))
        query = (
            select(SearchDocument, Conference.title, rank)
            .join(SEARCH_FTS, SEARCH_FTS.c.rowid == SearchDocument.id)
            .where(text("search_fts MATCH :match").bindparams(match=match))
            .order_by(rank, SearchDocument.id)
        )
    else:
        tsquery = func.to_tsquery(literal_column("'simple'"), " & ".join(f"'{t}':*" for t in terms))
        vector = func.to_tsvector(literal_column("'simple'"), SearchDocument.folded)
        rank = func.ts_rank(vector, tsquery)
        query = (
            select(SearchDocument, Conference.title, rank)
            .where(vector.op("@@")(tsquery))
            .order_by(rank.desc(), SearchDocument.id)
        )
    query = query.join(Conference, Conference.id == SearchDocument.conference_id).where(
        SearchDocument.conference_id.in_(visible)
    )
    if year is not None:
        query = query.where(SearchDocument.year == year)
    if party:
        folded_party = fold(party).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if folded_party:
            query = query.where(or_(SearchDocument.parties.like(f"%{folded_party}%", escape="\\")))
    if kind is not None:
        query = query.where(SearchDocument.kind == kind)
    rows = await db.execute(query.limit(max(1, min(limit, 100))).offset(max(0, offset)))
    return [
        Hit(
            kind=doc.kind,
            ref=doc.ref_id,
            conference_id=doc.conference_id,
            conference_title=title,
            year=doc.year,
            title=doc.title,
            snippet=_snippet(doc.body, terms),
        )
        for doc, title, _ in rows
    ]
