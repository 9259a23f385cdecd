"""Live connections follow the rights they were opened with.

A socket.io connection is authenticated once, when it opens; what it rests on can be withdrawn
later: an invitation withdrawn or expired, a session signed out or expired, an API token
revoked, an account disabled, a role taken away. ``LiveGrants`` watches every live connection's
grant and ends the connection (through the callback its namespace gave) when the grant is gone.

It checks all watched grants in one batch of four queries, whatever the number of connections:
at once when an operation says it withdrew something (``withdrawn()``), and every ``interval``
seconds otherwise, which also catches expiry and changes made by another node or by hand in
the database. Socket handlers call ``current()`` before acting, so an event that arrives after
a withdrawal but before its check waits for the check instead of slipping through.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import select

from server.db import Database
from server.identity import Identity
from server.models import ApiToken, Invitation, LoginSession, Role, User, UserRole, utcnow

log = logging.getLogger(__name__)

#: Why a connection was ended; stable codes that pages translate (docs/signalling.md).
REASONS = (
    "invitation_withdrawn",
    "site_deleted",
    "invitation_expired",
    "signed_out",
    "session_expired",
    "token_revoked",
    "account_disabled",
    "roles_changed",
)

EndConnection = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Grant:
    """What a connection's identity rests on."""

    user_id: int | None
    session_id: int | None
    token_id: int | None
    invitation_id: int | None
    roles: frozenset[Role]

    @classmethod
    def of(cls, who: Identity) -> Grant:
        return cls(
            user_id=who.user_id,
            session_id=who.session_id,
            token_id=who.token_id,
            invitation_id=who.guest.invitation_id if who.guest else None,
            roles=who.roles if who.guest is None else frozenset(),
        )


@dataclass
class _Watched:
    grant: Grant
    end: EndConnection
    ended: str | None = None


@dataclass(frozen=True)
class _Current:
    """The state of every watched grant, read in one batch."""

    sessions: dict[int, dt.datetime]  # id → expires_at
    tokens: set[int]  # not revoked
    invitations: dict[int, tuple[bool, dt.datetime]]  # id → (revoked, expires_at)
    users: dict[int, tuple[bool, frozenset[Role]]]  # id → (active, roles)

    def reason(self, grant: Grant, now: dt.datetime) -> str | None:
        if grant.invitation_id is not None:
            found = self.invitations.get(grant.invitation_id)
            if found is None:  # the row went with its site (a withdrawn one stays, revoked)
                return "site_deleted"
            if found[0]:
                return "invitation_withdrawn"
            if found[1] <= now:
                return "invitation_expired"
        if grant.session_id is not None:
            expires = self.sessions.get(grant.session_id)
            if expires is None:
                return "signed_out"
            if expires <= now:
                return "session_expired"
        if grant.token_id is not None and grant.token_id not in self.tokens:
            return "token_revoked"
        if grant.user_id is not None:
            user = self.users.get(grant.user_id)
            if user is None or not user[0]:
                return "account_disabled"
            if grant.roles - user[1]:
                return "roles_changed"
        return None


class LiveGrants:
    """Every live connection's grant, checked again while the connection lives.

    Owned by the application: ``start()`` in its cleanup context, ``close()`` (safe twice)
    cancels the checking task.
    """

    def __init__(self, database: Callable[[], Database], interval: float = 1.0) -> None:
        self._database = database
        self._interval = interval
        self._watched: dict[Hashable, _Watched] = {}
        self._requested = 0  # withdrawals announced
        self._done = 0  # withdrawals whose check has finished
        self._checked = asyncio.Condition()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._watched)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="concord-live-grants")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        async with self._checked:
            self._checked.notify_all()  # nobody waits for a check that will not come

    def watch(self, key: Hashable, who: Identity, end: EndConnection) -> None:
        """Follow a connection opened by ``who``; ``end(reason)`` closes it."""
        self._watched[key] = _Watched(Grant.of(who), end)

    def forget(self, key: Hashable) -> None:
        self._watched.pop(key, None)

    def ended(self, key: Hashable) -> str | None:
        """Why this connection's grant is gone, or None while it holds."""
        watched = self._watched.get(key)
        return watched.ended if watched else None

    def withdrawn(self) -> None:
        """An operation withdrew a grant (committed): check every connection now."""
        self._requested += 1
        self._wake.set()

    async def current(self) -> None:
        """Return once every withdrawal announced so far has been checked."""
        wanted = self._requested
        if self._done >= wanted or self._task is None:
            return
        async with self._checked:
            await self._checked.wait_for(lambda: self._done >= wanted or self._task is None)

    async def check(self) -> int:
        """Check every watched grant now and end the connections whose grant is gone;
        returns how many were ended."""
        live = {key: w for key, w in self._watched.items() if w.ended is None}
        if not live:
            return 0
        current = await self._read([w.grant for w in live.values()])
        now = utcnow()
        ending: list[tuple[_Watched, str]] = []
        for watched in live.values():
            reason = current.reason(watched.grant, now)
            if reason is not None:
                watched.ended = reason
                ending.append((watched, reason))
        for watched, reason in ending:
            try:
                await watched.end(reason)
            except Exception:
                log.exception("could not end a connection (%s)", reason)
        return len(ending)

    async def _read(self, grants: list[Grant]) -> _Current:
        sessions = {g.session_id for g in grants if g.session_id is not None}
        tokens = {g.token_id for g in grants if g.token_id is not None}
        invitations = {g.invitation_id for g in grants if g.invitation_id is not None}
        users = {g.user_id for g in grants if g.user_id is not None}
        async with self._database().session() as db:
            found_sessions: dict[int, dt.datetime] = {}
            if sessions:
                rows = await db.execute(
                    select(LoginSession.id, LoginSession.expires_at).where(
                        LoginSession.id.in_(sessions)
                    )
                )
                found_sessions = {row.id: row.expires_at for row in rows}
            found_tokens: set[int] = set()
            if tokens:
                found_tokens = set(
                    await db.scalars(
                        select(ApiToken.id).where(
                            ApiToken.id.in_(tokens), ApiToken.revoked_at.is_(None)
                        )
                    )
                )
            found_invitations: dict[int, tuple[bool, dt.datetime]] = {}
            if invitations:
                rows = await db.execute(
                    select(Invitation.id, Invitation.revoked_at, Invitation.expires_at).where(
                        Invitation.id.in_(invitations)
                    )
                )
                found_invitations = {
                    row.id: (row.revoked_at is not None, row.expires_at) for row in rows
                }
            found_users: dict[int, tuple[bool, frozenset[Role]]] = {}
            if users:
                active = await db.execute(select(User.id, User.active).where(User.id.in_(users)))
                held: dict[int, set[Role]] = {}
                for row in await db.execute(
                    select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(users))
                ):
                    held.setdefault(row.user_id, set()).add(Role(row.role))
                found_users = {
                    row.id: (bool(row.active), frozenset(held.get(row.id, ()))) for row in active
                }
        return _Current(found_sessions, found_tokens, found_invitations, found_users)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            requested = self._requested
            try:
                await self.check()
            except Exception:  # keep watching after a passing database failure
                log.exception("could not check live connections' grants")
            self._done = requested
            async with self._checked:
                self._checked.notify_all()
