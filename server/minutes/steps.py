"""The minutes' workflow steps on the stored minutes: circulate to the delegations, their
comments, back to draft, and final (the text locked, its SHA-256 recorded and appended to the
ledger in the same transaction, so there is no final minutes without its ledger entry)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.ledger.tree_head import TreeHeadSigner
from server import audit
from server.errors import Forbidden, InternalError, InvalidInput
from server.i18n_strings import N_
from server.identity import Identity
from server.ledger.operations import append
from server.minutes.access import minutes_access, require_editor
from server.minutes.store import Current, author_of, comment_rows, current, record_of
from server.minutes.workflow import (
    Comment,
    add_comment,
    circulate,
    finalise_record,
    return_to_draft,
)
from server.models import (
    Delegation,
    DelegationMember,
    MinutesComment,
    User,
    utcnow,
)


@dataclass(frozen=True)
class Recipient:
    """A delegation member with an account, told that the minutes were circulated."""

    email: str
    name: str
    locale: str
    delegation: str


async def recipients(db: AsyncSession, delegation_ids: list[int]) -> list[Recipient]:
    rows = await db.execute(
        select(User.email, User.display_name, User.locale, Delegation.organisation)
        .join(DelegationMember, DelegationMember.user_id == User.id)
        .join(Delegation, Delegation.id == DelegationMember.delegation_id)
        .where(Delegation.id.in_(delegation_ids), User.active.is_(True))
        .order_by(Delegation.precedence, User.email)
    )
    seen: dict[str, Recipient] = {}
    for email, name, locale, organisation in rows:
        seen.setdefault(email, Recipient(email, name, locale or "en", organisation))
    return list(seen.values())


async def circulate_minutes(
    db: AsyncSession, who: Identity, conference_id: int, *, remote: str = ""
) -> tuple[Current, list[Recipient]]:
    """Draft → circulated to every delegation of the conference (a new round); returns who
    of them has an account to be told."""
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    now = await current(db, conference_id)
    delegations = list(
        await db.scalars(
            select(Delegation.id)
            .where(Delegation.conference_id == conference_id)
            .order_by(Delegation.precedence, Delegation.id)
        )
    )
    record = circulate(record_of(now.row, now.minutes), delegations, access.roles)
    now.row.state, now.row.round = record.state.value, record.round
    now.revision.circulated = True  # the delegations may read this revision from now on
    now.row.delegations = sorted(record.delegations)
    audit.record(
        db,
        who,
        "minutes.circulate",
        "minutes",
        now.row.id,
        conference_id=conference_id,
        detail={"round": record.round, "revision": now.row.revision, "delegations": delegations},
        remote=remote,
    )
    await db.flush()
    return now, await recipients(db, delegations)


async def back_to_draft(
    db: AsyncSession, who: Identity, conference_id: int, *, remote: str = ""
) -> Current:
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    now = await current(db, conference_id)
    record = return_to_draft(record_of(now.row, now.minutes), access.roles)
    now.row.state = record.state.value
    audit.record(
        db,
        who,
        "minutes.draft",
        "minutes",
        now.row.id,
        conference_id=conference_id,
        detail={"round": record.round},
        remote=remote,
    )
    await db.flush()
    return now


async def comment(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    text: str,
    *,
    path: str | None = None,
    delegation_id: int | None = None,
    remote: str = "",
) -> MinutesComment:
    """A comment for the commenter's delegation (named when they belong to several)."""
    access = await minutes_access(db, who, conference_id)
    if not access.delegations:
        raise Forbidden(
            N_(
                "comments come from the delegations: you are not a member of one in this conference"
            ),
            code="not_a_delegation_member",
        )
    if delegation_id is None:
        if len(access.delegations) > 1:
            raise InvalidInput(
                N_(
                    "you belong to several delegations:"
                    " name the one you comment for (delegation_id)"
                ),
                code="delegation_needed",
            )
        (delegation_id,) = access.delegations
    elif delegation_id not in access.delegations:
        raise Forbidden(
            N_("you are not a member of delegation %(delegation)s"),
            code="not_a_delegation_member",
            params={"delegation": str(delegation_id)},
        )
    now = await current(db, conference_id)
    at = utcnow()
    record = add_comment(
        record_of(now.row, now.minutes),
        Comment(delegation_id, who.actor, at, text, path or None),
    )
    stored = record.comments[-1]
    row = MinutesComment(
        minutes_id=now.row.id,
        round=stored.round,
        delegation_id=delegation_id,
        author=who.actor,
        author_id=who.user_id,
        author_name=author_of(who),
        path=stored.path,
        text=stored.text,
        at=at,
    )
    db.add(row)
    audit.record(
        db,
        who,
        "minutes.comment",
        "minutes",
        now.row.id,
        conference_id=conference_id,
        detail={"round": stored.round, "delegation_id": delegation_id, "path": stored.path},
        remote=remote,
    )
    await db.flush()
    return row


async def finalise(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    signer: TreeHeadSigner,
    *,
    remote: str = "",
) -> Current:
    """Circulated → final: the current revision locked, its SHA-256 recorded and appended to
    the ledger (ids and the hash only: ledger entries are public)."""
    access = await minutes_access(db, who, conference_id)
    require_editor(access)
    now = await current(db, conference_id)
    record = finalise_record(
        record_of(now.row, now.minutes, await comment_rows(db, now.row)), access.roles
    )
    if record.minutes.to_json() != now.revision.document or record.digest != now.revision.digest:
        raise InternalError(
            f"revision {now.row.revision} of the minutes does not hash to its stored digest",
            code="minutes_digest_mismatch",
        )
    at = utcnow()
    entry = await append(
        db,
        signer,
        "minutes_final",
        f"minutes:{conference_id}",
        {
            "conference_id": conference_id,
            "minutes_id": now.row.id,
            "revision": now.row.revision,
            "sha256": record.digest,
            "finalised_at": at.isoformat(),
            "finalised_by": who.user_id,
        },
    )
    row = now.row
    row.state, row.digest = record.state.value, record.digest
    now.revision.circulated = True
    row.finalised_at, row.finalised_by, row.finalised_by_id = at, who.actor, who.user_id
    row.ledger_position = entry.position
    audit.record(
        db,
        who,
        "minutes.final",
        "minutes",
        row.id,
        conference_id=conference_id,
        detail={"revision": row.revision, "sha256": record.digest, "ledger": entry.position},
        remote=remote,
    )
    await db.flush()
    return now
