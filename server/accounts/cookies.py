"""Signing a browser in and out: the session cookie, with the attributes the deployment needs."""

from __future__ import annotations

from aiohttp import web

from server.accounts import operations as ops
from server.accounts.sessions import SESSION_COOKIE
from server.keys import CONFIG, DATABASE, PASSWORDS, THROTTLE


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


async def sign_in(request: web.Request, email: str, password: str) -> ops.SignedIn:
    """Check the password (throttled) and open a login session for this request's browser."""
    async with request.app[DATABASE].session() as db, db.begin():
        return await ops.sign_in(
            db,
            request.app[PASSWORDS],
            request.app[THROTTLE],
            email=email,
            password=password,
            remote=request.remote or "",
            user_agent=request.headers.get("User-Agent", ""),
            hours=request.app[CONFIG].session_hours,
        )
