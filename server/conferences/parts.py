"""The parts of a conference's plan besides its sessions: sites (and the venues they are in)
and delegations with their members (interpreters are in ``interpreters``).

Each operation checks its input against the conference (zones, users, sites), writes,
rebooks the conference when what it books may have changed (a site's venue), and records the
audit entry, all in the caller's transaction.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server import audit
from server.conferences.bookings import rebook
from server.conferences.inputs import (
    DelegationIn,
    DelegationMemberIn,
    DelegationUpdate,
    SiteIn,
    SiteUpdate,
)
from server.conferences.operations import editable_conference
from server.conferences.timing import check_zone, field_error
from server.errors import Conflict, NotFound
from server.fields import EMAIL
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    AgendaSession,
    Conference,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    SessionStatus,
    Site,
    User,
    Venue,
)
from server.models.conferences import session_sites

P = TypeVar("P", Site, InterpreterAssignment)


async def active_user(db: AsyncSession, user_id: int, field: str) -> User:
    user = await db.get(User, user_id)
    if user is None or not user.active:
        raise field_error(
            field, N_("there is no active user %(user)s"), "unknown_user", user=str(user_id)
        )
    return user


#: What is missing, by table (``find_part``): a template each, for the reader's language.
PART_NOT_FOUND = {
    "site": N_("conference %(conference)s has no site %(id)s"),
    "delegation": N_("conference %(conference)s has no delegation %(id)s"),
    "interpreter_assignment": N_("conference %(conference)s has no interpreter assignment %(id)s"),
    "venue": N_("conference %(conference)s has no venue %(id)s"),
}


async def find_part(db: AsyncSession, model: type[P], conference_id: int, part_id: int) -> P:
    found = await db.get(model, part_id)
    if found is None or getattr(found, "conference_id", None) != conference_id:
        name = model.__tablename__.rstrip("s")
        raise NotFound(
            PART_NOT_FOUND[name],
            code=f"{name}_not_found",
            params={"conference": str(conference_id), "id": str(part_id)},
        )
    return found


async def _touch_sessions_at(db: AsyncSession, site: Site) -> None:
    """SEQUENCE + 1 for the sessions held at ``site`` (listed, or held at every site)."""
    listed = select(session_sites.c.session_id).where(session_sites.c.site_id == site.id)
    with_sites = select(session_sites.c.session_id)
    rows = await db.scalars(
        select(AgendaSession).where(
            AgendaSession.conference_id == site.conference_id,
            AgendaSession.status != SessionStatus.CANCELLED.value,
            AgendaSession.id.in_(listed) | AgendaSession.id.not_in(with_sites),
        )
    )
    for row in rows:
        row.sequence += 1


# Sites and venues ------------------------------------------------------------------------


async def list_venues(db: AsyncSession, limit: int = 500) -> list[Venue]:
    return list(await db.scalars(select(Venue).order_by(Venue.name, Venue.id).limit(limit)))


async def _venue(db: AsyncSession, venue_id: int) -> Venue:
    venue = await db.get(Venue, venue_id)
    if venue is None:
        raise field_error(
            "venue_id", N_("there is no venue %(venue)s"), "unknown_venue", venue=str(venue_id)
        )
    return venue


async def _check_site_fields(db: AsyncSession, body: SiteIn | SiteUpdate) -> None:
    if body.time_zone is not None:
        check_zone(body.time_zone)
    if body.technician_id is not None:
        await active_user(db, body.technician_id, "technician_id")
    if body.contact_email and not EMAIL.match(body.contact_email):
        raise field_error("contact_email", N_("this is not an e-mail address"), "bad_email")


async def create_site(
    db: AsyncSession, actor: Identity, conference_id: int, body: SiteIn, remote: str = ""
) -> Site:
    await editable_conference(db, conference_id)
    await _check_site_fields(db, body)
    await _unique_site_name(db, conference_id, body.name)
    if body.venue_id is not None:
        venue = await _venue(db, body.venue_id)
    else:
        venue = Venue(name=body.name, location=body.location, time_zone=body.time_zone)
        db.add(venue)
        await db.flush()
    site = Site(conference_id=conference_id, **body.model_dump(exclude={"venue_id"}))
    site.venue_id = venue.id
    db.add(site)
    await db.flush()
    await _touch_sessions_at(db, site)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "site.created",
        "site",
        site.id,
        conference_id=conference_id,
        detail={"name": site.name, "venue_id": venue.id},
        remote=remote,
    )
    return site


async def _unique_site_name(
    db: AsyncSession, conference_id: int, name: str, except_id: int | None = None
) -> None:
    clash = await db.scalar(
        select(Site.id).where(Site.conference_id == conference_id, Site.name == name)
    )
    if clash is not None and clash != except_id:
        raise field_error(
            "name", N_("this conference already has a site named “%(name)s”"), "taken", name=name
        )


async def update_site(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    site_id: int,
    body: SiteUpdate,
    remote: str = "",
) -> Site:
    await editable_conference(db, conference_id)
    site = await find_part(db, Site, conference_id, site_id)
    await _check_site_fields(db, body)
    given = body.model_fields_set
    if body.name is not None:
        await _unique_site_name(db, conference_id, body.name, site.id)
    if "venue_id" in given and body.venue_id is not None:
        await _venue(db, body.venue_id)
    changed: dict[str, Any] = {}
    for name in sorted(given):
        value = getattr(body, name)
        nullable = name in ("technician_id",)
        if (value is not None or nullable) and value != getattr(site, name):
            setattr(site, name, value)
            changed[name] = value
    if changed.keys() & {"name", "location", "venue_id"}:
        await _touch_sessions_at(db, site)
    await rebook(db, conference_id)
    if changed:
        audit.record(
            db,
            actor,
            "site.updated",
            "site",
            site.id,
            conference_id=conference_id,
            detail=changed,
            remote=remote,
        )
    return site


async def delete_site(
    db: AsyncSession, actor: Identity, conference_id: int, site_id: int, remote: str = ""
) -> None:
    """Remove a site; refused while it is the only site of a session (which would otherwise
    silently become a session of every site)."""
    await editable_conference(db, conference_id)
    site = await find_part(db, Site, conference_id, site_id)
    counts = (
        select(session_sites.c.session_id)
        .group_by(session_sites.c.session_id)
        .having(func.count() == 1)
    )
    only_here = list(
        await db.scalars(
            select(session_sites.c.session_id).where(
                session_sites.c.site_id == site_id, session_sites.c.session_id.in_(counts)
            )
        )
    )
    if only_here:
        raise Conflict(
            N_(
                "site %(site)s is the only site of session(s) %(sessions)s;"
                " change those sessions first"
            ),
            code="site_in_use",
            params={"site": str(site_id), "sessions": ", ".join(map(str, sorted(only_here)))},
        )
    await _touch_sessions_at(db, site)
    await db.delete(site)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "site.deleted",
        "site",
        site_id,
        conference_id=conference_id,
        detail={"name": site.name},
        remote=remote,
    )


# Delegations ---------------------------------------------------------------------------


async def _delegation_fields(
    db: AsyncSession, conference: Conference, body: DelegationIn | DelegationUpdate
) -> list[DelegationMember] | None:
    if body.site_id is not None:
        await find_part(db, Site, conference.id, body.site_id)
    if body.members is None:
        return None
    return [await _member(db, i, m) for i, m in enumerate(body.members)]


async def _member(db: AsyncSession, index: int, given: DelegationMemberIn) -> DelegationMember:
    if given.user_id is not None:
        await active_user(db, given.user_id, f"members.{index}.user_id")
    return DelegationMember(
        name=given.name,
        position=given.position,
        role=given.role,
        language=given.language or "",
        user_id=given.user_id,
        precedence=index,
    )


async def _load_delegation(db: AsyncSession, conference_id: int, delegation_id: int) -> Delegation:
    found = await db.scalar(
        select(Delegation)
        .where(Delegation.id == delegation_id, Delegation.conference_id == conference_id)
        .options(selectinload(Delegation.members))
    )
    if found is None:
        raise NotFound(
            PART_NOT_FOUND["delegation"],
            code="delegation_not_found",
            params={"conference": str(conference_id), "id": str(delegation_id)},
        )
    return found


async def create_delegation(
    db: AsyncSession, actor: Identity, conference_id: int, body: DelegationIn, remote: str = ""
) -> Delegation:
    conference = await editable_conference(db, conference_id)
    members = await _delegation_fields(db, conference, body) or []
    precedence = body.precedence
    if precedence is None:
        last = await db.scalar(
            select(func.max(Delegation.precedence)).where(Delegation.conference_id == conference_id)
        )
        precedence = 0 if last is None else last + 1
    delegation = Delegation(
        conference_id=conference_id,
        country=body.country,
        organisation=body.organisation,
        is_host=body.is_host,
        precedence=precedence,
        site_id=body.site_id,
        members=members,
    )
    db.add(delegation)
    await db.flush()
    audit.record(
        db,
        actor,
        "delegation.created",
        "delegation",
        delegation.id,
        conference_id=conference_id,
        detail={"organisation": delegation.organisation, "members": len(members)},
        remote=remote,
    )
    return await _load_delegation(db, conference_id, delegation.id)


async def update_delegation(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    delegation_id: int,
    body: DelegationUpdate,
    remote: str = "",
) -> Delegation:
    conference = await editable_conference(db, conference_id)
    delegation = await _load_delegation(db, conference_id, delegation_id)
    members = await _delegation_fields(db, conference, body)
    changed: dict[str, Any] = {}
    for name in sorted(body.model_fields_set - {"members"}):
        value = getattr(body, name)
        if (value is not None or name == "site_id") and value != getattr(delegation, name):
            setattr(delegation, name, value)
            changed[name] = value
    if members is not None:
        delegation.members = members
        changed["members"] = len(members)
    if changed:
        audit.record(
            db,
            actor,
            "delegation.updated",
            "delegation",
            delegation.id,
            conference_id=conference_id,
            detail=changed,
            remote=remote,
        )
    await db.flush()
    return delegation


async def delete_delegation(
    db: AsyncSession, actor: Identity, conference_id: int, delegation_id: int, remote: str = ""
) -> None:
    await editable_conference(db, conference_id)
    delegation = await _load_delegation(db, conference_id, delegation_id)
    await db.delete(delegation)
    audit.record(
        db,
        actor,
        "delegation.deleted",
        "delegation",
        delegation_id,
        conference_id=conference_id,
        detail={"organisation": delegation.organisation},
        remote=remote,
    )
