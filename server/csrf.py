"""The CSRF token of a page: what its forms and scripts send back with every write (checked by
``server.middleware.guard``), from the login session, or a pre-session cookie before signing in."""

from __future__ import annotations

import secrets

from aiohttp import web

from server.keys import IDENTITY, PRE_SESSION_CSRF

CSRF_COOKIE = "concord_csrf"  # pre-session token for forms shown before signing in
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(request: web.Request) -> str:
    """The token forms and scripts on this page must send back with every write."""
    who = request.get(IDENTITY)
    if who is not None and who.csrf_token:
        return who.csrf_token
    if PRE_SESSION_CSRF not in request:
        request[PRE_SESSION_CSRF] = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    return request[PRE_SESSION_CSRF]
