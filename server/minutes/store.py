"""Reading the stored minutes: the conference's row, its revisions, the current document, and
the 409 a stale save gets (with the three-way merge the editor's page shows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Forbidden, NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.minutes.access import MinutesAccess, minutes_access
from server.minutes.document import Minutes
from server.minutes.revisions import RevisionChange, RevisionConflict, StaleRevision, diff
from server.minutes.workflow import Comment, MinutesRecord, MinutesState
from server.models import MinutesComment, MinutesDocument, MinutesRevision


@dataclass(frozen=True)
class Current:
    """The minutes as they stand: the row, the current revision and its document."""

    row: MinutesDocument
    revision: MinutesRevision
    minutes: Minutes


def author_of(who: Identity) -> str:
    return who.display_name or who.email or who.actor


async def minutes_row(
    db: AsyncSession, conference_id: int, *, fresh: bool = False
) -> MinutesDocument:
    query = select(MinutesDocument).where(MinutesDocument.conference_id == conference_id)
    if fresh:
        query = query.execution_options(populate_existing=True)
    row = await db.scalar(query)
    if row is None:
        raise NotFound(
            N_("conference %(conference)s has no minutes yet"),
            code="minutes_not_found",
            params={"conference": str(conference_id)},
        )
    return row


async def revision_row(db: AsyncSession, row: MinutesDocument, number: int) -> MinutesRevision:
    found = await db.scalar(
        select(MinutesRevision).where(
            MinutesRevision.minutes_id == row.id, MinutesRevision.number == number
        )
    )
    if found is None:
        raise NotFound(
            N_("the minutes have no revision %(number)s (the latest is %(latest)s)"),
            code="minutes_revision_not_found",
            params={"number": str(number), "latest": str(row.revision)},
        )
    return found


async def current(db: AsyncSession, conference_id: int, *, fresh: bool = False) -> Current:
    row = await minutes_row(db, conference_id, fresh=fresh)
    revision = await revision_row(db, row, row.revision)
    return Current(row, revision, Minutes.from_json(revision.document))


def check_reader(access: MinutesAccess, row: MinutesDocument) -> None:
    """Delegations read circulated and final minutes; drafts are the editors' alone."""
    if not access.editor and row.state == MinutesState.DRAFT:
        raise Forbidden(
            N_("these minutes are a draft: the delegations read them once they are circulated"),
            code="minutes_draft",
        )


async def readable(
    db: AsyncSession, who: Identity, conference_id: int
) -> tuple[MinutesAccess, Current]:
    access = await minutes_access(db, who, conference_id)
    found = await current(db, conference_id)
    check_reader(access, found.row)
    return access, found


async def comment_rows(db: AsyncSession, row: MinutesDocument) -> list[MinutesComment]:
    return list(
        await db.scalars(
            select(MinutesComment)
            .where(MinutesComment.minutes_id == row.id)
            .order_by(MinutesComment.round, MinutesComment.at, MinutesComment.id)
        )
    )


def record_of(
    row: MinutesDocument, minutes: Minutes, comments: Sequence[MinutesComment] = ()
) -> MinutesRecord:
    """The pure workflow's view of the stored minutes."""
    return MinutesRecord(
        minutes=minutes,
        state=MinutesState(row.state),
        round=row.round,
        delegations=frozenset(row.delegations or ()),
        comments=tuple(
            Comment(c.delegation_id or 0, c.author, c.at, c.text, c.path, c.round) for c in comments
        ),
        digest=row.digest,
    )


class StaleSave(StaleRevision):
    """A stale save (409) that carries what the editor's page needs to merge: the newest
    revision and its document, the automatic merge, and each conflicting field."""

    def __init__(
        self,
        current_revision: int,
        base: int,
        saved_by: str,
        saved_at: dt.datetime | None,
        *,
        document: Minutes,
        merged: Minutes,
        conflicts: tuple[RevisionConflict, ...],
    ) -> None:
        super().__init__(current_revision, base, saved_by, saved_at)
        self.extra: dict[str, Any] = {
            "current_revision": current_revision,
            "base_revision": base,
            "saved_by": saved_by,
            "saved_at": saved_at.isoformat() if saved_at else None,
            "current": document.to_dict(),
            "merged": merged.to_dict(),
            "conflicts": [
                {"path": c.path, "base": c.base, "mine": c.mine, "theirs": c.theirs}
                for c in conflicts
            ],
        }

    def problem(self, instance: str) -> dict[str, Any]:
        return {**super().problem(instance), **self.extra}


async def list_revisions(
    db: AsyncSession, who: Identity, conference_id: int
) -> tuple[Current, list[MinutesRevision]]:
    """The revisions this reader may see, newest first (without their documents): every one
    for the editors, the circulated and final ones for the delegations."""
    access, found = await readable(db, who, conference_id)
    query = select(MinutesRevision).where(MinutesRevision.minutes_id == found.row.id)
    if not access.editor:
        query = query.where(MinutesRevision.circulated.is_(True))
    rows = await db.scalars(query.order_by(MinutesRevision.number.desc()))
    return found, list(rows)


async def _shown_revision(
    db: AsyncSession, access: MinutesAccess, row: MinutesDocument, number: int
) -> MinutesRevision:
    """Revision ``number``, if this reader may see it: a delegation reads only what was
    circulated to it (or finalised), not the editors' drafts in between."""
    revision = await revision_row(db, row, number)
    if not access.editor and not revision.circulated:
        raise Forbidden(
            N_("revision %(number)s of the minutes is a draft: it was never circulated"),
            code="minutes_revision_draft",
            params={"number": str(number)},
        )
    return revision


async def one_revision(
    db: AsyncSession, who: Identity, conference_id: int, number: int
) -> tuple[MinutesRevision, Minutes]:
    access, found = await readable(db, who, conference_id)
    revision = await _shown_revision(db, access, found.row, number)
    return revision, Minutes.from_json(revision.document)


async def revision_diff(
    db: AsyncSession, who: Identity, conference_id: int, a: int, b: int
) -> tuple[MinutesRevision, MinutesRevision, list[RevisionChange]]:
    """What changed from revision ``a`` to revision ``b``."""
    access, found = await readable(db, who, conference_id)
    old = await _shown_revision(db, access, found.row, a)
    new = await _shown_revision(db, access, found.row, b)
    return old, new, diff(Minutes.from_json(old.document), Minutes.from_json(new.document))


async def list_comments(
    db: AsyncSession, who: Identity, conference_id: int
) -> tuple[Current, list[MinutesComment]]:
    _, found = await readable(db, who, conference_id)
    return found, await comment_rows(db, found.row)
