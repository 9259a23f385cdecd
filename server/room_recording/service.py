"""``RoomRecordings``: the recordings of this node's rooms (one per app, in ``cleanup_ctx``).

- Started by the chair (``recording.start``), or automatically when the room is open during
  an agenda session (when the room opens inside one, or when one begins while it is open);
  stopped by the chair, when an automatically started recording's session ends with no other
  session going on, when the room ends, and when the app shuts down.
- Every change reaches the room's members as ``recording.state``.
- A restart cuts a recording into parts. On a graceful stop (``suspend``) the part going on is
  finished; after a crash, the next process reads it back from disk (``operations.read_back``).
  Either way the recording waits as "resuming" while its room's state is kept, and continues
  as its next part when the room reopens (``room.reopened``); an automatic one whose session
  is over by then, or one whose conference has ended, is closed as finished instead. Without
  a kept room, a crashed recording is closed as "interrupted".
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

from recordings.ledger.tree_head import TreeHeadSigner
from rooms.room_state import REOPENED
from rooms.roster import RoomEvent
from server.conferences.lifecycle import ROOM_CLOSED
from server.conferences.queries import occurrences_between
from server.conferences.series import SessionOccurrence
from server.db import Database
from server.errors import Conflict
from server.events import AgreementSigned
from server.i18n_strings import N_
from server.identity import Identity
from server.live.members import conference_room
from server.live.registry import LiveRooms
from server.models import Conference, SessionStatus, utcnow
from server.room_recording import operations
from server.room_recording.recorder import RoomRecorder
from server.room_recording.schemas import RecordingState
from server.sent import Sent

log = logging.getLogger(__name__)

Emit = Callable[[Sent, str], Awaitable[None]]
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
        node: str | None = None,
    ) -> None:
        self._database = database
        self._node = node  # this node's name: its recordings are the ones it may recover
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
        self._resuming: dict[int, int] = {}  # conference → its recording a restart cut
        self._resumes: set[asyncio.Task[None]] = set()
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

    def state(self, conference_id: int) -> RecordingState:
        """``recording.state`` as docs/signalling.md describes it."""
        active = self._active.get(conference_id)
        return RecordingState(
            recording=active is not None,
            since=active.since.isoformat() if active else None,
            id=active.recording_id if active else None,
            part=active.part if active else None,
            server_time=time.time(),
        )

    def active(self, conference_id: int) -> RoomRecorder | None:
        return self._active.get(conference_id)

    def mark(self, conference_id: int, kind: str, **data: Any) -> bool:
        """A timeline mark ("signing", "note"...) on the room's recording, if one is running."""
        recorder = self._active.get(conference_id)
        if recorder is not None:
            recorder.mark(kind, **data)
        return recorder is not None

    async def mark_signing(self, event: AgreementSigned) -> None:
        """``AgreementSigned``: the moment on the room's recording's timeline (on the node that
        records the room: the event is relayed to every node)."""
        self.mark(
            event.conference_id,
            "signing",
            agreement_id=event.agreement_id,
            signatory_id=event.signatory_id,
            ledger_position=event.ledger_position,
        )

    # --- start and stop ------------------------------------------------------------------------

    async def begin(
        self, conference_id: int, by: str, actor: Identity | None = None, *, auto: bool = False
    ) -> int:
        """Start recording the conference's open room; its recording's id (the one a restart
        cut, continued, if there is one)."""
        if conference_id in self._resuming:
            await self._resume(conference_id)
        async with self._lock(conference_id):
            if self._closed:
                raise Conflict(N_("the server is shutting down"), code="shutting_down")
            room = self._rooms.get(conference_id)
            if room is None:
                raise Conflict(N_("the room is not open"), code="room_not_open")
            if conference_id in self._active:
                raise Conflict(N_("the room is already being recorded"), code="already_recording")
            started_at = utcnow()
            async with self._database.session() as db, db.begin():
                row = await operations.begin(db, conference_id, by, started_at, self._node)
                if actor is not None:
                    row.started_by = actor.actor
                recording_id, directory = row.id, row.directory
            target = self._data_dir / directory
            recorder = await RoomRecorder.create(room, recording_id, target, started_at)
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
                return await self._close_paused(conference_id, by)
            try:
                await recorder.close()
            finally:
                await self._store(recorder, "finished", by, actor)
        await self._announce(conference_id)
        return recorder.recording_id

    async def _store(
        self,
        recorder: RoomRecorder,
        status: str,
        by: str,
        actor: Identity | None,
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
                part=recorder.part,
                status=status,
                stopped_by=by,
                actor=actor,
            )

    async def _announce(self, conference_id: int) -> None:
        try:
            state = self.state(conference_id)
            await self._emit(state, conference_room(conference_id))
        except Exception:
            log.exception("could not announce the recording state of %s", conference_id)

    def _lock(self, conference_id: int) -> asyncio.Lock:
        return self._locks.setdefault(conference_id, asyncio.Lock())

    # --- from the rooms (LiveRooms.watch) ------------------------------------------------------

    def room_event(self, conference_id: int, event: RoomEvent) -> None:
        recorder = self._active.get(conference_id)
        if recorder is not None:
            recorder.event(event)
        elif event.type == REOPENED and conference_id in self._resuming:
            task = asyncio.create_task(self._resume(conference_id), name="recording-resume")
            self._resumes.add(task)
            task.add_done_callback(self._resumes.discard)

    async def room_ending(self, conference_id: int) -> None:
        """The room ends: its recording stops first, while the room still forwards (one a
        restart cut, still waiting, is closed as it is)."""
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
            try:
                await self._resume_left()
            except Exception:
                log.exception("could not resume the recordings a restart cut")
            for conference_id in list(self._rooms.live()):
                try:
                    await self.follow_agenda(conference_id)
                except Exception:
                    log.exception("recording schedule failed for conference %s", conference_id)
            await asyncio.sleep(self._schedule_every)

    async def follow_agenda(self, conference_id: int) -> None:
        """Mark session boundaries; start at a session's start, stop an automatic recording
        when its session is over and no other is going on."""
        if conference_id in self._resuming:  # the recording a restart cut continues first
            return
        current = await self._going(conference_id)
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

    async def _going(self, conference_id: int) -> Current | None:
        """The agenda session going on now, if any."""
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
        return _current(going[-1]) if going else None

    # --- across a restart ----------------------------------------------------------------------

    async def suspend(self) -> None:
        """A graceful stop: every recording's part going on is finished and stored. A room
        whose state is kept reopens after the restart, and its recording waits for it as
        "resuming"; any other recording is finished (stopped by "shutdown")."""
        for conference_id in list(self._active):
            try:
                async with self._lock(conference_id):
                    recorder = self._active.pop(conference_id, None)
                    if recorder is None:
                        continue
                    kept = await self._kept(conference_id)
                    status = "resuming" if kept else "finished"
                    await self._store(recorder, status, "restart" if kept else "shutdown", None)
            except Exception:
                log.exception("could not stop the recording of conference %s", conference_id)
        await self.close()

    async def _kept(self, conference_id: int) -> bool:
        try:
            return await self._rooms.kept(conference_id)
        except Exception:
            log.exception("cannot tell whether the room of %s is kept", conference_id)
            return False

    async def _resume(self, conference_id: int) -> None:
        """The room of a recording a restart cut is open again: its next part begins (or,
        for an automatic recording whose session is over, it is closed as finished)."""
        async with self._lock(conference_id):
            recording_id = self._resuming.get(conference_id)
            room = self._rooms.get(conference_id)
            if recording_id is None or room is None or self._closed:
                return
            async with self._database.session() as db:
                row = await db.get(operations.Recording, recording_id)
                auto = row is not None and row.started_by == "session"
            current = await self._going(conference_id) if auto else None
            if auto and current is None:
                await self._close_paused(conference_id, "session")
                return
            async with self._database.session() as db, db.begin():
                row = await operations.next_part(db, recording_id)
                if row is None:  # closed meanwhile (another node, an operator)
                    self._resuming.pop(conference_id, None)
                    return
                part, since, directory = row.parts, row.started_at, row.directory
            started_at = utcnow()
            target = self._data_dir / operations.part_directory(directory, part)
            recorder = await RoomRecorder.create(
                room, recording_id, target, started_at, part=part, since=since
            )
            try:
                recorder.start()
            except Exception:
                self._resuming.pop(conference_id, None)
                await self._store(recorder, "interrupted", "error", None)
                raise
            del self._resuming[conference_id]
            self._active[conference_id] = recorder
            self._auto[conference_id] = auto
            self._current[conference_id] = current
            if current is not None:
                recorder.mark("agenda", action="start", **current[1])
            log.info("recording %s continues as part %d", recording_id, part)
        await self._announce(conference_id)

    async def _close_paused(self, conference_id: int, by: str) -> int | None:
        recording_id = self._resuming.pop(conference_id, None)
        if recording_id is None:
            return None
        async with self._database.session() as db, db.begin():
            await operations.close_paused(db, recording_id, by)
        log.info("recording %s closed after a restart (%s)", recording_id, by)
        return recording_id

    async def _resume_left(self) -> None:
        """Resume what waits for a room that is open (it opened before recovery ran), and
        close what waits for a conference that can no longer be held."""
        for conference_id in list(self._resuming):
            if self._rooms.get(conference_id) is not None:
                await self._resume(conference_id)
                continue
            async with self._database.session() as db:
                conference = await db.get(Conference, conference_id)
            if conference is None or conference.status in ROOM_CLOSED:
                async with self._lock(conference_id):
                    await self._close_paused(conference_id, "room ended")

    # --- recovery and closing ------------------------------------------------------------------

    async def recover(self) -> list[int]:
        """The part going on when a process was killed is read back from disk: the manifest
        from manifest.json, the durations from the files, an unfinished WebM remuxed to state
        its duration, then every file hashed and attested (``operations.read_back``). Its
        recording waits as "resuming" when its room's state is kept, else it is closed as
        "interrupted". Then every recording waiting to resume is remembered for its room."""
        done = []
        async with self._database.session() as db:
            running = {r.recording_id for r in self._active.values()}
            left = [
                (r.id, r.conference_id, operations.part_directory(r.directory, r.parts))
                for r in await operations.left_by_a_restart(db, "recording", self._node)
                if r.id not in running
            ]
        for recording_id, conference_id, directory in left:
            manifest, files = await asyncio.to_thread(
                operations.read_back, self._data_dir / directory
            )
            kept = await self._rooms.kept(conference_id)
            async with self._database.session() as db, db.begin():
                row = await db.get(operations.Recording, recording_id)
                assert row is not None
                await operations.finish(
                    db,
                    self._signer,
                    recording_id,
                    files,
                    manifest,
                    part=row.parts,
                    status="resuming" if kept else "interrupted",
                    ended="interrupted",
                    stopped_at=operations.stopped_at_of(row, manifest),
                    stopped_by="restart",
                )
            log.warning("recording %s was interrupted; %d files kept", recording_id, len(files))
            done.append(recording_id)
        async with self._database.session() as db:
            for row in await operations.left_by_a_restart(db, "resuming", self._node):
                self._resuming.setdefault(row.conference_id, row.id)
        return done

    async def close(self) -> None:
        """Stop every recording (files finished and stored) and the schedule; safe twice."""
        if self._closed:
            return
        self._closed = True
        for task in [self._task, *self._resumes]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for conference_id in list(self._active):
            try:
                await self.end(conference_id, "shutdown")
            except Exception:
                log.exception("could not stop the recording of conference %s", conference_id)


def _current(occurrence: SessionOccurrence) -> Current:
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
