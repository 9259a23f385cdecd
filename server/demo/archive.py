"""The demo's archive: the 2021 MoU conference as it happened, so a newcomer finds a verifiable
record at once — final minutes (their SHA-256 in the ledger), the memorandum registered with
its Vietnamese and Lao versions, and both signatories' signings in the ledger.

Everything goes through the same operations as the product's pages (minutes created, saved,
circulated and finalised; agreement registered, versions uploaded, signatories designated);
only the signings are entered as *imported* (``server.agreements.imported``), at the
ceremony's own time, because they happened before Concord kept the record. Idempotent: a
second run finds the memorandum and does nothing.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.ledger.tree_head import TreeHeadSigner
from server.accounts.passwords import Passwords
from server.agreements import register
from server.agreements.imported import record_past_signing
from server.agreements.schemas import AgreementIn, PartyIn, SignatoryIn
from server.db import Database
from server.demo.archive_data import MEMORANDUM, MINUTES, ROOM_DAY, SIGNATORIES
from server.demo.data import MOU, demo_password
from server.demo.loader import demo_user
from server.identity import Identity
from server.minutes import operations as minutes_operations
from server.minutes import steps as minutes_steps
from server.models import (
    Agreement,
    Conference,
    ConferenceMember,
    Delegation,
    DelegationMember,
    Role,
    RoomEventRecord,
    Site,
    User,
)
from server.permits.decision import print_pdf

PDF_LIMIT = 10 * 1024 * 1024


def _identity(user: User) -> Identity:
    return Identity(
        via="bearer",
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=user.role_names,
    )


def _version_html(language: str, title: str, articles: list[str]) -> str:
    body = "".join(
        f"<h2>{number}.</h2><p>{html.escape(text)}</p>"
        for number, text in enumerate(articles, start=1)
    )
    return (
        f'<!doctype html><html lang="{language}"><meta charset="utf-8">'
        "<style>body{font-family:'DejaVu Serif','Phetsarath OT',serif;margin:2.5cm}"
        "h1{font-size:16pt;text-align:center}h2{font-size:11pt}</style>"
        f"<h1>{html.escape(title)}</h1>{body}</html>"
    )


async def _room_day(db: AsyncSession, conference: Conference) -> None:
    """The room's event log of the day, as the live room would have written it: the minutes'
    attendance and interventions are computed from it, as for any conference."""
    zone = ZoneInfo(conference.time_zone)
    sites = {
        s.name: s.id
        for s in await db.scalars(select(Site).where(Site.conference_id == conference.id))
    }
    for clock, kind, site in ROOM_DAY:
        at = dt.datetime.fromisoformat(f"{MOU['date']}T{clock}").replace(tzinfo=zone)
        db.add(
            RoomEventRecord(
                conference_id=conference.id,
                at=at.astimezone(dt.UTC),
                type=kind,
                site_id=sites[site] if site else None,
                actor="demo",
                data={},
            )
        )
    await db.flush()


async def _minutes(
    db: AsyncSession,
    secretary: Identity,
    chair: Identity,
    signer: TreeHeadSigner,
    conference_id: int,
) -> str:
    created = await minutes_operations.create(db, secretary, conference_id)
    document = created.minutes.to_dict()
    for item, text in zip(document["items"], MINUTES, strict=True):
        item["title"] = {**item["title"], **text.get("title", {})}
        item["discussion"] = text["discussion"]
        item["decisions"] = text.get("decisions", [])
        item["actions"] = text.get("actions", [])
    await minutes_operations.save(db, secretary, conference_id, created.row.revision, document)
    await minutes_steps.circulate_minutes(db, secretary, conference_id)
    final = await minutes_steps.finalise(db, chair, conference_id, signer)
    return final.row.digest or ""


async def _memorandum(
    db: AsyncSession,
    data_dir: Path,
    chair: Identity,
    signer: TreeHeadSigner,
    conference: Conference,
    signatories: list[tuple[User, dict[str, str]]],
) -> Agreement:
    delegations = {
        d.organisation: d
        for d in await db.scalars(
            select(Delegation).where(Delegation.conference_id == conference.id)
        )
    }
    starts, ends = (dt.date.fromisoformat(day) for day in MEMORANDUM["period"])
    agreement = await register.create(
        db,
        chair,
        conference.id,
        AgreementIn(
            title=MEMORANDUM["title"],
            kind=MEMORANDUM["kind"],
            parties=[PartyIn(name=name, delegation_id=d.id) for name, d in delegations.items()],
            period_starts_on=starts,
            period_ends_on=ends,
        ),
    )
    for language, (title, articles) in MEMORANDUM["versions"].items():
        pdf = await print_pdf(_version_html(language, title, articles))
        await register.upload_version(
            db,
            data_dir,
            chair,
            conference.id,
            agreement.id,
            language,
            f"mou-2021-{language}.pdf",
            pdf,
            limit=PDF_LIMIT,
        )
    parties = {p.name: p for p in agreement.parties}
    designated = []
    for user, spec in signatories:
        delegation = delegations[spec["delegation"]]
        signatory = await register.designate(
            db,
            chair,
            conference.id,
            agreement.id,
            SignatoryIn(
                party_id=parties[spec["delegation"]].id,
                email=user.email,
                site_id=delegation.site_id,
                name=spec["member"],
            ),
        )
        designated.append((signatory.id, spec["signed_at"]))
    zone = ZoneInfo(conference.time_zone)
    for signatory_id, clock in designated:
        at = dt.datetime.fromisoformat(f"{MOU['date']}T{clock}").replace(tzinfo=zone)
        await record_past_signing(
            db, signer, chair, conference.id, agreement.id, signatory_id, at.astimezone(dt.UTC)
        )
    return agreement


async def archive_demo(
    database: Database, passwords: Passwords, signer: TreeHeadSigner, data_dir: Path
) -> list[str]:
    """Archive the MoU conference once; lines for the demo's summary."""
    async with database.session() as db, db.begin():
        conference = await db.scalar(select(Conference).where(Conference.slug == MOU["slug"]))
        if conference is None:
            return []
        done = await db.scalar(select(Agreement.id).where(Agreement.conference_id == conference.id))
        if done is not None:
            return [f"archive: the 2021 MoU is already archived (agreement {done})"]
        organiser = await db.get(User, conference.organiser_id)
        secretary = await db.scalar(
            select(User)
            .join(ConferenceMember, ConferenceMember.user_id == User.id)
            .where(
                ConferenceMember.conference_id == conference.id,
                ConferenceMember.role == Role.SECRETARY.value,
            )
        )
        assert organiser is not None and secretary is not None
        signatories: list[tuple[User, dict[str, str]]] = []
        for spec in SIGNATORIES:
            user, _ = await demo_user(db, passwords, {**spec, "roles": [Role.DELEGATE.value]})
            member = await db.scalar(
                select(DelegationMember)
                .join(Delegation, Delegation.id == DelegationMember.delegation_id)
                .where(
                    Delegation.conference_id == conference.id,
                    DelegationMember.name == spec["member"],
                )
            )
            assert member is not None, spec["member"]
            member.user_id = user.id
            db.add(
                ConferenceMember(
                    conference_id=conference.id, user_id=user.id, role=Role.DELEGATE.value
                )
            )
            signatories.append((user, spec))
        await db.flush()
        chair = _identity(organiser)
        await _room_day(db, conference)
        digest = await _minutes(db, _identity(secretary), chair, signer, conference.id)
        agreement = await _memorandum(db, data_dir, chair, signer, conference, signatories)
        sites = {s.id: s.name for s in await db.scalars(select(Site))}
        signed = ", ".join(
            f"{s.name} ({sites.get(s.site_id or 0, '—')})" for s in agreement.signatories
        )
    return [
        f"archive: the 2021 MoU conference's minutes are final (SHA-256 {digest[:16]}…)",
        f"archive: memorandum {agreement.id} signed by {signed}; see /ledger and "
        "`concord ledger verify`",
        "signatories (e-mail / password):",
        *(f"  {s['email']:<38} {demo_password(s['email'])}" for s in SIGNATORIES),
    ]
