"""The live rooms of this node: one ``BridgeRoom`` per conference, created on first use.

Room events are queued, stored in ``room_events`` (the minutes read them later) and pushed to
the room's clients by one pump task, so the order clients and the database see is the order
the room produced. Owned by the application: ``close()`` ends every room and the pump.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rooms.booths import BoothInfo
from rooms.floor import Order
from rooms.health import Thresholds
from rooms.monitor import HealthReport
from rooms.peer_id import PeerId, site_number
from rooms.room import BridgeRoom
from rooms.room_state import REOPENED, capture, restore
from rooms.roster import RoomEvent, SiteInfo
from server.conferences.lifecycle import ROOM_CLOSED
from server.db import Database
from server.events import StatusChanged
from server.live.sent import MediaSending, RoomState, room_state
from server.live.site_checks import last_checks
from server.live.store import DatabaseRoomStore, RoomStore
from server.models import (
    ConferenceLanguage,
    ConferenceStatus,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    RoomEventRecord,
    Site,
    SiteCheck,
)
from server.sent import Sent

log = logging.getLogger(__name__)

Publish = Callable[[int, RoomEvent, RoomState], Awaitable[None]]
#: Sends one payload to one site's connections: (conference, site, payload).
TellSite = Callable[[int, int, Sent], Coroutine[Any, Any, None]]
NO_DELEGATION_PRECEDENCE = 1000


class RoomWatcher(Protocol):
    """Follows every room of this node (the recorder): each event as the room reports it
    (a room reopened from its kept state first reports ``room.reopened``), and a room's end
    before it closes."""

    def room_event(self, conference_id: int, event: RoomEvent) -> None: ...

    async def room_ending(self, conference_id: int) -> None: ...


def room_key(conference_id: int) -> str:
    return f"conference-{conference_id}"


async def close_if_ended(rooms: LiveRooms, event: StatusChanged) -> None:
    """A conference that ended or was cancelled closes its room (on the node that holds it:
    in a cluster the event reaches every node, ``server.cluster.event_relay``)."""
    if ConferenceStatus(event.status) in ROOM_CLOSED:
        await rooms.end(event.conference_id, event.actor)


def _check_state(found: SiteCheck | None) -> str | None:
    return None if found is None else "passed" if found.passed else "failed"


def note_check(rooms: LiveRooms, conference_id: int, check: SiteCheck) -> None:
    """A site finished a check while its conference's room is open: its flag follows."""
    room = rooms.get(conference_id)
    state = room.sites.get(str(check.site_id)) if room else None
    if state is not None:
        state.info = replace(state.info, check=_check_state(check))


class RoomElsewhere(Exception):
    """The room is held by another node (``url``: where its clients must go), or is between
    nodes (``url`` None: its holder died a moment ago; the lease runs out within seconds)."""

    def __init__(self, conference_id: int, node: str, url: str | None) -> None:
        where = f"node {node} ({url})" if url else f"node {node}, which no longer answers"
        super().__init__(f"the room of conference {conference_id} is held by {where}")
        self.conference_id, self.node, self.url = conference_id, node, url


class Placement(Protocol):
    """Where rooms are held in a cluster (``server.cluster.placement.RoomLeases``)."""

    async def claim(self, conference_id: int) -> None:
        """Hold the room from now on, or raise ``RoomElsewhere``."""
        ...

    async def release(self, conference_id: int) -> None: ...

    def node_urls(self) -> list[str]:
        """The public URLs of the cluster's live nodes: where a client goes back to when the
        node it is on stops answering."""
        ...


