"""A room with synthetic sites and interpreters, recorded: shared by test_session.py and, run
as a script, the subprocess that test_session.py SIGKILLs.

The main hall (site 1) shows a test pattern (320x180) and plays 440 Hz; site 2 has a smaller
picture (256x144) and 550 Hz; site 3 only a microphone, 330 Hz. The Lao booth's interpreter
plays 660 Hz, the English booth's 880 Hz. ``RoomRecording`` ties ``rooms.subscriber``
subscribers to a ``recordings.session.RecordingSession`` the way the control plane does: packets in,
``expire()`` every 0.25 s, a key frame asked for while the floor video waits, room events as
marks.

``python session_helper.py DIRECTORY`` builds the room, starts recording, and prints
``offset <seconds>`` every 0.25 s until it is killed (it never stops the recording itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from aiortc.rtp import RtpPacket

from recordings.session import RecordingSession
from rooms.booths import BoothInfo
from rooms.room import BridgeRoom
from rooms.roster import RoomEvent, SiteInfo
from rooms.subscriber import Subscriber
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

LOOPBACK = ["127.0.0.1"]
FPS = 15  # the synthetic cameras: half the usual, two VP8 encoders share the test's core
SITES = {
    "1": SiteInfo("Quang Ngai hall", 0, True),
    "2": SiteInfo("Champasak hall", 1),
    "3": SiteInfo("Hanoi office", 2),
}
SITE_MEDIA: dict[str, tuple[tuple[int, int] | None, float]] = {
    "1": ((320, 180), 440.0),
    "2": ((256, 144), 550.0),
    "3": (None, 330.0),
}
BOOTHS = {
    "lo": BoothInfo("lo", frozenset({"vi"}), ("lo-a",)),
    "en": BoothInfo("en", frozenset({"vi"}), ("en-a",)),
}
INTERPRETERS = {"lo-a": ("lo", 660.0), "en-a": ("en", 880.0)}
LANGUAGES = ["lo", "en"]
MARKED = {"floor.granted": "floor", "floor.released": "floor", "booth.on_air": "on_air"}


class RoomRecording:
    """The recorder: one subscriber for the floor programme, one per language."""

    def __init__(self, room: BridgeRoom, directory: Path, languages: list[str]) -> None:
        self.room = room
        self.recording = RecordingSession(directory, languages, dt.datetime.now(dt.UTC))
        self.keyframes_asked = 0
        recording = self.recording

        def floor(slot: str, packet: RtpPacket) -> None:
            recording.packet("floor", slot, packet)

        slots = {"programme.video": "video", "programme.audio": "audio"}
        self.floor = Subscriber("recorder-floor", slots, floor)
        self.subscribers = [self.floor]
        for code in languages:

            def channel(slot: str, packet: RtpPacket, code: str = code) -> None:
                recording.packet(code, slot, packet)

            self.subscribers.append(
                Subscriber(f"recorder-{code}", {"interpretation.audio": "audio"}, channel)
            )
        for subscriber in self.subscribers:
            room.add_subscriber(subscriber)
        for code, subscriber in zip(languages, self.subscribers[1:], strict=True):
            room.choose_language(subscriber.site_id, code)
        self._task = asyncio.create_task(self._tick())

    def event(self, event: RoomEvent) -> None:
        kind = MARKED.get(event.type)
        if kind is not None and not self._task.done():
            self.recording.mark(kind, event=event.type, site=event.site_id, **event.data)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            self.recording.expire()
            if self.recording.wants_keyframe("floor"):
                self.keyframes_asked += 1
                self.floor.request_keyframe("programme.video")

    async def close(self) -> Any:
        """Leave the room, finish the files; safe twice."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        for subscriber in self.subscribers:
            if subscriber.site_id in self.room.subscribers:
                await self.room.remove_subscriber(subscriber.site_id)
        return await asyncio.to_thread(self.recording.close)


class RecordedRoom:
    """The room, its clients, and (once ``record`` is called) its recorder."""

    def __init__(self) -> None:
        self.events: list[RoomEvent] = []
        self.recorder: RoomRecording | None = None
        self.room = BridgeRoom(
            "recorded", SITES, ice_addresses=LOOPBACK, on_event=self._event, booths=BOOTHS
        )
        self.clients: list[SyntheticSite] = []

    def _event(self, event: RoomEvent) -> None:
        self.events.append(event)
        if self.recorder is not None:
            self.recorder.event(event)

    async def start(self) -> None:
        """Connect the sites and interpreters, put both booths on air, wait for media."""
        room = self.room
        room.start()
        room.set_floor_language("vi")
        for site_id, (size, hz) in SITE_MEDIA.items():
            room.arrive(site_id)
            room.admit(site_id)
            camera = PatternTrack(*size, fps=FPS, hue=int(site_id) * 60) if size else None
            client = SyntheticSite(site_id, camera=camera, microphone=ToneTrack(hz))
            self.clients.append(client)
            sdp, layout = await client.offer()
            await client.accept(await room.connect_site(site_id, sdp, layout))
        for name, (language, hz) in INTERPRETERS.items():
            client = SyntheticSite(name, microphone=ToneTrack(hz))
            self.clients.append(client)
            sdp, layout = await client.offer()
            await client.accept(await room.connect_interpreter(name, language, sdp, layout))
            room.interpreter_present(name, language, True)
            room.interpret("on_air", name, language)
        await self.flowing()

    async def flowing(self, within: float = 15.0) -> None:
        """Until every published track has delivered packets to the bridge."""
        room = self.room

        def sources() -> list[Any]:
            found = [s.peer.sources.values() for s in room.sites.values() if s.peer]
            found += [peer.sources.values() for peer in room.channels.peers()]
            return [source for group in found for source in group]

        deadline = asyncio.get_running_loop().time() + within
        while len(sources()) < 7 or any(s.packets < 10 for s in sources()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the sites' media did not reach the bridge")
            await asyncio.sleep(0.05)

    def record(self, directory: Path) -> RoomRecording:
        self.recorder = RoomRecording(self.room, directory, LANGUAGES)
        return self.recorder

    async def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 10)
        await self.room.close()


async def run_until_killed(directory: Path) -> None:
    recorded = RecordedRoom()
    await recorded.start()
    recorder = recorded.record(directory)
    recorder.recording.mark("agenda", item=1, title="Opening")
    granted = False
    while True:
        await asyncio.sleep(0.25)
        offset = recorder.recording.offset()
        if offset > 5 and not granted:
            granted = True
            recorded.room.grant_floor("2")
        print(f"offset {offset:.3f}", flush=True)


if __name__ == "__main__":
    asyncio.run(run_until_killed(Path(sys.argv[1])))
