"""Signing a browser in and out: the session cookie and the device cookie, with the attributes
the deployment needs."""

from __future__ import annotations

from aiohttp import web

from server.accounts import operations as ops
from server.accounts.devices import DEVICE_DAYS, DeviceCookies
from server.accounts.sessions import SESSION_COOKIE
from server.keys import CONFIG, DATABASE, PASSWORDS, SIGNER, THROTTLE
from server.middleware import DEVICE_COOKIE
from server.web import remote


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    config = request.app[CONFIG]
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=config.session_hours * 3600,
        httponly=True,
        samesite="Lax",
        secure=config.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path="/")


def _devices(request: web.Request) -> DeviceCookies:
    return DeviceCookies(request.app[SIGNER], request.app[CONFIG].secret_key)


def set_sign_in_cookies(
    request: web.Request, response: web.StreamResponse, done: ops.SignedIn
) -> None:
    """After a sign-in: the session cookie, and the device cookie that marks this browser as
    one the account signed in from (it outlives the session and sign-out)."""
    set_session_cookie(request, response, done.token)
    device = _devices(request).issue(request.cookies.get(DEVICE_COOKIE), done.user.email)
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.app[CONFIG].secure_cookies,
        path="/",
    )


async def sign_in(request: web.Request, email: str, password: str) -> ops.SignedIn:
    """Check the password (throttled) and open a login session for this request's browser."""
    device = _devices(request).device(request.cookies.get(DEVICE_COOKIE), email)
    async with request.app[DATABASE].session() as db, db.begin():
        return await ops.sign_in(
            db,
            request.app[PASSWORDS],
            request.app[THROTTLE],
            email=email,
            password=password,
            remote=remote(request),
            user_agent=request.headers.get("User-Agent", ""),
            hours=request.app[CONFIG].session_hours,
            device=device,
        )
