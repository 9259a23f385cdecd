"""Synthetic sites that join a conference like browsers do: invitation link, lobby, offer.

``concord simulate-sites`` runs them to fill a room before an event; tests and the benchmark
use them too. Each one is a ``rooms.synthetic.SyntheticSite`` (test pattern with the time drawn
in, a tone of its own) driven over the ``/room`` namespace of docs/signalling.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import socketio

from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

CONNECT_ATTEMPTS = 3
SITE_SLOTS = (
    ("hall.video", "video"),
    ("hall.audio", "audio"),
    ("floor.video", "video"),
    ("floor.audio", "audio"),
)


class SimulationError(Exception):
    pass


@dataclass
class SiteReport:
    site: str
    frames_received: int
    fps: float
    audio_packets_received: int
    packets_lost: int

    def line(self) -> str:
        return json.dumps(self.__dict__)


class SimulatedSite:
    """One site: ``await start()``, wait for ``admitted``, then ``connected``; ``close()``."""

    def __init__(
        self,
        base_url: str,
        join_path: str,
        *,
        name: str,
        tone_hz: float,
        video: tuple[int, int, int] = (320, 180, 15),
        publish_video: bool = True,
        slots: Sequence[tuple[str, str]] = SITE_SLOTS,
        ice_addresses: Sequence[str] = ("127.0.0.1",),
        read_stamps: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.join_path = join_path
        self.name = name
        self.conference_id = 0
        self.site_id: int | None = None
        self.admission = ""
        self.admitted = asyncio.Event()
        self.states: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self._tone = tone_hz
        self._video = video
        self._publish_video = publish_video
        self._slots = list(slots)
        self._ice = list(ice_addresses)
        self._read_stamps = read_stamps
        self._http: aiohttp.ClientSession | None = None
        self.sio = socketio.AsyncClient(reconnection=False)
        self.media: SyntheticSite | None = None
        self.sio.on("admitted", self._on_admitted, namespace="/room")
        self.sio.on("rejoin", self._on_rejoin, namespace="/room")
        self.sio.on("room.state", self.states.append, namespace="/room")
        self.sio.on("room.event", self.events.append, namespace="/room")

    async def start(self) -> str:
        """Open the invitation link, connect and join; returns the admission (lobby/admitted)."""
        self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self._http.get(self.base_url + self.join_path, allow_redirects=False) as r:
            if r.status != 303:
                raise SimulationError(f"{self.name}: the invitation link answered {r.status}")
            # /conferences/<id>/room
            self.conference_id = int(r.headers["Location"].split("/")[2])
        cookies = "; ".join(f"{c.key}={c.value}" for c in self._http.cookie_jar)
        for attempt in range(CONNECT_ATTEMPTS):  # a busy server may drop a first handshake
            try:
                await self.sio.connect(
                    self.base_url,
                    headers={"Cookie": cookies},
                    namespaces=["/room"],
                    transports=["websocket"],
                )
                break
            except socketio.exceptions.ConnectionError:
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5)
        answer = await self.call("join", {"conference_id": self.conference_id, "as": "site"})
        self.site_id = answer["site_id"]
        self.admission = answer["admission"]
        if self.admission == "admitted":
            self.admitted.set()
        return self.admission

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = await self.sio.call(event, data or {}, namespace="/room", timeout=20)
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise SimulationError(f"{self.name}: {event} refused: {answer}")
        return answer

    async def _on_admitted(self, data: dict[str, Any]) -> None:
        self.admission = "admitted"
        self.admitted.set()

    async def _on_rejoin(self, data: dict[str, Any]) -> None:
        await self.connect_media()

    async def connect_media(self) -> None:
        """Offer (again): a new peer connection, as a browser does when it rejoins."""
        if self.media is not None:
            await self.media.close()
        width, height, fps = self._video
        self.media = SyntheticSite(
            self.name,
            camera=PatternTrack(width, height, fps) if self._publish_video else None,
            microphone=ToneTrack(self._tone),
            slots=self._slots,
            ice_addresses=self._ice,
            read_stamps=self._read_stamps,
        )
        sdp, layout = await self.media.offer()
        answer = await self.call("offer", {"sdp": sdp, "layout": layout})
        await self.media.accept(answer["sdp"])

    def report(self) -> SiteReport:
        received = self.media.received if self.media else {}
        videos = [r for r in received.values() if r.kind == "video"]
        audios = [r for r in received.values() if r.kind == "audio"]
        best = max(videos, key=lambda r: r.frames, default=None)
        return SiteReport(
            site=self.name,
            frames_received=best.frames if best else 0,
            fps=round(best.fps(), 1) if best else 0.0,
            audio_packets_received=sum(r.frames for r in audios),
            packets_lost=self.media.packets_lost() if self.media else 0,
        )

    async def close(self) -> None:
        if self.media is not None:
            await self.media.close()
            self.media = None
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        if self._http is not None:
            await self._http.close()
            self._http = None


async def run_sites(sites: Sequence[SimulatedSite], duration: float) -> list[SiteReport]:
    """Start every site, connect media once admitted; report after ``duration`` seconds.

    The clock starts at once: a site still in the lobby at the end reports nothing received.
    """

    async def one(site: SimulatedSite) -> None:
        await site.start()
        await site.admitted.wait()
        await site.connect_media()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    joining = [asyncio.ensure_future(one(site)) for site in sites]
    try:
        done, _ = await asyncio.wait(joining, timeout=duration)
        for task in done:
            task.result()  # a refused invitation or join is an error, not a silent zero
        await asyncio.sleep(max(0.0, deadline - loop.time()))
        return [site.report() for site in sites]
    finally:
        for task in joining:
            task.cancel()
        await asyncio.gather(*joining, return_exceptions=True)
        for site in sites:
            await site.close()
