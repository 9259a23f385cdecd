"""Each live room's heartbeat, and the honest end of rooms whose process vanished.

The node holding a room writes ``room_heartbeats`` (one row per open room: node, time) every
``INTERVAL`` seconds. The rows are in the database rather than a file in the data directory
because several ``concord serve`` processes, on several machines, share one PostgreSQL
database: every node sees every room's last sign of life there, and none shares a disk.

At start-up, a room whose events still show sites in it (admitted, connected or reconnecting,
with no later ``site.left``/``site.removed`` and no room-closing event) and that is not alive
on any node (its heartbeat is this node's own from before the restart, older than
``STALE_AFTER`` intervals, or absent while its last event is that old too) is closed: each
such site gets ``site.left`` at the crash time (the last heartbeat; the room's last event
where there is none) with data
``{"reason": "server stopped", "unclean": true}``, then the room gets ``room.interrupted``
with the same data, all in one transaction. The closing event ends the room's events, so a
second start-up finds nothing to close. A graceful stop writes the same events at the time
it stops, with ``"unclean": false``.

A node is named by a file in its data directory (``node-id``), so a restarted process knows
that its previous self's rooms are dead however fresh their last beat; rooms of other nodes
are dead only once their beat is stale. Of two nodes closing the same room at once, the one
that deletes its heartbeat row writes the events (on PostgreSQL the other's delete waits for
it and then finds no row).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.roster import RoomEvent
from server.config import Config
from server.db import Database
from server.models import RoomEventRecord, RoomHeartbeat
from server.models.base import utcnow

log = logging.getLogger(__name__)

INTERVAL = 2.0
STALE_AFTER = 3  # intervals without a beat before a room counts as gone
INTERRUPTED = "room.interrupted"
CLOSING = frozenset({"room.ended", INTERRUPTED})
IN_ROOM = frozenset({"lobby.admitted", "site.connected", "site.reconnecting"})
OUT = frozenset({"site.left", "site.removed", "lobby.refused"})
REASON = "server stopped"


def node_of(config: Config) -> str:
    """This node's name: its configured id (a worker of ``concord serve --workers``), or the
    one kept in its data directory."""
    return config.node_id or node_name(config.data_dir)


def node_name(data_dir: Path) -> str:
    """This node's name, kept in the data directory so that a restarted process knows the
    rooms its previous self held (and that they are dead, however fresh their heartbeat)."""
    path = data_dir / "node-id"
    with contextlib.suppress(FileNotFoundError):
        name = path.read_text().strip()
        if name:
            return name
    data_dir.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    path.write_text(name + "\n")
    return name


@dataclass
class OpenRoom:
    """Sites still in a room by its events (site id → time of its last event)."""

    sites: dict[int, dt.datetime] = field(default_factory=dict)
    last: dt.datetime | None = None


async def open_rooms(
    db: AsyncSession, conferences: Iterable[int] | None = None
) -> dict[int, OpenRoom]:
    """Per conference, the sites its room events leave in the room after its last closing
    event (by id, so events stored after a closing event at an earlier time count)."""
    closed = (
        select(
            RoomEventRecord.conference_id.label("conference_id"),
            func.max(RoomEventRecord.id).label("id"),
        )
        .where(RoomEventRecord.type.in_(CLOSING))
        .group_by(RoomEventRecord.conference_id)
        .subquery()
    )
    query = (
        select(
            RoomEventRecord.conference_id,
            RoomEventRecord.at,
            RoomEventRecord.type,
            RoomEventRecord.site_id,
        )
        .outerjoin(closed, closed.c.conference_id == RoomEventRecord.conference_id)
        .where((closed.c.id.is_(None)) | (RoomEventRecord.id > closed.c.id))
        .order_by(RoomEventRecord.conference_id, RoomEventRecord.id)
    )
    if conferences is not None:
        query = query.where(RoomEventRecord.conference_id.in_(list(conferences)))
    rooms: dict[int, OpenRoom] = {}
    for conference_id, at, kind, site_id in await db.execute(query):
        room = rooms.setdefault(conference_id, OpenRoom())
        room.last = at if room.last is None else max(room.last, at)
        if site_id is None:
            continue
        if kind in IN_ROOM:
            room.sites[site_id] = at
        elif kind in OUT:
            room.sites.pop(site_id, None)
        elif site_id in room.sites:
            room.sites[site_id] = max(room.sites[site_id], at)
    return {c: room for c, room in rooms.items() if room.sites}


def close_room(
    db: AsyncSession, conference_id: int, room: OpenRoom, at: dt.datetime, *, unclean: bool
) -> None:
    """``site.left`` for every site still in the room, then ``room.interrupted``; never
    before a site's (or the room's) last event, so every span stays forward in time."""
    data = {"reason": REASON, "unclean": unclean}
    for site_id, since in sorted(room.sites.items()):
        db.add(
            RoomEventRecord(
                conference_id=conference_id,
                at=max(at, since),
                type="site.left",
                site_id=site_id,
                actor="",
                data=data,
            )
        )
    end = max(at, room.last) if room.last is not None else at
    db.add(
        RoomEventRecord(
            conference_id=conference_id, at=end, type=INTERRUPTED, site_id=None, actor="", data=data
        )
    )


class Heartbeat:
    """Owned by the application: ``recover()`` at start-up, then a beat for each room that
    ``live()`` returns every ``interval`` seconds; ``close()`` stops the beat and closes this
    node's rooms cleanly."""

    def __init__(
        self,
        database: Database,
        node: str,
        live: Callable[[], Iterable[int]],
        interval: float = INTERVAL,
    ) -> None:
        self._database = database
        self.node = node
        self._live = live
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._beaten: set[int] = set()
        self._wake = asyncio.Event()

    def room_event(self, conference_id: int, event: RoomEvent) -> None:
        """A room's first event (it has just opened) brings the next beat forward, so that
        another node starting meanwhile does not take it for a room nobody holds."""
        if conference_id not in self._beaten:
            self._wake.set()

    async def room_ending(self, conference_id: int) -> None:
        return None

    async def start(self) -> None:
        try:
            await self.recover()
        except Exception:
            log.exception("could not close the rooms of a stopped process")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="room-heartbeat")

    async def recover(self, now: dt.datetime | None = None) -> list[int]:
        """Close the rooms no node holds any more; returns their conferences."""
        now = now or utcnow()
        stale = dt.timedelta(seconds=self.interval * STALE_AFTER)
        done = []
        async with self._database.session() as db, db.begin():
            beats = {b.conference_id: b for b in await db.scalars(select(RoomHeartbeat))}
            for conference_id, room in (await open_rooms(db)).items():
                beat = beats.get(conference_id)
                if beat is None:
                    if room.last is not None and now - room.last < stale:
                        continue  # opened a moment ago, maybe on a node yet to beat
                    crashed = room.last or now
                elif beat.node != self.node and now - beat.beat_at < stale:
                    continue  # alive on another node
                else:
                    # Claim the row: of two nodes starting together, one closes the room.
                    claimed = await db.execute(
                        delete(RoomHeartbeat).where(
                            RoomHeartbeat.conference_id == conference_id,
                            RoomHeartbeat.node == beat.node,
                            RoomHeartbeat.beat_at == beat.beat_at,
                        )
                    )
                    if getattr(claimed, "rowcount", 1) != 1:
                        continue
                    crashed = beat.beat_at
                log.warning(
                    "conference %s: room left open by a stopped process; %d sites leave at %s",
                    conference_id,
                    len(room.sites),
                    crashed.isoformat(),
                )
                close_room(db, conference_id, room, crashed, unclean=True)
                done.append(conference_id)
            await db.execute(delete(RoomHeartbeat).where(RoomHeartbeat.node == self.node))
        return done

    async def beat(self) -> None:
        live = sorted(set(self._live()))
        self._beaten = set(live)
        if not live:
            return
        now = utcnow()
        async with self._database.session() as db, db.begin():
            await db.execute(
                update(RoomHeartbeat)
                .where(RoomHeartbeat.conference_id.in_(live))
                .values(node=self.node, beat_at=now)
            )
            known = set(
                await db.scalars(
                    select(RoomHeartbeat.conference_id).where(RoomHeartbeat.conference_id.in_(live))
                )
            )
            for conference_id in live:
                if conference_id not in known:
                    db.add(RoomHeartbeat(conference_id=conference_id, node=self.node, beat_at=now))

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:
                log.exception("could not write the rooms' heartbeat")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)

    async def stop(self) -> None:
        """Stop beating, after a last beat: the rooms open now are all in the table."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            await self.beat()
        except Exception:
            log.exception("could not write the rooms' last heartbeat")

    async def close(self) -> None:
        """After the rooms closed: the rooms this node held end cleanly, ``site.left`` and
        ``room.interrupted`` now with ``"unclean": false``."""
        await self.stop()
        now = utcnow()
        try:
            async with self._database.session() as db, db.begin():
                mine = list(
                    await db.scalars(
                        select(RoomHeartbeat.conference_id).where(RoomHeartbeat.node == self.node)
                    )
                )
                if mine:
                    for conference_id, room in (await open_rooms(db, mine)).items():
                        close_room(db, conference_id, room, now, unclean=False)
                    await db.execute(delete(RoomHeartbeat).where(RoomHeartbeat.node == self.node))
        except Exception:
            log.exception("could not close this node's rooms")
