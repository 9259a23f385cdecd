"""Searching the index as a given person may see it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.queries import visible_to
from server.errors import InvalidInput
from server.folding import fold, fold_char, is_word_char, lao_inner_words, words
from server.i18n_strings import N_
from server.identity import Identity
from server.minutes.workflow import EDITORS as MINUTES_EDITORS
from server.models import (
    SEARCH_KINDS,
    Conference,
    ConferenceMember,
    Delegation,
    DelegationMember,
    MinutesDocument,
    SearchDocument,
)

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
    conference_starts_at: dt.datetime
    conference_time_zone: str
    year: int
    title: str
    snippet: str


def highlight(text: str, terms: list[str]) -> list[tuple[str, bool]]:
    """``text`` cut into runs, each marked when it is a word that a term begins (as the
    index matches: folded, by prefix; a Lao run also from its inner syllables). For pages,
    which escape each run."""
    runs: list[tuple[str, bool]] = []
    current: list[str] = []
    in_word = False

    def flush() -> None:
        if current:
            piece = "".join(current)
            folded = fold(piece) if in_word else ""
            starts = [folded, *lao_inner_words(folded)] if folded else []
            hit = any(start.startswith(t) for start in starts for t in terms)
            if runs and runs[-1][1] == hit and not hit:
                runs[-1] = (runs[-1][0] + piece, False)
            else:
                runs.append((piece, hit))
            current.clear()

    for ch in text:
        word = is_word_char(ch)
        if word != in_word:
            flush()
            in_word = word
        current.append(ch)
    flush()
    return runs


def query_terms(q: str) -> list[str]:
    """The folded words of ``q`` that a search looks for (prefixes)."""
    return words(fold(q))[:MAX_WORDS]


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
        raise InvalidInput(N_("q: say what to search for"), code="invalid_query")
    if len(q) > MAX_QUERY:
        raise InvalidInput(
            N_("q: at most %(max)s characters"),
            code="invalid_query",
            params={"max": str(MAX_QUERY)},
        )
    if year is not None and not 1900 <= year <= 2200:
        raise InvalidInput(N_("year: a year between 1900 and 2200"), code="invalid_year")
    if kind is not None and kind not in SEARCH_KINDS:
        raise InvalidInput(
            N_("kind: one of %(kinds)s"),
            code="invalid_kind",
            params={"kinds": ", ".join(SEARCH_KINDS)},
        )
    return query_terms(q)


def minutes_readable(who: Identity) -> ColumnElement[bool]:
    """Which documents ``who`` may read beyond the conference's visibility: everything but
    minutes, and the minutes as ``server.minutes.access`` allows them (the secretary and the
    organiser always; members of a delegation once the minutes have left their draft;
    nobody else: technicians, interpreters, approvers and guests read no minutes)."""
    not_minutes = SearchDocument.kind != "minutes"
    if who.is_admin:
        return true()
    if who.guest is not None or who.user_id is None:
        return not_minutes
    editor_of = select(ConferenceMember.conference_id).where(
        ConferenceMember.user_id == who.user_id,
        ConferenceMember.role.in_(sorted(MINUTES_EDITORS)),
    )
    organiser_of = select(Conference.id).where(Conference.organiser_id == who.user_id)
    delegate_of = (
        select(Delegation.conference_id)
        .join(DelegationMember, DelegationMember.delegation_id == Delegation.id)
        .join(MinutesDocument, MinutesDocument.conference_id == Delegation.conference_id)
        .where(DelegationMember.user_id == who.user_id, MinutesDocument.state != "draft")
    )
    return or_(
        not_minutes,
        SearchDocument.conference_id.in_(editor_of),
        SearchDocument.conference_id.in_(organiser_of),
        SearchDocument.conference_id.in_(delegate_of),
    )


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
            select(
                SearchDocument, Conference.title, Conference.starts_at, Conference.time_zone, rank
            )
            .join(SEARCH_FTS, SEARCH_FTS.c.rowid == SearchDocument.id)
            .where(text("search_fts MATCH :match").bindparams(match=match))
            .order_by(rank, SearchDocument.id)
        )
    else:
        tsquery = func.to_tsquery(literal_column("'simple'"), " & ".join(f"'{t}':*" for t in terms))
        vector = func.to_tsvector(literal_column("'simple'"), SearchDocument.folded)
        rank = func.ts_rank(vector, tsquery)
        query = (
            select(
                SearchDocument, Conference.title, Conference.starts_at, Conference.time_zone, rank
            )
            .where(vector.op("@@")(tsquery))
            .order_by(rank.desc(), SearchDocument.id)
        )
    query = query.join(Conference, Conference.id == SearchDocument.conference_id).where(
        SearchDocument.conference_id.in_(visible), minutes_readable(who)
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
            conference_starts_at=starts_at,
            conference_time_zone=zone,
            year=doc.year,
            title=doc.title,
            snippet=_snippet(doc.body, terms),
        )
        for doc, title, starts_at, zone, _ in rows
    ]
