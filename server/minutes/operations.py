"""Writing the minutes: create from the agenda, save a revision (refusing stale ones with the
merge), refresh attendance from the room. The workflow's steps are in ``steps``.

Every write checks access first, validates everything before writing, and records its audit
entry in the caller's transaction. A save is a compare-and-set on the current revision number
(``UPDATE … WHERE revision = base``), so two editors saving on the same base cannot both win,
on SQLite or PostgreSQL, however their requests interleave.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.errors import Conflict, InvalidInput
from server.i18n_strings import N_
from server.identity import Identity
from server.minutes import build
from server.minutes.access import minutes_access, require_editor
from server.minutes.document import InvalidMinutes, Minutes
from server.minutes.revisions import merge
from server.minutes.store import (
    Current,
    StaleSave,
    author_of,
    current,
    record_of,
    revision_row,
)
from server.minutes.workflow import edit
from server.models import MinutesDocument, MinutesRevision, utcnow


def _new_revision(
    row: MinutesDocument, number: int, who: Identity, minutes: Minutes, kind: str
) -> MinutesRevision:
    text = minutes.to_json()
    return MinutesRevision(
        minutes_id=row.id,
        number=number,
        author=who.actor,
        author_id=who.user_id,
        author_name=author_of(who),
        saved_at=utcnow(),
        kind=kind,
        document=text,
        digest=minutes.digest(),
    )


async def create(
    db: AsyncSession, who: Identity, conference_id: int, *, remote: str = ""
) -> Current:
    """The minutes' first revision: one item per agenda session, in the conference's
    languages, attendance and interventions from the room so far."""
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    exists = await db.scalar(
        select(MinutesDocument.id).where(MinutesDocument.conference_id == conference_id)
    )
    if exists is not None:
        raise Conflict(
            N_("conference %(conference)s already has minutes: open them instead"),
            code="minutes_exist",
            params={"conference": str(conference_id)},
        )
    conference = await build.load_conference(db, conference_id)
    minutes = await build.from_the_room(db, conference, build.first_draft(conference))
    row = MinutesDocument(conference_id=conference_id, state="draft", revision=1, delegations=[])
    db.add(row)
    await db.flush()
    revision = _new_revision(row, 1, who, minutes, "created")
    db.add(revision)
    audit.record(
        db,
        who,
        "minutes.create",
        "minutes",
        row.id,
        conference_id=conference_id,
        detail={"revision": 1, "items": len(minutes.items)},
        remote=remote,
    )
    await db.flush()
    return Current(row, revision, minutes)


def parse_document(document: Any, stored: Minutes) -> Minutes:
    """The sent document, checked against the stored one: same conference and languages.
    Attendance and interventions are the room's, never typed: the stored ones are kept."""
    sent = Minutes.from_dict(document)
    if sent.conference_id != stored.conference_id:
        raise InvalidMinutes("conference_id", N_("the minutes belong to another conference"))
    if sent.languages != stored.languages:
        raise InvalidMinutes(
            "languages",
            N_(
                "the minutes are written in %(languages)s;"
                " the languages cannot be changed by a save"
            ),
            languages=", ".join(stored.languages),
        )
    return replace(sent, attendance=stored.attendance, interventions=stored.interventions)


async def _advance(db: AsyncSession, row: MinutesDocument, base: int) -> bool:
    """Compare-and-set the current revision from ``base`` to ``base + 1`` while a draft."""
    result = await db.execute(
        update(MinutesDocument)
        .where(
            MinutesDocument.id == row.id,
            MinutesDocument.revision == base,
            MinutesDocument.state == "draft",
        )
        .values(revision=base + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def save(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    base: int,
    document: Any,
    *,
    remote: str = "",
) -> Current:
    """Save ``document`` as a new revision on top of revision ``base``. A stale base raises
    ``StaleSave`` (409) with the newest revision and the merge of mine and theirs; an
    unchanged document saves nothing and answers the current revision."""
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    now = await current(db, conference_id)
    record = record_of(now.row, now.minutes)
    if base > now.row.revision or base < 1:
        raise InvalidInput(
            N_("revision %(base)s does not exist (the latest is %(latest)s)"),
            code="bad_base_revision",
            params={"base": str(base), "latest": str(now.row.revision)},
        )
    base_revision = (
        now.revision if base == now.row.revision else await revision_row(db, now.row, base)
    )
    base_minutes = (
        now.minutes if base == now.row.revision else Minutes.from_json(base_revision.document)
    )
    mine = parse_document(document, base_minutes)
    edit(record, mine, access.roles)  # refuses circulated / final minutes
    if base != now.row.revision:
        raise _stale(now, base, base_minutes, mine)
    if mine.to_json() == now.revision.document:
        return now
    if not await _advance(db, now.row, base):
        again = await current(db, conference_id, fresh=True)
        edit(record_of(again.row, again.minutes), mine, access.roles)
        raise _stale(again, base, base_minutes, mine)
    revision = _new_revision(now.row, base + 1, who, mine, "save")
    db.add(revision)
    audit.record(
        db,
        who,
        "minutes.save",
        "minutes",
        now.row.id,
        conference_id=conference_id,
        detail={"revision": base + 1, "digest": revision.digest},
        remote=remote,
    )
    await db.flush()
    return await current(db, conference_id, fresh=True)


def _stale(now: Current, base: int, base_minutes: Minutes, mine: Minutes) -> StaleSave:
    merged = merge(base_minutes, mine, now.minutes)
    return StaleSave(
        now.row.revision,
        base,
        now.revision.author_name or now.revision.author,
        now.revision.saved_at,
        document=now.minutes,
        merged=merged.merged,
        conflicts=merged.conflicts,
    )


async def refresh_from_room(
    db: AsyncSession, who: Identity, conference_id: int, *, remote: str = ""
) -> Current:
    """Recompute attendance and interventions from the room's events: a new revision when
    they changed (the text is left as it is)."""
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    now = await current(db, conference_id)
    conference = await build.load_conference(db, conference_id)
    refreshed = await build.from_the_room(db, conference, now.minutes)
    edit(record_of(now.row, now.minutes), refreshed, access.roles)
    if refreshed.to_json() == now.revision.document:
        return now
    base = now.row.revision
    if not await _advance(db, now.row, base):
        raise Conflict(
            N_("the minutes changed while the attendance was read: try again"),
            code="minutes_busy",
        )
    revision = _new_revision(now.row, base + 1, who, refreshed, "attendance")
    db.add(revision)
    audit.record(
        db,
        who,
        "minutes.attendance",
        "minutes",
        now.row.id,
        conference_id=conference_id,
        detail={
            "revision": base + 1,
            "attendance": len(refreshed.attendance),
            "interventions": len(refreshed.interventions),
        },
        remote=remote,
    )
    await db.flush()
    return await current(db, conference_id, fresh=True)
