"""Keeping ``search_documents`` in step with conferences, sessions, delegations, minutes and
agreements (the last two built by ``server.search.records``).

``reindex_conference`` replaces the documents of one conference. Writes need not call it:
on a database given to ``keep_index`` (by the app factory, the CLI and the tests' fixtures:
the composition, not ``server/db.py``, decides), a listener on that database's sessions notes,
at each flush, the conferences whose conference, sessions, delegations, delegation members,
minutes or agreements changed, and reindexes them just before the commit, in the same
transaction (so the demo loader and every API write path are covered without touching them).
No listener is global: another database in the same process is left alone. ``reindex_all``
rebuilds everything (``concord search reindex``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, selectinload

from server.db import Database
from server.folding import fold, lao_inner_words
from server.models import (
    AgendaSession,
    Agreement,
    AgreementParty,
    Conference,
    Delegation,
    DelegationMember,
    MinutesDocument,
    MinutesRevision,
    SearchDocument,
)
from server.search.records import agreement_document, minutes_documents

PENDING = "search_reindex_conferences"
PENDING_DELEGATIONS = "search_reindex_delegations"
PENDING_MINUTES = "search_reindex_minutes"
PENDING_AGREEMENTS = "search_reindex_agreements"
KEEPS_INDEX = "keeps_search_index"  # set on a Database's session class by keep_index


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def searchable(text: str) -> str:
    """What the index matches words against: the folded text, then the inner Lao words."""
    folded = fold(text)
    return " ".join([folded, *lao_inner_words(folded)])


def _doc(
    kind: str, ref_id: int, conference: Conference, parties: str, title: str, body: list[str]
) -> dict[str, Any]:
    text = "\n".join(part for part in body if part)
    return {
        "kind": kind,
        "ref_id": ref_id,
        "conference_id": conference.id,
        "year": conference.starts_at.year,
        "parties": parties,
        "title": title,
        "body": text,
        "folded": searchable(f"{title} {text}"),
    }


def documents(conference: Conference) -> list[dict[str, Any]]:
    """The rows that stand for ``conference``, its sessions and its delegations."""
    delegations = sorted(conference.delegations, key=lambda d: (d.precedence, d.id))
    parties = fold(" ".join(f"{d.country} {d.organisation}" for d in delegations))
    docs = [
        _doc(
            "conference",
            conference.id,
            conference,
            parties,
            conference.title,
            [conference.description, *_strings(conference.translations or {})]
            + [d.organisation for d in delegations],
        )
    ]
    for session in sorted(conference.sessions, key=lambda s: s.id):
        docs.append(
            _doc(
                "session",
                session.id,
                conference,
                parties,
                session.title,
                [session.description, *_strings(session.speakers or [])],
            )
        )
    for delegation in delegations:
        members = sorted(delegation.members, key=lambda m: (m.precedence, m.id))
        docs.append(
            _doc(
                "delegation",
                delegation.id,
                conference,
                parties,
                delegation.organisation,
                [delegation.country]
                + [f"{m.name} {m.position} ({m.role})".strip() for m in members],
            )
        )
    return docs


def _record_documents(session: Session, conference: Conference) -> list[dict[str, Any]]:
    """The minutes' and agreements' rows of ``conference``."""
    delegations = sorted(conference.delegations, key=lambda d: (d.precedence, d.id))
    parties = fold(" ".join(f"{d.country} {d.organisation}" for d in delegations))

    def doc(
        kind: str, ref_id: int, doc_parties: str, title: str, body: list[str]
    ) -> dict[str, Any]:
        return _doc(kind, ref_id, conference, doc_parties, title, body)

    rows: list[dict[str, Any]] = []
    current = session.scalar(
        select(MinutesRevision.document)
        .join(MinutesDocument, MinutesDocument.id == MinutesRevision.minutes_id)
        .where(
            MinutesDocument.conference_id == conference.id,
            MinutesRevision.number == MinutesDocument.revision,
        )
    )
    if current:
        rows += minutes_documents(current, parties, doc)
    agreements = session.scalars(
        select(Agreement)
        .where(Agreement.conference_id == conference.id)
        .options(selectinload(Agreement.parties))
        .order_by(Agreement.id)
        .execution_options(populate_existing=True)
    )
    rows += [agreement_document(a, delegations, doc) for a in agreements]
    return rows


def _reindex_sync(session: Session, conference_id: int) -> None:
    session.execute(delete(SearchDocument).where(SearchDocument.conference_id == conference_id))
    conference = session.scalar(
        select(Conference)
        .where(Conference.id == conference_id)
        .options(
            selectinload(Conference.sessions),
            selectinload(Conference.delegations).selectinload(Delegation.members),
        )
        .execution_options(populate_existing=True)
    )
    if conference is None:
        return
    rows = documents(conference) + _record_documents(session, conference)
    if rows:
        session.execute(insert(SearchDocument), rows)


def _owners(session: Session) -> set[int]:
    """The conferences of the minutes and agreements whose revisions or parties changed."""
    found: set[int] = set()
    minutes: set[int] = session.info.pop(PENDING_MINUTES, set())
    agreements: set[int] = session.info.pop(PENDING_AGREEMENTS, set())
    if minutes:
        found |= set(
            session.scalars(
                select(MinutesDocument.conference_id).where(MinutesDocument.id.in_(minutes))
            )
        )
    if agreements:
        found |= set(
            session.scalars(select(Agreement.conference_id).where(Agreement.id.in_(agreements)))
        )
    return found


async def reindex_conference(db: AsyncSession, conference_id: int) -> None:
    """Replace the documents of one conference (none if it is gone)."""
    await db.run_sync(_reindex_sync, conference_id)


async def reindex_all(db: AsyncSession) -> int:
    """Rebuild the whole index; returns how many conferences were indexed."""
    await db.execute(delete(SearchDocument))
    ids = list(await db.scalars(select(Conference.id).order_by(Conference.id)))
    for conference_id in ids:
        await reindex_conference(db, conference_id)
    return len(ids)


def keep_index(database: Database) -> Database:
    """Keep ``database``'s search documents in step with every write, in the writer's own
    transaction (its sessions' flushes note what changed, its commits reindex those
    conferences). Called by whoever opens the database to write: the app factory, the CLI,
    the tests' fixtures. Safe to call twice."""
    # Marked on the class, not asked of ``event.contains``: SQLAlchemy's registry keys a
    # class's listeners by ``id(class)`` and keeps the key after the class is gone, so a new
    # database whose session class reused a dead one's address would look indexed already.
    if not getattr(database.session_class, KEEPS_INDEX, False):
        event.listen(database.session_class, "before_flush", _note_changes)
        event.listen(database.session_class, "before_commit", _reindex_before_commit)
        setattr(database.session_class, KEEPS_INDEX, True)
    return database


