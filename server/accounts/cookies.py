"""Setting and clearing the session cookie with the attributes the deployment calls for."""

from __future__ import annotations

from aiohttp import web

from server.accounts.sessions import SESSION_COOKIE
from server.keys import CONFIG


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
