"""Interpreters of a conference: who works which booth (target language), from which
languages, and in which shift.

An interpreter linked to a user is booked (``bookings``) for the part of each session that
uses their booth and falls in their shift (the whole session when there is no shift), so the
same person cannot be put in two booths at once, in this conference or another. Shift times
are read like session times (``timing``): aware, or wall-clock in ``time_zone`` (default the
conference's).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.conferences.bookings import rebook
from server.conferences.inputs import InterpreterIn, InterpreterUpdate
from server.conferences.operations import editable_conference
from server.conferences.parts import active_user, find_part
from server.conferences.timing import check_zone, field_error, to_utc
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    Conference,
    ConferenceLanguage,
    ConferenceMember,
    InterpreterAssignment,
    Role,
)


async def _interpreter_fields(
    db: AsyncSession,
    conference: Conference,
    assignment: InterpreterAssignment,
    body: InterpreterIn | InterpreterUpdate,
) -> dict[str, Any]:
    """Apply the body to ``assignment``; returns what changed."""
    given = body.model_fields_set
    languages = {
        lang.code: lang
        for lang in await db.scalars(
            select(ConferenceLanguage).where(ConferenceLanguage.conference_id == conference.id)
        )
    }
    changed: dict[str, Any] = {}
    if body.target_language is not None:
        booth = languages.get(body.target_language)
        if booth is None or not booth.is_interpreted:
            booths = sorted(c for c, lang in languages.items() if lang.is_interpreted)
            raise field_error(
                "target_language",
                N_("%(language)s has no booth in this conference (booths: %(booths)s)"),
                "unknown_language",
                language=body.target_language,
                booths=", ".join(booths) or "—",
            )
        changed["target_language"] = body.target_language
    if body.source_languages is not None:
        for index, code in enumerate(body.source_languages):
            if code not in languages:
                raise field_error(
                    f"source_languages.{index}",
                    N_("%(language)s is not a language of this conference"),
                    "unknown_language",
                    language=code,
                )
        changed["source_languages"] = sorted(set(body.source_languages))
    if "user_id" in given:
        if body.user_id is not None:
            user = await active_user(db, body.user_id, "user_id")
            if not body.interpreter_name and not assignment.interpreter_name:
                changed["interpreter_name"] = user.display_name
        changed["user_id"] = body.user_id
    if body.interpreter_name:
        changed["interpreter_name"] = body.interpreter_name
    zone = check_zone(body.time_zone or conference.time_zone)
    for name in ("shift_starts_at", "shift_ends_at"):
        if name in given:
            value = getattr(body, name)
            changed[name] = None if value is None else to_utc(value, zone, name)
    for name, value in changed.items():
        setattr(assignment, name, value)
    if not assignment.interpreter_name:
        raise field_error(
            "interpreter_name", N_("give the interpreter's name or their user_id"), "missing_name"
        )
    start, end = assignment.shift_starts_at, assignment.shift_ends_at
    if (start is None) != (end is None):
        raise field_error(
            "shift_ends_at" if end is None else "shift_starts_at",
            N_("a shift has both a start and an end"),
            "incomplete_shift",
        )
    if start is not None and end is not None:
        if end <= start:
            raise field_error(
                "shift_ends_at", N_("the shift must end after it starts"), "end_before_start"
            )
        if end <= conference.starts_at or start >= conference.ends_at:
            raise field_error(
                "shift_starts_at", N_("the shift is outside the conference"), "outside_conference"
            )
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changed.items()}


async def _ensure_member(db: AsyncSession, conference_id: int, user_id: int | None) -> None:
    """An assigned interpreter has the interpreter's part in the conference (booth page)."""
    if user_id is None:
        return
    exists = await db.scalar(
        select(ConferenceMember.id).where(
            ConferenceMember.conference_id == conference_id,
            ConferenceMember.user_id == user_id,
            ConferenceMember.role == Role.INTERPRETER.value,
        )
    )
    if exists is None:
        db.add(
            ConferenceMember(
                conference_id=conference_id, user_id=user_id, role=Role.INTERPRETER.value
            )
        )


async def create_interpreter(
    db: AsyncSession, actor: Identity, conference_id: int, body: InterpreterIn, remote: str = ""
) -> InterpreterAssignment:
    conference = await editable_conference(db, conference_id)
    assignment = InterpreterAssignment(conference_id=conference_id, interpreter_name="")
    assignment.source_languages = []
    detail = await _interpreter_fields(db, conference, assignment, body)
    db.add(assignment)
    await _ensure_member(db, conference_id, assignment.user_id)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "interpreter.assigned",
        "interpreter_assignment",
        assignment.id,
        conference_id=conference_id,
        detail=detail,
        remote=remote,
    )
    return assignment


async def update_interpreter(
    db: AsyncSession,
    actor: Identity,
    conference_id: int,
    assignment_id: int,
    body: InterpreterUpdate,
    remote: str = "",
) -> InterpreterAssignment:
    conference = await editable_conference(db, conference_id)
    assignment = await find_part(db, InterpreterAssignment, conference_id, assignment_id)
    detail = await _interpreter_fields(db, conference, assignment, body)
    await _ensure_member(db, conference_id, assignment.user_id)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "interpreter.updated",
        "interpreter_assignment",
        assignment.id,
        conference_id=conference_id,
        detail=detail,
        remote=remote,
    )
    return assignment


async def delete_interpreter(
    db: AsyncSession, actor: Identity, conference_id: int, assignment_id: int, remote: str = ""
) -> None:
    await editable_conference(db, conference_id)
    assignment = await find_part(db, InterpreterAssignment, conference_id, assignment_id)
    await db.delete(assignment)
    await rebook(db, conference_id)
    audit.record(
        db,
        actor,
        "interpreter.unassigned",
        "interpreter_assignment",
        assignment_id,
        conference_id=conference_id,
        detail={"name": assignment.interpreter_name, "booth": assignment.target_language},
        remote=remote,
    )
