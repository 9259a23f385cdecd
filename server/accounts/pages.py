"""Browser pages for accounts: sign in and out, the user's own page (language, API tokens)."""

from __future__ import annotations

from aiohttp import web

from server.accounts import operations as ops
from server.accounts.cookies import clear_session_cookie, set_sign_in_cookies, sign_in
from server.accounts.schemas import LoginForm, PasswordChangeForm, ProfileForm, TokenCreate
from server.errors import DomainError, InvalidInput
from server.i18n import LOCALES
from server.i18n_strings import N_
from server.keys import DATABASE, GRANTS, LOCALE, PASSWORDS
from server.middleware import LANG_COOKIE
from server.models import User, utcnow
from server.route_table import PUBLIC, SIGNED_IN, USERS, RouteTable
from server.time_zones import COMMON_ZONES, common_choices, zone_choices, zone_search
from server.web import form_body, identity, int_param, redirect, remote, render, safe_next


async def login_page(request: web.Request) -> web.Response:
    if identity(request).signed_in:
        raise redirect(safe_next(request.query.get("next")))
    context = {"next": safe_next(request.query.get("next")), "email": "", "error": None}
    return render(request, "login.html", context)


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    next_page = safe_next(str(form.get("next", "/")))
    try:
        body = await form_body(request, LoginForm)
        done = await sign_in(request, body.email, body.password)
    except DomainError as error:
        context = {"next": next_page, "email": str(form.get("email", "")), "error": error}
        response = render(request, "login.html", context, status=error.status)
        response.headers.update(error.headers)
        return response
    # A temporary password from an admin's reset is replaced before anything else.
    target = "/account?password=required" if done.user.must_change_password else next_page
    response = redirect(safe_next(target))
    set_sign_in_cookies(request, response, done)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.sign_out(db, identity(request), remote(request))
    request.app[GRANTS].withdrawn()
    response = redirect("/login")
    clear_session_cookie(response)
    raise response


async def _account(
    request: web.Request,
    new_token: str | None = None,
    status: int = 200,
    password_error: DomainError | None = None,
    password_changed: bool = False,
    profile_error: DomainError | None = None,
) -> web.Response:
    async with request.app[DATABASE].session() as db:
        tokens = await ops.list_api_tokens(db, identity(request))
        user = await db.get(User, identity(request).user_id)
    zones = zone_choices(request[LOCALE], utcnow())
    context = {
        "tokens": tokens,
        "new_token": new_token,
        "zones": zones,
        "zone_search_words": zone_search(zones),
        "common_zones": common_choices(zones, COMMON_ZONES),
        "profile_error": profile_error,
        "must_change_password": user is not None and user.must_change_password,
        "password_error": password_error,
        "password_changed": password_changed,
    }
    return render(request, "account.html", context, status)


async def account_page(request: web.Request) -> web.Response:
    return await _account(request)


async def update_profile(request: web.Request) -> web.StreamResponse:
    """The time zone (from the account page, or the proposal every page shows until the user
    chose one): back where the form was, or the account page with the problem named."""
    try:
        body = await form_body(request, ProfileForm)
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.update_profile(
                db, identity(request), locale=body.locale, time_zone=body.time_zone
            )
    except DomainError as error:
        return await _account(request, status=error.status, profile_error=error)
    raise redirect(safe_next(body.next))


async def change_password(request: web.Request) -> web.Response:
    """The account page's password form: errors come back on the page, next to the form."""
    try:
        body = await form_body(request, PasswordChangeForm)
        if body.new_password != body.new_password_again:
            raise InvalidInput(
                N_("the two new passwords are not the same"), code="passwords_differ"
            )
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.change_password(
                db,
                request.app[PASSWORDS],
                identity(request),
                current=body.current_password,
                new=body.new_password,
                remote=remote(request),
            )
    except DomainError as error:
        return await _account(request, status=error.status, password_error=error)
    request.app[GRANTS].withdrawn()
    return await _account(request, password_changed=True)


async def choose_language(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    locale = str(form.get("locale", ""))
    who = identity(request)
    response = redirect(safe_next(str(form.get("next", "/"))))
    if who.user_id is not None:
        async with request.app[DATABASE].session() as db, db.begin():
            await ops.update_profile(db, who, locale=locale)
    elif locale not in LOCALES:
        raise InvalidInput(
            N_("unknown language %(locale)s"),
            code="invalid_locale",
            params={"locale": repr(locale)},
        )
    response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="Lax", httponly=True)
    raise response


async def create_token(request: web.Request) -> web.Response:
    body = await form_body(request, TokenCreate)
    async with request.app[DATABASE].session() as db, db.begin():
        made = await ops.create_api_token(db, identity(request), body.name, remote(request))
    return await _account(request, made.token, 201)


async def revoke_token(request: web.Request) -> web.StreamResponse:
    async with request.app[DATABASE].session() as db, db.begin():
        await ops.revoke_api_token(
            db, identity(request), int_param(request, "token_id"), remote(request)
        )
    request.app[GRANTS].withdrawn()
    raise redirect("/account")


def add_routes(table: RouteTable) -> None:
    table.get("/login", login_page, PUBLIC, name="login")
    table.post("/login", login_submit, PUBLIC)
    table.post("/logout", logout, SIGNED_IN, name="logout")
    table.post("/language", choose_language, PUBLIC, name="language")
    table.get("/account", account_page, USERS, name="account")
    table.post("/account/profile", update_profile, USERS)
    table.post("/account/password", change_password, USERS)
    table.post("/account/tokens", create_token, USERS)
    table.post("/account/tokens/{token_id}/revoke", revoke_token, USERS)
