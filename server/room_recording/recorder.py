"""``RoomRecorder``: one recording of one bridge room, from start to close.

It joins the room as in-process subscribers (``rooms.subscriber.Subscriber``): one for the
floor programme (``programme.video`` and ``programme.audio``) and one per interpreted language
(its ``interpretation.audio`` slot, the language chosen as a listener would) and one per sign
language (its ``sign.video`` slot: the booth's interpreter on camera). Their packets go to a
``recordings.session.RecordingSession``; a task passes on packets held for reordering every
0.25 s and asks the floor's (or a sign booth's) publisher for a key frame while its video
waits for one. The room's events become the recording's timeline marks.

Everything here runs on the event loop and stays cheap: the session's directory and first
manifest are made in a worker thread (``create``), its later disk writes (muxing, the manifest)
run on its own writer thread, and ``close()`` waits for them in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiortc.rtp import RtpPacket

from recordings.session import RecordedFile, RecordingSession
from rooms.peer_id import PeerId, site_number
from rooms.room import BridgeRoom
from rooms.roster import RoomEvent
from rooms.subscriber import Subscriber

log = logging.getLogger(__name__)

TICK = 0.25
"""Seconds between ``expire()`` calls."""
KEYFRAME_EVERY = 1.0
"""At most one key-frame request per this many seconds while the floor video waits."""
FLOOR_SLOTS = MappingProxyType({"programme.video": "video", "programme.audio": "audio"})
LANGUAGE_SLOT = "interpretation.audio"
SIGN_SLOT = "sign.video"

#: Room events that become marks: event type → (mark kind, action).
MARKS = MappingProxyType(
    {
        "floor.granted": ("floor", "granted"),
        "floor.released": ("floor", "released"),
        "floor.language": ("floor", "language"),
        "booth.on_air": ("on_air", "on_air"),
        "booth.off_air": ("on_air", "off_air"),
        "booth.handover": ("on_air", "handover"),
    }
)


def recorded_languages(room: BridgeRoom) -> list[str]:
    """The languages with a spoken booth (recorded as sound)."""
    return sorted(code for code, booth in room.booths.items() if not booth.info.video)


def recorded_sign_languages(room: BridgeRoom) -> list[str]:
    """The sign languages with a booth (recorded as pictures)."""
    return sorted(code for code, booth in room.booths.items() if booth.info.video)


class RoomRecorder:
    """Made by ``create`` (which writes the recording's directory off the event loop)."""

    def __init__(
        self,
        room: BridgeRoom,
        recording_id: int,
        recording: RecordingSession,
        started_at: dt.datetime,
        *,
        part: int = 1,
        since: dt.datetime | None = None,
    ) -> None:
        self.room = room
        self.recording_id = recording_id
        self.started_at = started_at  # this part's start
        self.part = part
        self.since = since or started_at  # the recording's start (part 1's)
        self.languages = recording.languages
        self.sign_languages = recording.sign_languages
        self.recording = recording
        self._subscribers: list[Subscriber] = []
        self._signers: dict[str, Subscriber] = {}  # sign language → its subscriber
        self._task: asyncio.Task[None] | None = None
        self._asked = 0.0
        self._files: list[RecordedFile] | None = None
        self._closing = False  # from the start of close(): no more marks

    @classmethod
    async def create(
        cls,
        room: BridgeRoom,
        recording_id: int,
        directory: Path,
        started_at: dt.datetime,
        *,
        part: int = 1,
        since: dt.datetime | None = None,
    ) -> RoomRecorder:
        """A recorder for the room's booths as they are now, its directory and first manifest
        written in a worker thread (a directory it cannot write raises here)."""
        languages = recorded_languages(room)  # read on the loop, where the room changes
        signed = recorded_sign_languages(room)

        def session() -> RecordingSession:
            directory.mkdir(parents=True, exist_ok=True)
            return RecordingSession(directory, languages, started_at, sign_languages=signed)

        recording = await asyncio.to_thread(session)
        return cls(room, recording_id, recording, started_at, part=part, since=since)

    def start(self) -> None:
        """Join the room: the floor programme, then each language's channel and each sign
        language's picture."""
        recording = self.recording
        prefix = PeerId.recorder(self.recording_id, self.part)

        def floor(slot: str, packet: RtpPacket) -> None:
            recording.packet("floor", slot, packet)

        self._floor = Subscriber(f"{prefix}:floor", FLOOR_SLOTS, floor)
        self.room.add_subscriber(self._floor)
        self._subscribers.append(self._floor)
        for language in self.languages:

            def channel(slot: str, packet: RtpPacket, language: str = language) -> None:
                recording.packet(language, slot, packet)

            listener = Subscriber(f"{prefix}:{language}", {LANGUAGE_SLOT: "audio"}, channel)
            self.room.add_subscriber(listener)
            self._subscribers.append(listener)
            self.room.choose_language(listener.site_id, language)
        for language in self.sign_languages:

            def picture(slot: str, packet: RtpPacket, language: str = language) -> None:
                recording.packet(language, slot, packet)

            watcher = Subscriber(f"{prefix}:{language}", {SIGN_SLOT: "video"}, picture)
            self.room.add_subscriber(watcher)
            self._subscribers.append(watcher)
            self._signers[language] = watcher
            self.room.choose_language(watcher.site_id, language)
        self._task = asyncio.create_task(self._tick(), name=f"recording-{self.recording_id}")

    def event(self, event: RoomEvent) -> None:
        """A room event: floor and on-air changes become marks (ids only, no names)."""
        found = MARKS.get(event.type)
        if found is None or self._closing:
            return
        kind, action = found
        data: dict[str, Any] = {"action": action, **event.data}
        if (site_id := site_number(event.site_id)) is not None:
            data["site_id"] = site_id
        self.mark(kind, **data)

    def mark(self, kind: str, **data: Any) -> None:
        if not self._closing:
            try:
                self.recording.mark(kind, **data)
            except Exception:
                log.exception("recording %s: could not mark %s", self.recording_id, kind)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                self.recording.expire()
                now = time.monotonic()
                if now - self._asked >= KEYFRAME_EVERY:
                    self._ask_for_keyframes(now)
            except Exception:
                log.exception("recording %s: tick failed", self.recording_id)

    def _ask_for_keyframes(self, now: float) -> None:
        """At most once a KEYFRAME_EVERY: a key frame for each video that waits for one."""
        waiting = [("floor", self._floor, "programme.video")] + [
            (code, watcher, SIGN_SLOT) for code, watcher in self._signers.items()
        ]
        for channel, subscriber, slot in waiting:
            if self.recording.wants_keyframe(channel):
                self._asked = now
                subscriber.request_keyframe(slot)

    async def close(self) -> list[RecordedFile]:
        """Leave the room and finish the files (hashed, manifest.json written); safe twice."""
        if self._files is not None:
            return self._files
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscriber in self._subscribers:
            with contextlib.suppress(Exception):
                await self.room.remove_subscriber(subscriber.site_id)
            subscriber.close()
        # Finishing waits for the writer thread (the tail, the trailers, the hashes, the last
        # manifest): off the event loop. A write that failed, then or while recording, is
        # raised here once the rest is finished (the session logged it when it happened).
        try:
            self._files = await asyncio.to_thread(self.recording.close)
        except Exception:  # one broken file: the others are finished and hashed all the same
            log.exception("recording %s: a file could not be finished", self.recording_id)
            self._files = self.recording.recorded()
        return self._files

    def manifest(self) -> dict[str, Any]:
        return self.recording.manifest()
