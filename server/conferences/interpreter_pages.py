"""The editor's interpreters: assign one to a booth (target language) with their source
languages and an optional shift, change an assignment in place (``?interpreter=ID`` fills the
form with it) or remove it, through ``server.conferences.interpreters``. A double booking (the
same interpreter in two booths at once) comes back as the editor's conflict warning."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import interpreters as ops
from server.conferences.editor_pages import (
    Form,
    Problem,
    local_value,
    text,
    validated,
)
from server.conferences.editor_rows import EditorRows
from server.conferences.inputs import InterpreterIn, InterpreterUpdate
from server.identity import Identity
from server.models import Conference, InterpreterAssignment, Role, User, UserRole
from server.route_table import RouteTable


async def interpreter_users(db: AsyncSession) -> list[User]:
    """Active users holding the interpreter role, for the assignment form."""
    holders = select(UserRole.user_id).where(UserRole.role == Role.INTERPRETER.value)
    rows = await db.scalars(
        select(User).where(User.active.is_(True), User.id.in_(holders)).order_by(User.display_name)
    )
    return list(rows)


def interpreter_data(form: Form) -> dict[str, Any]:
    """The assignment form as the API's body (the same fields for a new one and a change)."""
    return {
        "user_id": text(form, "user_id") or None,
        "interpreter_name": text(form, "interpreter_name"),
        "target_language": text(form, "target_language"),
        "source_languages": [v for v in form.getall("source_languages", []) if isinstance(v, str)],
        "shift_starts_at": text(form, "shift_starts_at") or None,
        "shift_ends_at": text(form, "shift_ends_at") or None,
        "time_zone": text(form, "time_zone") or None,
    }


def interpreter_values(
    row: InterpreterAssignment | None, form: Form | None, conference_zone: str
) -> dict[str, Any]:
    """What the assignment form shows: the posted values again, else the stored ones (the
    shift in the conference's zone)."""
    if form is not None:
        values = interpreter_data(form)
        return {name: "" if value is None else value for name, value in values.items()}
    if row is None:
        return {"source_languages": []}
    return {
        "user_id": str(row.user_id or ""),
        "interpreter_name": row.interpreter_name,
        "target_language": row.target_language,
        "source_languages": list(row.source_languages),
        "shift_starts_at": local_value(row.shift_starts_at, conference_zone),
        "shift_ends_at": local_value(row.shift_ends_at, conference_zone),
        "time_zone": conference_zone,
    }


async def interpreter_context(
    request: web.Request,
    db: AsyncSession,
    found: Conference,
    problem: Problem | None,
    form: Form | None,
) -> dict[str, Any]:
    """The assignment form: ``?interpreter=ID`` (or a refused change of it) edits that one."""
    posted = form if form is not None and problem and problem.form == "interpreter" else None
    raw_id = request.query.get("interpreter") or (text(posted, "assignment_id") if posted else "")
    editing = next((i for i in found.interpreters if str(i.id) == raw_id), None)
    values = interpreter_values(editing, posted, found.time_zone)
    return {
        "interpreter_users": await interpreter_users(db),
        "editing_interpreter": editing,
        "interpreter_values": defaultdict(str, values),
    }


async def _add(db: AsyncSession, who: Identity, conference_id: int, form: Form, ip: str) -> object:
    body = validated(InterpreterIn, interpreter_data(form))
    return await ops.create_interpreter(db, who, conference_id, body, ip)


async def _change(
    db: AsyncSession, who: Identity, conference_id: int, assignment_id: int, form: Form, ip: str
) -> object:
    body = validated(InterpreterUpdate, interpreter_data(form))
    return await ops.update_interpreter(db, who, conference_id, assignment_id, body, ip)


INTERPRETERS = EditorRows(
    "interpreter",
    "/conferences/{conference_id}/interpreters",
    "assignment_id",
    _add,
    _change,
    ops.delete_interpreter,
)


def add_routes(table: RouteTable) -> None:
    INTERPRETERS.add_routes(table)
