"""The editor's interpreters: assign one to a booth (target language) with their source
languages and an optional shift, or remove the assignment, through
``server.conferences.interpreters``. A double booking (the same interpreter in two booths at
once) comes back as the editor's conflict warning."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences import interpreters as ops
from server.conferences.editor_pages import editor_write, text, validated
from server.conferences.inputs import InterpreterIn
from server.models import Role, User, UserRole
from server.routing import RouteTable, conference
from server.web import identity, int_param, remote


async def interpreter_users(db: AsyncSession) -> list[User]:
    """Active users holding the interpreter role, for the assignment form."""
    holders = select(UserRole.user_id).where(UserRole.role == Role.INTERPRETER.value)
    rows = await db.scalars(
        select(User).where(User.active.is_(True), User.id.in_(holders)).order_by(User.display_name)
    )
    return list(rows)


def interpreter_data(form: Any) -> dict[str, Any]:
    return {
        "user_id": text(form, "user_id") or None,
        "interpreter_name": text(form, "interpreter_name"),
        "target_language": text(form, "target_language"),
        "source_languages": [v for v in form.getall("source_languages", []) if isinstance(v, str)],
        "shift_starts_at": text(form, "shift_starts_at") or None,
        "shift_ends_at": text(form, "shift_ends_at") or None,
        "time_zone": text(form, "time_zone") or None,
    }


async def add_interpreter(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    form = await request.post()

    async def write(db: AsyncSession) -> object:
        body = validated(InterpreterIn, interpreter_data(form))
        return await ops.create_interpreter(
            db, identity(request), conference_id, body, remote(request)
        )

    return await editor_write(request, conference_id, "interpreter", form, write)


async def remove_interpreter(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    assignment_id = int_param(request, "assignment_id")

    async def write(db: AsyncSession) -> object:
        await ops.delete_interpreter(
            db, identity(request), conference_id, assignment_id, remote(request)
        )
        return None

    return await editor_write(request, conference_id, "interpreter", None, write)


def add_routes(table: RouteTable) -> None:
    organiser = conference(Role.ORGANISER)
    many = "/conferences/{conference_id}/interpreters"
    table.post(many, add_interpreter, organiser)
    table.post(many + "/{assignment_id}/remove", remove_interpreter, organiser)
