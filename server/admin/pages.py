"""The admin's user list: create users, change roles, disable, give a temporary password."""

from __future__ import annotations

from aiohttp import web

from server.accounts import operations as ops
from server.accounts.schemas import UserForm
from server.errors import DomainError, InvalidInput
from server.i18n_strings import N_
from server.keys import DATABASE, GRANTS, PASSWORDS
from server.models import Role, User
from server.route_table import RouteTable, roles
from server.web import form_body, identity, int_param, remote, render


async def _page(
    request: web.Request,
    error: DomainError | None = None,
    created: str | None = None,
    status: int = 200,
    temporary: tuple[str, str] | None = None,
) -> web.Response:
    """``temporary``: (e-mail, password) of a reset just made, shown this once."""
    async with request.app[DATABASE].session() as db:
        users = await ops.list_users(db)
    context = {
        "users": users,
        "all_roles": list(Role),
        "error": error,
        "created": created,
        "temporary": temporary,
    }
    return render(request, "admin_users.html", context, status)


async def users_page(request: web.Request) -> web.Response:
    return await _page(request)


async def create_user(request: web.Request) -> web.Response:
    try:
        body = await form_body(request, UserForm)
        async with request.app[DATABASE].session() as db, db.begin():
            user = await ops.create_user(
                db,
                request.app[PASSWORDS],
                identity(request),
                email=body.email,
                roles=[body.role],
                password=body.password,
                display_name=body.display_name,
                remote=remote(request),
            )
            email = user.email
    except DomainError as error:
        return await _page(request, error=error, status=error.status)
    return await _page(request, created=email, status=201)


async def change_user(request: web.Request) -> web.Response:
    """The row's form: the roles ticked and whether the account is active. Saving ends the
    user's live connections that the change no longer allows (``server.accounts.grants``)."""
    form = await request.post()
    try:
        wanted = [Role(value) for value in form.getall("roles", []) if isinstance(value, str)]
    except ValueError:
        return await _page(
            request, error=InvalidInput(N_("unknown role"), code="bad_role"), status=422
        )
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.update_user(
                db,
                identity(request),
                int_param(request, "user_id"),
                active=form.get("active") == "on",
                roles=wanted,
                remote=remote(request),
            )
    except DomainError as error:
        return await _page(request, error=error, status=error.status)
    request.app[GRANTS].withdrawn()
    return await _page(request)


async def reset_password(request: web.Request) -> web.Response:
    try:
        async with request.app[DATABASE].session() as db, db.begin():
            user_id = int_param(request, "user_id")
            password = await ops.reset_password(
                db, request.app[PASSWORDS], identity(request), user_id, remote(request)
            )
            user = await db.get(User, user_id)
            email = user.email if user is not None else ""
    except DomainError as error:
        return await _page(request, error=error, status=error.status)
    request.app[GRANTS].withdrawn()
    return await _page(request, temporary=(email, password), status=201)


def add_routes(table: RouteTable) -> None:
    table.get("/admin/users", users_page, roles(Role.ADMIN), name="admin_users")
    table.post("/admin/users", create_user, roles(Role.ADMIN))
    table.post("/admin/users/{user_id}", change_user, roles(Role.ADMIN))
    table.post("/admin/users/{user_id}/password-reset", reset_password, roles(Role.ADMIN))
