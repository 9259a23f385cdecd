"""One calendar send per conference at a time, on any node: a lock held in the database.

A send plans, mails and records under the lock, so two organisers pressing "Send" at once do
not mail the same invitations twice: the second send waits, then its plan sees what the first
recorded. The lock is a row of ``calendar_send_locks`` whose primary key is the conference, so
the database itself refuses a second holder, whichever node it comes from (an in-process lock
only served one node). Within one node an ``asyncio.Lock`` queues the sends first, so they do
not poll the database for each other.

A send that waits more than ``WAIT`` seconds is refused (409, ``send_in_progress``) rather than
kept hanging. A lock older than ``STALE`` seconds was left by a process that died mid-send, and
the next send takes it over (a send of a few hundred letters takes seconds, not minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from server.db import Database
from server.errors import Conflict
from server.i18n_strings import N_
from server.models import CalendarSendLock
from server.models.base import utcnow

WAIT = 60.0
"""Seconds a send waits for another's to end before it is refused."""
STALE = 600.0
"""Seconds after which a lock counts as left by a process that died."""
POLL = 0.2
"""Seconds between two attempts to take a lock another node holds."""


class SendLocks:
    """Owned by the app (``SEND_LOCKS``); ``holding(conference_id)`` is the lock."""

    def __init__(self, database: Callable[[], Database], *, wait: float = WAIT) -> None:
        self._database = database
        self._wait = wait
        self.holder = uuid.uuid4().hex  # this process (app), as the rows name it
        self._locks: dict[int, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def holding(self, conference_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(conference_id, asyncio.Lock())
        try:
            async with lock:
                await self._take(conference_id)
                try:
                    yield
                finally:
                    await self._release(conference_id)
        finally:
            if not lock.locked() and self._locks.get(conference_id) is lock:
                del self._locks[conference_id]

    async def _take(self, conference_id: int) -> None:
        deadline = asyncio.get_running_loop().time() + self._wait
        while True:
            try:
                async with self._database().session() as db, db.begin():
                    db.add(CalendarSendLock(conference_id=conference_id, holder=self.holder))
                return
            except IntegrityError:
                pass  # another node is sending for this conference (or died doing so)
            if await self._take_over_stale(conference_id):
                continue  # a dead holder's lock is gone: try again now, whatever the time
            if asyncio.get_running_loop().time() >= deadline:
                raise Conflict(
                    N_("another send of these invitations is going on; try again in a minute"),
                    code="send_in_progress",
                )
            await asyncio.sleep(POLL)

    async def _take_over_stale(self, conference_id: int) -> bool:
        """Remove the conference's lock if it is older than ``STALE``; say whether it was."""
        stale = utcnow() - dt.timedelta(seconds=STALE)
        async with self._database().session() as db, db.begin():
            removed = await db.execute(
                delete(CalendarSendLock).where(
                    CalendarSendLock.conference_id == conference_id,
                    CalendarSendLock.taken_at < stale,
                )
            )
        return bool(getattr(removed, "rowcount", 0))

    async def _release(self, conference_id: int) -> None:
        async with self._database().session() as db, db.begin():
            await db.execute(
                delete(CalendarSendLock).where(
                    CalendarSendLock.conference_id == conference_id,
                    CalendarSendLock.holder == self.holder,
                )
            )
