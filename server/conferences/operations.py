"""Creating, changing, deleting conferences and moving them through their lifecycle.

Each operation validates everything before it writes, writes, and records the audit entry in
the caller's transaction; refused input raises a ``DomainError`` naming the field, and the
transaction (opened by the handler) rolls back.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server import audit
from server.conferences import lifecycle
from server.conferences.access import conference_roles, no_part_in, no_such_conference
from server.conferences.bookings import rebook
from server.conferences.inputs import ConferenceCreate, ConferenceUpdate, LanguageIn
from server.conferences.series import check_series
from server.conferences.timing import check_zone, field_error, to_utc
from server.errors import Conflict, Forbidden
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    AgendaSession,
    Conference,
    ConferenceLanguage,
    ConferenceStatus,
    InterpreterAssignment,
    Role,
    SessionStatus,
)

#: The longest a conference may span (a weekly coordination meeting over several years).
MAX_SPAN = dt.timedelta(days=3660)


class IllegalTransition(Conflict):
    """409: the lifecycle has no such step; ``allowed`` lists the ones it has."""

    code = "illegal_transition"

    def __init__(self, current: ConferenceStatus, wanted: ConferenceStatus) -> None:
        self.allowed = [s.value for s in lifecycle.next_statuses(current)]
        super().__init__(
            N_(
                "a conference that is %(current)s cannot become %(wanted)s;"
                " it can become: %(names)s"
            )
            if self.allowed
            else N_(
                "a conference that is %(current)s cannot become %(wanted)s;"
                " it can become: nothing (this is a final state)"
            ),
            params={
                "current": current.value,
                "wanted": wanted.value,
                "names": ", ".join(self.allowed),
            },
        )

    def problem(self, instance: str) -> dict[str, Any]:
        body = super().problem(instance)
        body["allowed"] = self.allowed
        return body


async def load_conference(
    db: AsyncSession, conference_id: int, *, lock: bool = False
) -> Conference:
    query = select(Conference).where(Conference.id == conference_id)
    if lock:
        query = query.with_for_update()
    found = await db.scalar(query)
    if found is None:
        raise no_such_conference(conference_id)
    return found


async def editable_conference(db: AsyncSession, conference_id: int) -> Conference:
    """The conference, locked for this transaction, if its plan may still change."""
    conference = await load_conference(db, conference_id, lock=True)
    if ConferenceStatus(conference.status) not in lifecycle.EDITABLE:
        raise Conflict(
            N_("conference %(conference)s is %(status)s; its plan can no longer change"),
            code="conference_closed",
            params={"conference": str(conference_id), "status": conference.status},
        )
    return conference


def slug_for(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")
    return f"{words or 'conference'}-{secrets.token_hex(3)}"


def _span(
    zone_name: str, starts_at: dt.datetime, ends_at: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    zone = check_zone(zone_name)
    start, end = to_utc(starts_at, zone, "starts_at"), to_utc(ends_at, zone, "ends_at")
    if end <= start:
        raise field_error(
            "ends_at", N_("the conference must end after it starts"), "end_before_start"
        )
    if end - start > MAX_SPAN:
        raise field_error(
            "ends_at",
            N_("a conference spans at most %(days)s days"),
            "span_too_long",
            days=str(MAX_SPAN.days),
        )
    return start, end


def _languages(given: list[LanguageIn]) -> list[ConferenceLanguage]:
    seen: set[str] = set()
    for index, language in enumerate(given):
        if language.code in seen:
            raise field_error(
                f"languages.{index}.code",
                N_("%(language)s is listed twice"),
                "duplicate_language",
                language=language.code,
            )
        seen.add(language.code)
    return [ConferenceLanguage(**language.model_dump()) for language in given]


def _translations(given: dict[str, Any]) -> dict[str, Any]:
    return {
        code: {k: v for k, v in text.model_dump().items() if v is not None}
        for code, text in given.items()
    }


async def create_conference(
    db: AsyncSession, actor: Identity, body: ConferenceCreate, remote: str = ""
) -> Conference:
    starts_at, ends_at = _span(body.time_zone, body.starts_at, body.ends_at)
    conference = Conference(
        slug=slug_for(body.title),
        title=body.title,
        description=body.description,
        translations=_translations(body.translations),
        kind=body.kind.value,
        status=ConferenceStatus.DRAFT.value,
        time_zone=body.time_zone,
        starts_at=starts_at,
        ends_at=ends_at,
        organiser_id=actor.user_id,
        languages=_languages(body.languages),
    )
    db.add(conference)
    await db.flush()
    audit.record(
        db,
        actor,
        "conference.created",
        "conference",
        conference.id,
        conference_id=conference.id,
        detail={"title": conference.title, "starts_at": starts_at.isoformat()},
        remote=remote,
    )
    return conference


async def update_conference(
    db: AsyncSession, actor: Identity, conference_id: int, body: ConferenceUpdate, remote: str = ""
) -> Conference:
    conference = await editable_conference(db, conference_id)
    given = body.model_fields_set
    changed: dict[str, Any] = {}
    zone_name = body.time_zone if body.time_zone is not None else conference.time_zone
    if given & {"starts_at", "ends_at", "time_zone"}:
        start, end = _span(
            zone_name, body.starts_at or conference.starts_at, body.ends_at or conference.ends_at
        )
        if (start, end, zone_name) != (
            conference.starts_at,
            conference.ends_at,
            conference.time_zone,
        ):
            conference.starts_at, conference.ends_at = start, end
            conference.time_zone = zone_name
            changed["span"] = [start.isoformat(), end.isoformat(), zone_name]
            await _check_sessions_inside(db, conference)
    for name in ("title", "description", "kind"):
        value = getattr(body, name)
        if name in given and value is not None and value != getattr(conference, name):
            setattr(conference, name, value)
            changed[name] = str(value)
    if body.translations is not None:
        conference.translations = _translations(body.translations)
        changed["translations"] = sorted(conference.translations)
    if body.languages is not None:
        await _replace_languages(db, conference, body.languages)
        changed["languages"] = [lang.code for lang in body.languages]
    if changed:
        audit.record(
            db,
            actor,
            "conference.updated",
            "conference",
            conference.id,
            conference_id=conference.id,
            detail=changed,
            remote=remote,
        )
    return conference


async def _check_sessions_inside(db: AsyncSession, conference: Conference) -> None:
    sessions = list(
        await db.scalars(select(AgendaSession).where(AgendaSession.conference_id == conference.id))
    )
    for session in sessions:
        if session.starts_at < conference.starts_at or session.ends_at > conference.ends_at:
            raise field_error(
                "starts_at" if session.starts_at < conference.starts_at else "ends_at",
                N_("session %(id)s (%(title)s) would fall outside the conference; move it first"),
                "session_outside_conference",
                id=str(session.id),
                title=session.title,
            )
    for series in sessions:
        if series.rrule:
            overrides = [s for s in sessions if s.series_id == series.id]
            check_series(conference, series, overrides)


async def _replace_languages(
    db: AsyncSession, conference: Conference, given: list[LanguageIn]
) -> None:
    new = _languages(given)
    kept = {lang.code for lang in new}
    booths = await db.scalars(
        select(InterpreterAssignment.target_language).where(
            InterpreterAssignment.conference_id == conference.id
        )
    )
    for code in set(booths) - kept:
        raise Conflict(
            N_("interpreters are assigned to the %(code)s booth; remove them before the language"),
            code="language_in_use",
            params={"code": code},
        )
    loaded = await db.scalar(
        select(Conference)
        .where(Conference.id == conference.id)
        .options(selectinload(Conference.languages))
    )
    assert loaded is not None
    # Kept languages are updated in place: (conference, code) is unique, and the unit of work
    # would insert the new rows before deleting the old ones.
    existing = {lang.code: lang for lang in loaded.languages}
    merged = []
    for language in new:
        row = existing.get(language.code)
        if row is None:
            row = language
        else:
            row.is_floor = language.is_floor
            row.is_interpreted = language.is_interpreted
            row.is_sign_language = language.is_sign_language
        merged.append(row)
    loaded.languages = merged


async def delete_conference(
    db: AsyncSession, actor: Identity, conference_id: int, remote: str = ""
) -> Conference | None:
    """Delete a draft (``None``); a conference past its draft is cancelled instead."""
    conference = await load_conference(db, conference_id, lock=True)
    if conference.status != ConferenceStatus.DRAFT:
        return await change_status(
            db, actor, conference_id, ConferenceStatus.CANCELLED, "deleted", remote
        )
    await db.delete(conference)
    audit.record(
        db,
        actor,
        "conference.deleted",
        "conference",
        conference_id,
        detail={"title": conference.title},
        remote=remote,
    )
    return None


async def acting_roles(db: AsyncSession, actor: Identity, conference_id: int) -> frozenset[Role]:
    """Roles for lifecycle steps: the roles in the conference, and approver if the user is."""
    held = await conference_roles(db, actor, conference_id)
    if actor.guest is None and Role.APPROVER in actor.roles:
        held |= {Role.APPROVER}
    return held


async def change_status(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    wanted: ConferenceStatus,
    comment: str = "",
    remote: str = "",
) -> Conference:
    """Take one step of the lifecycle (see ``lifecycle``), if it exists and the actor may."""
    conference = await load_conference(db, conference_id, lock=True)
    # Who may act comes first: a refused step must not tell outsiders the current status.
    if not await conference_roles(db, actor, conference_id):
        raise no_part_in(conference_id)
    held = await acting_roles(db, actor, conference_id)
    if not held & lifecycle.ACTORS:
        raise Forbidden(
            N_("your roles in this conference take no step of its lifecycle"), code="wrong_role"
        )
    current = ConferenceStatus(conference.status)
    if not lifecycle.is_allowed(current, wanted):
        raise IllegalTransition(current, wanted)
    needed = lifecycle.who_may(current, wanted)
    if not held & needed:
        names = " or ".join(sorted(r.value for r in needed))
        raise Forbidden(
            N_("only the %(roles)s may move a %(current)s conference to %(wanted)s"),
            code="wrong_role",
            params={"roles": names, "current": current.value, "wanted": wanted.value},
        )
    conference.status = wanted.value
    if wanted == ConferenceStatus.CANCELLED:
        # Every session is cancelled with it: calendars get a CANCEL with a higher SEQUENCE.
        sessions = await db.scalars(
            select(AgendaSession).where(
                AgendaSession.conference_id == conference_id,
                AgendaSession.status != SessionStatus.CANCELLED.value,
            )
        )
        for session in sessions:
            session.status = SessionStatus.CANCELLED.value
            session.sequence += 1
        await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "conference.status_changed",
        "conference",
        conference_id,
        conference_id=conference_id,
        detail={"from": current.value, "to": wanted.value, "comment": comment},
        remote=remote,
    )
    return conference


async def return_for_approval(
    db: AsyncSession, conference_id: int, detail: dict[str, Any], remote: str = ""
) -> Conference:
    """The automatic step (``lifecycle.AUTOMATIC``): an approved or scheduled conference back
    to awaiting approval, recorded in the audit log as the system's, with ``detail`` (why)."""
    conference = await load_conference(db, conference_id, lock=True)
    current = ConferenceStatus(conference.status)
    wanted = ConferenceStatus.AWAITING_APPROVAL
    if wanted not in lifecycle.AUTOMATIC.get(current, frozenset()):
        raise IllegalTransition(current, wanted)
    conference.status = wanted.value
    audit.record(
        db,
        None,
        "conference.status_changed",
        "conference",
        conference_id,
        conference_id=conference_id,
        detail={"from": current.value, "to": wanted.value, "comment": "material change", **detail},
        remote=remote,
    )
    return conference
