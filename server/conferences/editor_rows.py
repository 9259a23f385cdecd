"""The add, change and remove forms of one kind of row in the conference editor (its sites,
interpreters and delegations): each parses the posted form, writes in one transaction through
``editor_pages.editor_write`` (a refusal comes back on the row's step, the form as it was
posted), and returns to the editor. The kinds differ only in how a form becomes a write."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from server.conferences.editor_pages import Form, editor_write
from server.identity import Identity
from server.models import Role
from server.route_table import RouteTable, conference
from server.web import identity, int_param, remote

#: (db, who, conference id, the posted form, the client's address) → the row made
Add = Callable[[AsyncSession, Identity, int, Form, str], Awaitable[object]]
#: (db, who, conference id, row id, the posted form, the client's address) → the row changed
Change = Callable[[AsyncSession, Identity, int, int, Form, str], Awaitable[object]]
#: (db, who, conference id, row id, the client's address)
Remove = Callable[[AsyncSession, Identity, int, int, str], Awaitable[object]]


@dataclass(frozen=True)
class EditorRows:
    """``form``: the editor's form and step; ``path``: the rows' (``.../sites``); ``row_id``:
    the path parameter naming one row (``site_id``)."""

    form: str
    path: str
    row_id: str
    add: Add
    change: Change
    remove: Remove

    def add_routes(self, table: RouteTable) -> None:
        organiser = conference(Role.ORGANISER)
        one = f"{self.path}/{{{self.row_id}}}"
        table.post(self.path, self.add_form, organiser)
        table.post(one, self.change_form, organiser)
        table.post(one + "/remove", self.remove_form, organiser)

    async def add_form(self, request: web.Request) -> web.Response:
        conference_id = int_param(request, "conference_id")
        form = await request.post()

        async def write(db: AsyncSession) -> object:
            return await self.add(db, identity(request), conference_id, form, remote(request))

        return await editor_write(request, conference_id, self.form, form, write)

    async def change_form(self, request: web.Request) -> web.Response:
        conference_id = int_param(request, "conference_id")
        row_id = int_param(request, self.row_id)
        form = await request.post()

        async def write(db: AsyncSession) -> object:
            who, address = identity(request), remote(request)
            return await self.change(db, who, conference_id, row_id, form, address)

        return await editor_write(request, conference_id, self.form, form, write)

    async def remove_form(self, request: web.Request) -> web.Response:
        conference_id = int_param(request, "conference_id")
        row_id = int_param(request, self.row_id)

        async def write(db: AsyncSession) -> object:
            return await self.remove(db, identity(request), conference_id, row_id, remote(request))

        return await editor_write(request, conference_id, self.form, None, write)
