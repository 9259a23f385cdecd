"""Serving a calendar: ``calendar()`` in a worker thread, with events' bytes reused from the
process's cache and, after a restart, from the database.

``calendar()`` keeps each event's serialised bytes in the app's ``RenderedEvents`` (see
``server.ical.rendered``). That cache is empty after a restart, when a 1,000-session feed
would take icalendar ~0.4 s again; so what is rendered is also stored in
``calendar_renders`` under a digest of the event's value, and the events this process has
not seen are read from there first (one indexed query per 500). Only events never rendered
anywhere are serialised; their bytes are stored after the answer is built. Rows older than
``KEEP`` are deleted, at most once an hour: an event unchanged that long is simply rendered
again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import Database
from server.ical.ics import CalendarEvent, Method, calendar, utc_stamp
from server.ical.rendered import Key, Rendered, RenderedEvents, digest, key_of
from server.models import CalendarRender

log = logging.getLogger(__name__)

#: How long a stored rendering is kept.
KEEP = dt.timedelta(days=120)
BATCH = 500
PRUNE_EVERY = 3600.0


async def render(
    database: Database,
    events: Sequence[CalendarEvent],
    cache: RenderedEvents,
    *,
    method: Method | None = None,
    name: str | None = None,
    refresh_interval: dt.timedelta | None = None,
) -> bytes:
    """The calendar's bytes (see the module docstring)."""
    now = utc_stamp(None)
    keys = {key_of(event, method, now): event for event in events}
    unseen = {digest(key): key for key in keys if key not in cache}
    async with database.session() as db:
        found = await _load(db, unseen, cache)
    write = partial(
        calendar,
        events,
        method=method,
        name=name,
        stamp=now,
        refresh_interval=refresh_interval,
        cache=cache,
    )
    body = await asyncio.get_running_loop().run_in_executor(None, write)
    made = {d: cache.peek(key) for d, key in unseen.items() if d not in found}
    fresh = {d: r for d, r in made.items() if r is not None}
    if fresh:
        try:
            await _store(database, fresh, cache)
        except Exception:  # a cache: the answer stands without it
            log.exception("could not store %d rendered calendar events", len(fresh))
    return body


async def _load(db: AsyncSession, unseen: dict[str, Key], cache: RenderedEvents) -> set[str]:
    """Put the stored renderings of ``unseen`` into ``cache``; the digests found."""
    digests, found = list(unseen), set()
    for start in range(0, len(digests), BATCH):
        chunk = digests[start : start + BATCH]
        rows = await db.execute(
            select(CalendarRender.key, CalendarRender.body, CalendarRender.spans).where(
                CalendarRender.key.in_(chunk)
            )
        )
        for key, body, spans in rows:
            cache.put(unseen[key], Rendered.from_stored(bytes(body), spans))
            found.add(key)
    return found


async def _store(database: Database, fresh: dict[str, Rendered], cache: RenderedEvents) -> None:
    rows = [
        {"key": key, "body": r.body, "spans": r.stored_spans(), "created_at": utc_stamp(None)}
        for key, r in fresh.items()
    ]
    insert = pg_insert if database.dialect == "postgresql" else sqlite_insert
    async with database.session() as db, db.begin():
        for start in range(0, len(rows), BATCH):
            statement = insert(CalendarRender).values(rows[start : start + BATCH])
            await db.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
        if time.monotonic() - cache.pruned_at > PRUNE_EVERY:
            cache.pruned_at = time.monotonic()
            cutoff = dt.datetime.now(dt.UTC) - KEEP
            await db.execute(delete(CalendarRender).where(CalendarRender.created_at < cutoff))