class LiveRooms:
    def __init__(
        self,
        database: Database,
        ice_addresses: list[str],
        publish: Publish,
        floor_order: Order = "precedence",
        on_health: Callable[[int, HealthReport], None] | None = None,
        thresholds: Thresholds | None = None,
        store: RoomStore | None = None,
        tell_site: TellSite | None = None,
    ) -> None:
        self._database = database
        self._tell_site = tell_site
        self._telling: set[asyncio.Task[None]] = set()
        self._state = store or DatabaseRoomStore(database)
        self._saved: dict[int, dict[str, Any]] = {}  # the state last written, per room
        self._keeping = True
        self._floor_order: Order = floor_order
        self._ice_addresses = ice_addresses
        self._publish = publish
        self._on_health = on_health
        self._thresholds = thresholds
        self._rooms: dict[int, BridgeRoom] = {}
        self._creating: dict[int, asyncio.Lock] = {}
        self._queue: asyncio.Queue[tuple[int, RoomEvent, str]] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._watchers: list[RoomWatcher] = []
        self._placement: Placement | None = None
        self._closed = False

    def place_with(self, placement: Placement | None) -> None:
        """In a cluster: claim each room before opening it here (a room another node holds is
        not opened a second time: ``claim`` raises), and give it up when it ends."""
        self._placement = placement

    def node_urls(self) -> list[str]:
        """The cluster's live nodes (``Placement.node_urls``); none on a single node."""
        return self._placement.node_urls() if self._placement is not None else []

    def start(self) -> None:
        if self._pump is None:
            self._pump = asyncio.create_task(self._run(), name="live-room-events")

    def watch(self, watcher: RoomWatcher) -> None:
        self._watchers.append(watcher)

    def get(self, conference_id: int) -> BridgeRoom | None:
        return self._rooms.get(conference_id)

    def live(self) -> dict[int, BridgeRoom]:
        """The rooms open on this node, by conference (a copy)."""
        return dict(self._rooms)

    async def room(self, conference_id: int) -> BridgeRoom:
        """The conference's room, created from its sites and delegations on first use."""
        existing = self._rooms.get(conference_id)
        if existing is not None:
            return existing
        lock = self._creating.setdefault(conference_id, asyncio.Lock())
        async with lock:
            existing = self._rooms.get(conference_id)
            if existing is not None:
                return existing
            if self._placement is not None:
                await self._placement.claim(conference_id)
            sites = await self._sites(conference_id)
            booths = await self._booths(conference_id)

            def on_event(event: RoomEvent) -> None:
                self._queue.put_nowait((conference_id, event, ""))
                for watcher in self._watchers:
                    watcher.room_event(conference_id, event)

            def on_health(report: HealthReport) -> None:
                if self._on_health is not None:
                    self._on_health(conference_id, report)

            def on_publishing(site_id: str, paused: frozenset[str]) -> None:
                self._tell(conference_id, site_id, MediaSending(paused=sorted(paused)))

            room = BridgeRoom(
                room_key(conference_id),
                sites,
                ice_addresses=self._ice_addresses,
                on_event=on_event,
                booths=booths,
                on_health=on_health,
                health=self._thresholds,
                floor_order=self._floor_order,
                on_publishing=on_publishing,
            )
            kept = await self._state.load(conference_id)
            if kept is not None:  # a restarted process: the room as its people left it
                restore(room, kept)
                self._saved[conference_id] = kept
                reopened = RoomEvent(REOPENED, room.floor.holder, {"locked": room.locked})
                self._queue.put_nowait((conference_id, reopened, ""))
            room.start()
            self._rooms[conference_id] = room
            if kept is not None:
                for watcher in self._watchers:
                    watcher.room_event(conference_id, reopened)
            return room

    def _tell(self, conference_id: int, site_id: str, payload: Sent) -> None:
        number = site_number(site_id)
        if self._tell_site is None or number is None or self._closed:
            return
        task = asyncio.create_task(self._tell_site(conference_id, number, payload))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def kept(self, conference_id: int) -> bool:
        """Whether the conference's room has a kept state: a restarted process reopens it."""
        return await self._state.load(conference_id) is not None

    async def end(self, conference_id: int, actor: str = "") -> bool:
        """The conference ended (or was cancelled): its room closes, every connection with it.
        Its last event, ``room.ended``, still reaches the clients and the database."""
        room = self._rooms.get(conference_id)
        if room is None:
            return False
        for watcher in self._watchers:
            await watcher.room_ending(conference_id)
        event = RoomEvent("room.ended")
        await self._store(conference_id, event, actor)
        await self._publish(conference_id, event, room_state(conference_id, room.snapshot()))
        del self._rooms[conference_id]
        self._saved.pop(conference_id, None)
        await self._state.drop(conference_id)  # ended: nothing to reopen
        await room.close()
        if self._placement is not None:
            await self._placement.release(conference_id)
        return True

    async def keep_state_as_it_is(self) -> None:
        """The process is stopping: write what is queued, then keep the rooms' state as it
        is now, so that connections dropped by the stop (an interpreter going off air) do not
        change what the restarted process reopens."""
        await self.settled()
        self._keeping = False

    async def settled(self, limit: float = 2.0) -> None:
        """Wait until every event queued so far is stored with the state it left, so that
        what a client is told was done survives a crash (bounded: an answer is never held
        longer than ``limit``)."""
        if self._pump is None or self._pump.done():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), limit)

    async def refresh(self, conference_id: int) -> list[int]:
        """The conference's roster changed: an open room takes its sites and booths as they
        are now. Returns the sites it no longer has (their connections are to be ended)."""
        room = self._rooms.get(conference_id)
        if room is None:
            return []
        sites = await self._sites(conference_id)
        booths = await self._booths(conference_id)
        if self._rooms.get(conference_id) is not room:  # ended meanwhile
            return []
        return [int(site_id) for site_id in await room.update_roster(sites, booths)]

    def record(self, conference_id: int, event: RoomEvent, actor: str) -> None:
        """Store an event the control plane adds (who admitted, who chatted...)."""
        self._queue.put_nowait((conference_id, event, actor))

    async def _sites(self, conference_id: int) -> dict[str, SiteInfo]:
        async with self._database.session() as db:
            sites = list(await db.scalars(select(Site).where(Site.conference_id == conference_id)))
            delegations = list(
                await db.scalars(
                    select(Delegation).where(Delegation.conference_id == conference_id)
                )
            )
            members = list(
                await db.scalars(
                    select(DelegationMember)
                    .join(Delegation)
                    .where(
                        Delegation.conference_id == conference_id, DelegationMember.language != ""
                    )
                    .order_by(DelegationMember.role != "head", DelegationMember.precedence)
                )
            )
            checks = await last_checks(db, conference_id)
        precedence = {d.site_id: d.precedence for d in delegations if d.site_id is not None}
        # A site speaks its delegation head's registered language (or its first member's).
        site_of = {d.id: d.site_id for d in delegations}
        language: dict[int, str] = {}
        for member in members:
            site_id = site_of.get(member.delegation_id)
            if site_id is not None:
                language.setdefault(site_id, member.language)
        return {
            str(site.id): SiteInfo(
                name=site.name,
                precedence=0
                if site.is_main_hall
                else precedence.get(site.id, NO_DELEGATION_PRECEDENCE),
                main_hall=site.is_main_hall,
                language=language.get(site.id),
                check=_check_state(checks.get(site.id)),
            )
            for site in sites
        }

    async def _booths(self, conference_id: int) -> dict[str, BoothInfo]:
        """One booth per target language, staffed by its assigned interpreters (at most 3)."""
        async with self._database.session() as db:
            rows = list(
                await db.scalars(
                    select(InterpreterAssignment)
                    .where(
                        InterpreterAssignment.conference_id == conference_id,
                        InterpreterAssignment.user_id.is_not(None),
                    )
                    .order_by(InterpreterAssignment.id)
                )
            )
            signed = set(
                await db.scalars(
                    select(ConferenceLanguage.code).where(
                        ConferenceLanguage.conference_id == conference_id,
                        ConferenceLanguage.is_sign_language,
                    )
                )
            )
        staff: dict[str, dict[str, str]] = {}  # language → interpreter id → name
        sources: dict[str, set[str]] = {}
        for row in rows:
            names = staff.setdefault(row.target_language, {})
            if len(names) < 3:
                names.setdefault(PeerId.interpreter(row.user_id), row.interpreter_name)
            sources.setdefault(row.target_language, set()).update(row.source_languages)
        return {
            language: BoothInfo(
                language,
                frozenset(sources[language]),
                tuple(names),
                video=language in signed,
                names=tuple(names.values()),
            )
            for language, names in staff.items()
        }

    async def _run(self) -> None:
        while True:
            conference_id, event, actor = await self._queue.get()
            try:
                await self._handle(conference_id, event, actor)
            finally:
                self._queue.task_done()  # close() waits for the queue to drain

    async def _handle(self, conference_id: int, event: RoomEvent, actor: str) -> None:
        try:
            await self._store(conference_id, event, actor)
        except Exception:
            log.exception("could not store room event %s", event.type)
        room = self._rooms.get(conference_id)
        if room is None:
            return
        state = capture(room)
        if self._keeping and self._saved.get(conference_id) != state:
            try:
                await self._state.save(conference_id, state)
                self._saved[conference_id] = state
            except Exception:
                log.exception("could not keep room %d's state", conference_id)
        try:
            await self._publish(conference_id, event, room_state(conference_id, room.snapshot()))
        except Exception:
            log.exception("could not publish room event %s", event.type)

    async def _store(self, conference_id: int, event: RoomEvent, actor: str) -> None:
        site_id = site_number(event.site_id)
        data = event.data
        for attempt in (1, 2):
            try:
                async with self._database.session() as db, db.begin():
                    db.add(
                        RoomEventRecord(
                            conference_id=conference_id,
                            at=event.at,
                            type=event.type,
                            site_id=site_id,
                            actor=actor,
                            data=data,
                        )
                    )
                return
            except IntegrityError:
                if attempt == 2 or site_id is None:
                    raise
                # The site was deleted from the plan (site.deleted, and the floor turn its
                # deletion ended): kept as the rows of a deleted site are, with no site.
                data = {**data, "deleted_site_id": site_id}
                site_id = None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._telling):
            task.cancel()
        for room in list(self._rooms.values()):
            await room.close()
        self._rooms.clear()
        # Let queued events reach the database before stopping the pump.
        if self._pump is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._queue.join(), 2.0)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