def _note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    conferences: set[int] = session.info.setdefault(PENDING, set())
    delegations: set[int] = session.info.setdefault(PENDING_DELEGATIONS, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Conference):
            if obj.id is not None:
                conferences.add(obj.id)
            else:
                session.info.setdefault("search_new_conferences", []).append(obj)
        elif isinstance(obj, AgendaSession | Delegation) and obj.conference_id is not None:
            conferences.add(obj.conference_id)
        elif isinstance(obj, AgendaSession | Delegation):
            conference = getattr(obj, "conference", None)
            if conference is not None and conference.id is not None:
                conferences.add(conference.id)
        elif isinstance(obj, DelegationMember):
            if obj.delegation_id is not None:
                delegations.add(obj.delegation_id)
        elif isinstance(obj, MinutesDocument | Agreement) and obj.conference_id is not None:
            conferences.add(obj.conference_id)
        elif isinstance(obj, MinutesRevision) and obj.minutes_id is not None:
            session.info.setdefault(PENDING_MINUTES, set()).add(obj.minutes_id)
        elif isinstance(obj, AgreementParty) and obj.agreement_id is not None:
            session.info.setdefault(PENDING_AGREEMENTS, set()).add(obj.agreement_id)


def _reindex_before_commit(session: Session) -> None:
    for _ in range(3):  # reindexing flushes nothing it listens to; a guard all the same
        session.flush()
        conferences: set[int] = session.info.pop(PENDING, set())
        delegations: set[int] = session.info.pop(PENDING_DELEGATIONS, set())
        fresh: list[Conference] = session.info.pop("search_new_conferences", [])
        conferences |= {c.id for c in fresh if c.id is not None}
        conferences |= _owners(session)
        if delegations:
            conferences |= set(
                session.scalars(
                    select(Delegation.conference_id).where(Delegation.id.in_(delegations))
                )
            )
        if not conferences:
            return
        for conference_id in sorted(conferences):
            _reindex_sync(session, conference_id)


async def reindex_command(database_url: str) -> int:
    """``concord search reindex``: rebuild the index of every conference."""
    database = keep_index(Database(database_url))
    try:
        await database.upgrade()
        async with database.session() as db, db.begin():
            count = await reindex_all(db)
    finally:
        await database.close()
    print(f"search index rebuilt: {count} conferences")
    return 0
