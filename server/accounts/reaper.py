"""Removes expired login sessions and stale login-throttle entries in the background.

Owned by the application (started and closed in ``cleanup_ctx``); ``close()`` cancels the task
and is safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from sqlalchemy import delete

from server.db import Database
from server.models import LoginSession, utcnow

log = logging.getLogger(__name__)


class Prunable(Protocol):
    def prune(self) -> None: ...


class SessionReaper:
    def __init__(
        self, database: Database, *throttles: Prunable, interval_seconds: float = 600.0
    ) -> None:
        self._database = database
        self._throttles = throttles
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="concord-session-reaper")

    async def reap_once(self) -> int:
        """Delete expired sessions now; returns how many were removed."""
        for throttle in self._throttles:
            throttle.prune()
        async with self._database.session() as db, db.begin():
            result = await db.execute(
                delete(LoginSession).where(LoginSession.expires_at <= utcnow())
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                removed = await self.reap_once()
            except Exception:  # keep reaping after a passing database failure
                log.exception("could not remove expired sessions")
            else:
                if removed:
                    log.info("removed %d expired sessions", removed)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
