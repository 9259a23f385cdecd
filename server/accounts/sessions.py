"""Finding the identity behind a request: a bearer API token, or the session cookie."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.secrets import digest
from server.errors import Unauthorized
from server.identity import ANONYMOUS, GuestScope, Identity
from server.models import ApiToken, Invitation, LoginSession, Role, User, utcnow

SESSION_COOKIE = "concord_session"
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def _identity_of(
    user: User, via: str, session: LoginSession | None = None, token: ApiToken | None = None
) -> Identity:
    return Identity(
        via=via,  # type: ignore[arg-type]
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=user.role_names,
        locale=user.locale,
        time_zone=user.time_zone,
        time_zone_chosen=user.time_zone_chosen,
        session_id=session.id if session else None,
        token_id=token.id if token else None,
        csrf_token=session.csrf_token if session else None,
    )


async def identity_from_request(db: AsyncSession, request: web.Request) -> Identity:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(
                "the Authorization header must be 'Bearer <token>'", code="bad_authorization"
            )
        return await _from_api_token(db, token.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return await identity_from_session_token(db, cookie)
    return ANONYMOUS


async def identity_for_socket(db: AsyncSession, environ: dict[str, Any], auth: Any) -> Identity:
    """Who opens a socket.io connection: an API token in ``auth``, else the session cookie."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        try:
            return await _from_api_token(db, auth["token"])
        except Unauthorized:
            return ANONYMOUS
    request: web.Request = environ["aiohttp.request"]
    token = request.cookies.get(SESSION_COOKIE, "")
    return await identity_from_session_token(db, token) if token else ANONYMOUS


async def _from_api_token(db: AsyncSession, token: str) -> Identity:
    row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("this API token is unknown or revoked", code="bad_token")
    user = await db.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("this API token's user is disabled", code="bad_token")
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        row.last_used_at = now
        await db.commit()
    return _identity_of(user, "bearer", token=row)


async def identity_from_session_token(db: AsyncSession, token: str) -> Identity:
    """The identity of a session cookie; anonymous when it is unknown or expired."""
    session = await db.scalar(select(LoginSession).where(LoginSession.token_hash == digest(token)))
    if session is None or session.expires_at <= utcnow():
        return ANONYMOUS
    if session.user_id is not None:
        user = await db.get(User, session.user_id)
        if user is None or not user.active:
            return ANONYMOUS
        return _identity_of(user, "cookie", session)
    invitation = await db.get(Invitation, session.invitation_id)
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= utcnow():
        return ANONYMOUS
    role = Role(invitation.role)
    return Identity(
        via="guest",
        display_name=invitation.label,
        roles=frozenset({role}),
        session_id=session.id,
        csrf_token=session.csrf_token,
        guest=GuestScope(invitation.id, invitation.conference_id, invitation.site_id, role),
    )
