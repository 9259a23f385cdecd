"""JSON API for accounts: sign in and out, the caller's profile, API tokens, users (admin)."""

from __future__ import annotations

from aiohttp import web

from server.accounts import operations as ops
from server.accounts.cookies import clear_session_cookie, set_sign_in_cookies
from server.accounts.cookies import sign_in as sign_in_request
from server.accounts.schemas import (
    LoginRequest,
    NewTokenOut,
    PasswordChange,
    ProfileUpdate,
    SessionInfo,
    TemporaryPassword,
    TokenCreate,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from server.identity import Identity
from server.keys import DATABASE, GRANTS, LOCALE, PASSWORDS
from server.models import Role, User
from server.route_table import PUBLIC, SIGNED_IN, USERS, ApiDoc, RouteTable, roles
from server.web import identity, int_param, json_body, json_response, remote


def session_info(who: Identity, locale: str, time_zone: str | None = None) -> SessionInfo:
    return SessionInfo(
        time_zone=time_zone or who.time_zone,
        user_id=who.user_id,
        email=who.email,
        display_name=who.display_name,
        roles=sorted(who.roles),
        locale=locale,
        via=who.via,
        csrf_token=who.csrf_token,
        guest_conference_id=who.guest.conference_id if who.guest else None,
        guest_site_id=who.guest.site_id if who.guest else None,
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(user.role_names),
        locale=user.locale,
        active=user.active,
        must_change_password=user.must_change_password,
        created_at=user.created_at,
    )


async def sign_in(request: web.Request) -> web.Response:
    body = await json_body(request, LoginRequest)
    done = await sign_in_request(request, body.email, body.password)
    who = Identity(
        via="cookie",
        time_zone=done.user.time_zone,
        user_id=done.user.id,
        email=done.user.email,
        display_name=done.user.display_name,
        roles=done.user.role_names,
        session_id=done.session.id,
        csrf_token=done.session.csrf_token,
    )
    response = json_response(session_info(who, done.user.locale), status=201)
    set_sign_in_cookies(request, response, done)
    return response


async def current_session(request: web.Request) -> web.Response:
    return json_response(session_info(identity(request), request[LOCALE]))


async def sign_out(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.sign_out(db, identity(request), remote(request))
    request.app[GRANTS].withdrawn()
    response = web.Response(status=204)
    clear_session_cookie(response)
    return response


async def update_profile(request: web.Request) -> web.Response:
    body = await json_body(request, ProfileUpdate)
    async with request.app[DATABASE].session() as db, db.begin():
        changed = await ops.update_profile(
            db, identity(request), locale=body.locale, time_zone=body.time_zone
        )
    locale = changed.get("locale", request[LOCALE])
    return json_response(session_info(identity(request), locale, changed.get("time_zone")))


async def change_password(request: web.Request) -> web.Response:
    body = await json_body(request, PasswordChange)
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.change_password(
            db,
            request.app[PASSWORDS],
            identity(request),
            current=body.current_password,
            new=body.new_password,
            remote=remote(request),
        )
    request.app[GRANTS].withdrawn()
    return web.Response(status=204)


async def list_tokens(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        rows = await ops.list_api_tokens(db, identity(request))
    return json_response([TokenOut.model_validate(r) for r in rows])


async def create_token(request: web.Request) -> web.Response:
    body = await json_body(request, TokenCreate)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_api_token(db, identity(request), body.name, remote(request))
    out = NewTokenOut.model_validate(
        {**TokenOut.model_validate(made.record).model_dump(), "token": made.token}
    )
    return json_response(out, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    token_id = int_param(request, "token_id")
    async with request.app[DATABASE].session() as db, db.begin():
        row = await ops.revoke_api_token(db, identity(request), token_id, remote(request))
    request.app[GRANTS].withdrawn()
    return json_response(TokenOut.model_validate(row))


async def list_users(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        users = await ops.list_users(db)
    return json_response([user_out(u) for u in users])


async def create_user(request: web.Request) -> web.Response:
    body = await json_body(request, UserCreate)
    async with request.app[DATABASE].session() as db, db.begin():
        user = await ops.create_user(
            db,
            request.app[PASSWORDS],
            identity(request),
            email=body.email,
            roles=body.roles,
            password=body.password,
            display_name=body.display_name,
            locale=body.locale,
            remote=remote(request),
        )
        out = user_out(user)
    return json_response(out, status=201)


async def update_user(request: web.Request) -> web.Response:
    body = await json_body(request, UserUpdate)
    async with request.app[DATABASE].session() as db, db.begin():
        user = await ops.update_user(
            db,
            identity(request),
            int_param(request, "user_id"),
            active=body.active,
            roles=body.roles,
            remote=remote(request),
        )
        out = user_out(user)
    request.app[GRANTS].withdrawn()
    return json_response(out)


async def reset_password(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db, db.begin():
        password = await ops.reset_password(
            db,
            request.app[PASSWORDS],
            identity(request),
            int_param(request, "user_id"),
            remote(request),
        )
    request.app[GRANTS].withdrawn()
    return json_response(TemporaryPassword(temporary_password=password), status=201)


def add_routes(table: RouteTable) -> None:
    tag = "accounts"
    login_doc = ApiDoc(
        "Sign in; sets the session cookie", tag, LoginRequest, SessionInfo, 201, errors=(429,)
    )
    table.post("/api/session", sign_in, PUBLIC, doc=login_doc)
    table.get(
        "/api/session",
        current_session,
        SIGNED_IN,
        doc=ApiDoc("Who is signed in", tag, response=SessionInfo),
    )
    table.delete(
        "/api/session",
        sign_out,
        SIGNED_IN,
        doc=ApiDoc("Sign out (ends this session)", tag, status=204),
    )
    table.patch(
        "/api/me",
        update_profile,
        USERS,
        doc=ApiDoc("Change your own settings", tag, ProfileUpdate, SessionInfo),
    )
    table.post(
        "/api/me/password",
        change_password,
        USERS,
        doc=ApiDoc(
            "Change your own password (your other sessions end)",
            tag,
            PasswordChange,
            status=204,
        ),
    )
    table.get(
        "/api/tokens",
        list_tokens,
        USERS,
        doc=ApiDoc("Your API tokens", tag, response=TokenOut, list_response=True),
    )
    table.post(
        "/api/tokens",
        create_token,
        USERS,
        doc=ApiDoc("Create an API token (shown once)", tag, TokenCreate, NewTokenOut, 201),
    )
    table.delete(
        "/api/tokens/{token_id}",
        revoke_token,
        USERS,
        doc=ApiDoc("Revoke one of your API tokens", tag, response=TokenOut),
    )
    table.get(
        "/api/users",
        list_users,
        roles(Role.ADMIN),
        doc=ApiDoc("All users (admin)", tag, response=UserOut, list_response=True),
    )
    table.post(
        "/api/users",
        create_user,
        roles(Role.ADMIN),
        doc=ApiDoc("Create a user (admin)", tag, UserCreate, UserOut, 201),
    )
    table.patch(
        "/api/users/{user_id}",
        update_user,
        roles(Role.ADMIN),
        doc=ApiDoc("Disable, enable or change roles of a user (admin)", tag, UserUpdate, UserOut),
    )
    table.post(
        "/api/users/{user_id}/password-reset",
        reset_password,
        roles(Role.ADMIN),
        doc=ApiDoc(
            "Give a user a temporary password, shown once; their sessions end (admin)",
            tag,
            response=TemporaryPassword,
            status=201,
        ),
    )
