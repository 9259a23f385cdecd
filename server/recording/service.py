"""``RoomRecordings``: the recordings of this node's rooms (one per app, in ``cleanup_ctx``).

- Started by the chair (``recording.start``), or automatically when the room is open during
  an agenda session (when the room opens inside one, or when one begins while it is open);
  stopped by the chair, when an automatically started recording's session ends with no other
  session going on, when the room ends, and when the app shuts down.
- Every change reaches the room's members as ``recording.state``.
- At start-up, recordings a killed process left "recording" are closed as "interrupted" from
  what is on disk (``operations.read_back``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from recordings.tree_head import TreeHeadSigner
from rooms.roster import RoomEvent
from server.accounts.identity import Identity
from server.conferences.queries import occurrences_between
from server.conferences.series import Occurrence
from server.db import Database
from server.errors import Conflict
from server.live.members import conference_room
from server.live.registry import LiveRooms
from server.models import SessionStatus, utcnow
from server.recording import operations
from server.recording.recorder import RoomRecorder

log = logging.getLogger(__name__)

Emit = Callable[[str, Any, str], Awaitable[None]]
Current = tuple[tuple[int, dt.datetime], dict[str, Any]]
SCHEDULE_EVERY = 2.0
"""Seconds between looks at the agenda of the open rooms."""


class RoomRecordings:
    def __init__(
        self,
        database: Database,
        rooms: LiveRooms,
        signer: TreeHeadSigner,
        data_dir: Path,
        emit: Emit,
        *,
        schedule_every: float = SCHEDULE_EVERY,
    ) -> None:
        self._database = database
        self._rooms = rooms
        self._signer = signer
        self._data_dir = data_dir
        self._emit = emit
        self._schedule_every = schedule_every
        self._active: dict[int, RoomRecorder] = {}
        self._auto: dict[int, bool] = {}  # conference → started with the agenda
        self._current: dict[int, Current | None] = {}  # the session going on
        self._seen: set[tuple[int, int, dt.datetime]] = set()  # sessions already auto-started
        self._locks: dict[int, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None
        self._recovered = False
        self._closed = False

    async def start(self) -> None:
        """Recover what a killed process left, watch the rooms, follow the agenda. A database
        that does not answer yet does not stop the app: recovery is tried again later."""
        try:
            await self.recover()
            self._recovered = True
        except Exception:
            log.exception("could not recover interrupted recordings; will try again")
        self._rooms.watch(self)
        if self._task is None:
            self._task = asyncio.create_task(self._schedule(), name="recording-schedule")

    # --- state ---------------------------------------------------------------------------------

    def state(self, conference_id: int) -> dict[str, Any]:
        """``recording.state`` as docs/signalling.md describes it."""
        active = self._active.get(conference_id)
        return {
            "recording": active is not None,
            "since": active.started_at.isoformat() if active else None,
            "id": active.recording_id if active else None,
            "server_time": time.time(),
        }

    def active(self, conference_id: int) -> RoomRecorder | None:
        return self._active.get(conference_id)

    def mark(self, conference_id: int, kind: str, **data: Any) -> bool:
        """A timeline mark ("signing", "note"...) on the room's recording, if one is running."""
        recorder = self._active.get(conference_id)
        if recorder is not None:
            recorder.mark(kind, **data)
        return recorder is not None

    # --- start and stop ------------------------------------------------------------------------

    async def begin(
        self, conference_id: int, by: str, actor: Identity | None = None, *, auto: bool = False
    ) -> int:
        """Start recording the conference's open room; its recording's id."""
        async with self._lock(conference_id):
            if self._closed:
                raise Conflict("the server is shutting down", code="shutting_down")
            room = self._rooms.get(conference_id)
            if room is None:
                raise Conflict("the room is not open", code="room_not_open")
            if conference_id in self._active:
                raise Conflict("the room is already being recorded", code="already_recording")
            started_at = utcnow()
            async with self._database.session() as db, db.begin():
                row = await operations.begin(db, conference_id, by, started_at)
                if actor is not None:
                    row.started_by = actor.actor
                recording_id, directory = row.id, row.directory
            recorder = RoomRecorder(room, recording_id, self._data_dir / directory, started_at)
            try:
                recorder.start()
            except Exception:
                await self._store(recorder, "interrupted", "error", None)
                raise
            self._active[conference_id] = recorder
            self._auto[conference_id] = auto
            current = self._current.get(conference_id)
            if current is not None:
                recorder.mark("agenda", action="start", **current[1])
        await self._announce(conference_id)
        return recording_id

    async def end(self, conference_id: int, by: str, actor: Identity | None = None) -> int | None:
        """Stop the conference's recording (if any): files stored, hashed, in the ledger."""
        async with self._lock(conference_id):
            recorder = self._active.pop(conference_id, None)
            self._auto.pop(conference_id, None)
            if recorder is None:
                return None
            try:
                await recorder.close()
            finally:
                await self._store(recorder, "finished", by, actor)
        await self._announce(conference_id)
        return recorder.recording_id

    async def _store(
        self, recorder: RoomRecorder, status: str, by: str, actor: Identity | None
    ) -> None:
        files = await recorder.close()
        stored = [
            operations.StoredFile(f.channel, f.name, f.media_type, f.size, f.duration, f.sha256)
            for f in files
        ]
        async with self._database.session() as db, db.begin():
            await operations.finish(
                db,
                self._signer,
                recorder.recording_id,
                stored,
                recorder.manifest(),
                status=status,
                stopped_by=by,
                actor=actor,
            )

    async def _announce(self, conference_id: int) -> None:
        try:
            state = self.state(conference_id)
            await self._emit("recording.state", state, conference_room(conference_id))
        except Exception:
            log.exception("could not announce the recording state of %s", conference_id)

    def _lock(self, conference_id: int) -> asyncio.Lock:
        return self._locks.setdefault(conference_id, asyncio.Lock())

    # --- from the rooms (LiveRooms.watch) ------------------------------------------------------

    def room_event(self, conference_id: int, event: RoomEvent) -> None:
        recorder = self._active.get(conference_id)
        if recorder is not None:
            recorder.event(event)

    async def room_ending(self, conference_id: int) -> None:
        """The room ends: its recording stops first, while the room still forwards."""
        try:
            await self.end(conference_id, "room ended")
        except Exception:
            log.exception("could not stop the recording of conference %s", conference_id)
        self._current.pop(conference_id, None)

    # --- the agenda ----------------------------------------------------------------------------

    async def _schedule(self) -> None:
        while True:
            if not self._recovered:
                try:
                    await self.recover()
                    self._recovered = True
                except Exception:
                    log.exception("could not recover interrupted recordings")
            for conference_id in list(self._rooms.live()):
                try:
                    await self.follow_agenda(conference_id)
                except Exception:
                    log.exception("recording schedule failed for conference %s", conference_id)
            await asyncio.sleep(self._schedule_every)

    async def follow_agenda(self, conference_id: int) -> None:
        """Mark session boundaries; start at a session's start, stop an automatic recording
        when its session is over and no other is going on."""
        now = utcnow()
        async with self._database.session() as db:
            found = await occurrences_between(
                db, conference_id, now - dt.timedelta(days=2), now + dt.timedelta(seconds=1)
            )
        going = [
            o
            for o in found
            if o.start <= now < o.end and o.row.status != SessionStatus.CANCELLED.value
        ]
        current = _current(going[-1]) if going else None
        if conference_id in self._current and current == self._current[conference_id]:
            return
        before = self._current.get(conference_id)
        self._current[conference_id] = current
        recorder = self._active.get(conference_id)
        if recorder is not None and before is not None:
            recorder.mark("agenda", action="end", **before[1])
        if current is None:
            if recorder is not None and self._auto.get(conference_id):
                await self.end(conference_id, "session")
            return
        if recorder is not None:
            recorder.mark("agenda", action="start", **current[1])
        elif (conference_id, *current[0]) not in self._seen:
            self._seen.add((conference_id, *current[0]))
            with contextlib.suppress(Conflict):
                await self.begin(conference_id, "session", auto=True)

    # --- recovery and closing ------------------------------------------------------------------

    async def recover(self) -> list[int]:
        """Recordings left "recording" by a killed process become "interrupted", with
        the manifest read back from manifest.json, the durations read from the files, an
        unfinished WebM remuxed to state its duration, then every file hashed and attested
        (``operations.read_back``)."""
        done = []
        async with self._database.session() as db:
            running = {r.recording_id for r in self._active.values()}
            left = [
                (r.id, r.directory) for r in await operations.interrupted(db) if r.id not in running
            ]
        for recording_id, directory in left:
            manifest, files = await asyncio.to_thread(
                operations.read_back, self._data_dir / directory
            )
            async with self._database.session() as db, db.begin():
                row = await db.get(operations.Recording, recording_id)
                assert row is not None
                await operations.finish(
                    db,
                    self._signer,
                    recording_id,
                    files,
                    manifest,
                    status="interrupted",
                    stopped_at=operations.stopped_at_of(row, manifest),
                    stopped_by="restart",
                )
            log.warning("recording %s was interrupted; %d files kept", recording_id, len(files))
            done.append(recording_id)
        return done

    async def close(self) -> None:
        """Stop every recording (files finished and stored) and the schedule; safe twice."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for conference_id in list(self._active):
            try:
                await self.end(conference_id, "shutdown")
            except Exception:
                log.exception("could not stop the recording of conference %s", conference_id)


def _current(occurrence: Occurrence) -> Current:
    """The occurrence's key (series, recurrence id) and what its agenda marks carry."""
    return (
        (occurrence.series.id, occurrence.recurrence_id),
        {
            "session_id": occurrence.row.id,
            "title": occurrence.row.title,
            "starts_at": occurrence.start.isoformat(),
            "ends_at": occurrence.end.isoformat(),
        },
    )
