"""The minutes' storage through the operations, on SQLite and PostgreSQL: revisions as rows
with their canonical JSON and digest, and two saves racing on one base (exactly one wins)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace

import pytest
from sqlalchemy import select

from server.db import Database
from server.identity import Identity
from server.minutes import operations as ops
from server.minutes.document import Minutes
from server.minutes.store import StaleSave
from server.models import AuditEntry, MinutesDocument, MinutesRevision, User

MOU = 1


async def editor(db: Database, email: str) -> Identity:
    async with db.session() as s:
        user = await s.scalar(select(User).where(User.email == email))
    assert user is not None
    return Identity(
        via="cookie",
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=user.role_names,
    )


def typed(minutes: Minutes, text: str) -> Minutes:
    items = list(minutes.items)
    items[0] = replace(items[0], discussion={"vi": text, "lo": ""})
    return replace(minutes, items=tuple(items))


async def test_revisions_are_stored_with_their_canonical_json_and_digest(demo: Database) -> None:
    secretary = await editor(demo, "secretary@concord.example")
    async with demo.session() as db, db.begin():
        made = await ops.create(db, secretary, MOU)
    async with demo.session() as db, db.begin():
        saved = await ops.save(db, secretary, MOU, 1, typed(made.minutes, "Khai mạc").to_dict())
    assert saved.row.revision == 2
    async with demo.session() as db:
        rows = list(await db.scalars(select(MinutesRevision).order_by(MinutesRevision.number)))
        actions = list(
            await db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("minutes.%")))
        )
    assert [r.number for r in rows] == [1, 2]
    for row in rows:
        assert hashlib.sha256(row.document.encode()).hexdigest() == row.digest
        assert Minutes.from_json(row.document).to_json() == row.document
    assert (
        rows[1].author == "secretary@concord.example" and rows[1].author_name == "Thư ký hội nghị"
    )
    assert actions == ["minutes.create", "minutes.save"]

    # Saving the same text again adds no revision.
    async with demo.session() as db, db.begin():
        again = await ops.save(db, secretary, MOU, 2, typed(made.minutes, "Khai mạc").to_dict())
    assert again.row.revision == 2


@pytest.mark.parametrize("attempt", range(3))
async def test_two_saves_racing_on_one_base_one_wins(demo: Database, attempt: int) -> None:
    secretary = await editor(demo, "secretary@concord.example")
    organiser = await editor(demo, "organiser@concord.example")
    async with demo.session() as db, db.begin():
        made = await ops.create(db, secretary, MOU)

    async def save(who: Identity, text: str) -> int | StaleSave:
        try:
            async with demo.session() as db, db.begin():
                done = await ops.save(db, who, MOU, 1, typed(made.minutes, text).to_dict())
                return done.row.revision
        except StaleSave as refused:
            return refused

    results = await asyncio.gather(save(secretary, "A"), save(organiser, "B"))
    wins = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, StaleSave)]
    assert wins == [2] and len(refusals) == 1, results
    refused = refusals[0]
    assert refused.current == 2 and refused.base == 1
    assert [c["path"] for c in refused.extra["conflicts"]] == ["items[0].discussion.vi"]
    async with demo.session() as db:
        row = await db.scalar(select(MinutesDocument))
        numbers = list(await db.scalars(select(MinutesRevision.number)))
    assert row is not None and row.revision == 2 and sorted(numbers) == [1, 2]
