"""Synthetic sites that join a conference like browsers do: invitation link, lobby, offer.

``concord simulate-sites`` runs them to fill a room before an event; tests and the benchmark
use them too. Each one is a ``rooms.synthetic.SyntheticSite`` (test pattern with the time drawn
in, a tone of its own) driven over the ``/room`` namespace of docs/signalling.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp
import socketio

from rooms.synthetic import PatternTrack, Received, SyntheticSite, ToneTrack, carries_on
from server.live.cluster_urls import CONNECT_WAIT, NodeUrls
from server.live.simulate_report import SiteReport, VideoRun

CONNECT_ATTEMPTS = 3
RECONNECT_DELAYS = (0.25, 0.5)  # then every half second, until the site is closed
# (room_elsewhere without a URL: the room's node died a moment ago, its lease runs out soon)
TRANSIENT_REFUSALS = frozenset({"rate_limited", "internal_error", "not_joined", "room_elsewhere"})
SITE_SLOTS = (
    ("hall.video", "video"),
    ("hall.audio", "audio"),
    ("floor.video", "video"),
    ("floor.audio", "audio"),
)
log = logging.getLogger(__name__)


class SimulationError(Exception):
    def __init__(self, message: str, code: str = "", answer: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.answer = answer or {}  # the refusal as the server gave it


class SimulatedSite:
    """One site: ``await start()``, wait for ``admitted``, then ``connect_media()``; ``close()``.

    Like a browser site it comes back by itself: when its socket drops (a network drop, a
    server restart) it connects again (opening its invitation link again when its session is
    no longer accepted), joins again and, once admitted, offers a new peer connection if the
    server no longer has its old one. A peer connection that fails or closes, or a ``rejoin``
    from the server, gets a new one too. After ``revoked`` it stays away (``revoked`` holds the
    code). Reconnection starts once ``start()`` has succeeded; ``reconnect=False`` turns it off.
    """

    def __init__(
        self,
        base_url: str,
        join_path: str,
        *,
        name: str,
        tone_hz: float,
        video: tuple[int, int, int] = (320, 180, 15),
        publish_video: bool = True,
        low_video: bool = True,
        video_bitrate: int | None = None,
        slots: Sequence[tuple[str, str]] = SITE_SLOTS,
        ice_addresses: Sequence[str] = ("127.0.0.1",),
        read_stamps: bool = False,
        reconnect: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.nodes = NodeUrls(self.base_url)  # where to go when the room's node dies
        self.join_path = join_path
        self.name = name
        self.conference_id = 0
        self.site_id: int | None = None
        self.admission = ""
        self.admitted = asyncio.Event()
        self.states: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.reconnects = 0
        self.revoked: str | None = None
        self.ended: str | None = None  # why it stopped coming back (revoked, refused, removed)
        self._tone = tone_hz
        self._video = video
        self._publish_video = publish_video
        self._low_video = publish_video and low_video  # camera.low: half the width and height
        self._video_bitrate = video_bitrate  # the camera's, fixed (None: aiortc's own)
        self._slots = list(slots)
        self._ice = list(ice_addresses)
        self._read_stamps = read_stamps
        self._reconnect = reconnect
        self._http: aiohttp.ClientSession | None = None
        self._refused_session = False
        self._joined = False
        self._joins = 0  # successful joins; the peer connection offered in which
        self._media_join = -1
        self._room: dict[str, Any] = {}  # the room as the last join answer described it
        self._closing = False
        self._wants_media = False
        self._media_lock = asyncio.Lock()
        self._past: list[dict[str, Received]] = []  # what earlier peer connections received
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnecting: asyncio.Task[None] | None = None
        self._dropped = asyncio.Event()  # the current socket dropped: its calls get no answer
        self.media: SyntheticSite | None = None
        self.sio = self._client()

    def _client(self) -> socketio.AsyncClient:
        """A socket.io client with this site's handlers (it reconnects on its own, see above)."""
        sio = socketio.AsyncClient(reconnection=False)
        handlers: list[tuple[str, Callable[..., Any]]] = [
            ("admitted", self._on_admitted),
            ("rejoin", self._on_rejoin),
            ("revoked", self._on_revoked),
            ("removed", self._on_removed),
            ("refused", self._on_removed),
            ("disconnect", self._on_disconnect),
            ("connect_error", self._on_connect_error),
            ("room.state", self.states.append),
            ("room.event", self.events.append),
            ("media.sending", self._on_sending),
            ("cluster.nodes", self.nodes.update),
            ("room.moving", self._on_moving),
        ]
        for event, handler in handlers:
            sio.on(event, handler, namespace="/room")
        return sio

    def _swap_client(self) -> None:
        """A new socket.io client for another node. The old one hangs up aside (its close
        handshake can take seconds), without handlers: no drop to come back from."""
        old, self.sio = self.sio, self._client()
        old.handlers.pop("/room", None)
        self._spawn(_hang_up(old))

    async def start(self) -> str:
        """Open the invitation link, connect and join; returns the admission (lobby/admitted)."""
        await self._open_invitation()
        for attempt in range(CONNECT_ATTEMPTS):  # a busy server may drop a first handshake
            try:
                await self._connect_socket()
                break
            except socketio.exceptions.ConnectionError:
                if attempt == CONNECT_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.5)
        return await self._join()

    async def _open_invitation(self) -> None:
        """GET the invitation link: a guest session (cookie) for this site's conference."""
        if self._http is None:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with self._http.get(self.base_url + self.join_path, allow_redirects=False) as r:
            if r.status != 303:
                raise SimulationError(
                    f"{self.name}: the invitation link answered {r.status}", "invitation_refused"
                )
            # /conferences/<id>/room
            self.conference_id = int(r.headers["Location"].split("/")[2])
        self._refused_session = False

    async def _connect_socket(self) -> None:
        assert self._http is not None
        self._dropped = asyncio.Event()
        cookies = "; ".join(f"{c.key}={c.value}" for c in self._http.cookie_jar)
        await self.sio.connect(
            self.base_url,
            headers={"Cookie": cookies},
            namespaces=["/room"],
            transports=["websocket"],
            wait_timeout=CONNECT_WAIT,
        )

    async def _join(self) -> str:
        join = {"conference_id": self.conference_id, "as": "site"}
        try:
            answer = await self.call("join", join)
        except SimulationError as refused:
            url = refused.answer.get("url")
            if refused.code != "room_elsewhere" or not isinstance(url, str) or not url:
                raise
            if self.nodes.dead(url):  # its node died a moment ago: the lease runs out soon
                raise SimulationError(
                    f"{self.name}: the room is between nodes", refused.code
                ) from None
            # In a cluster: the room is held by another node. Signalling and media go there
            # (the guest session is in the shared database, so the cookie serves there too).
            log.info("%s: the room is on %s; joining there", self.name, url)
            self._swap_client()
            self.base_url = url.rstrip("/")
            await self._connect_socket()
            answer = await self.call("join", join)
        self._joined = True
        self._joins += 1
        self.nodes.joined(answer)
        self._room = answer.get("room") or {}
        self.site_id = answer["site_id"]
        self.admission = answer["admission"]
        if self.admission == "admitted":
            self.admitted.set()
        else:
            self.admitted.clear()
        return self.admission

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ask the server; refused (``not_joined``) at once if the socket drops meanwhile: the
        server that had the question is gone, and a rejoin must not wait 20 s behind it."""
        dropped = self._dropped
        asking = asyncio.ensure_future(
            self.sio.call(event, data or {}, namespace="/room", timeout=20)
        )
        waiting = asyncio.ensure_future(dropped.wait())
        try:
            await asyncio.wait({asking, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            answered = asking.done()
            if not answered:
                asking.cancel()
        if not answered:
            raise SimulationError(f"{self.name}: the socket dropped during {event}", "not_joined")
        answer = asking.result()
        if not isinstance(answer, dict) or not answer.get("ok"):
            code = answer.get("code", "") if isinstance(answer, dict) else ""
            refusal = answer if isinstance(answer, dict) else None
            raise SimulationError(f"{self.name}: {event} refused: {answer}", code, refusal)
        return answer

    # --- coming back -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_connect_error(self, data: Any = None) -> None:
        if isinstance(data, dict) and data.get("code") == "unauthorized":
            self._refused_session = True  # the next attempt opens the invitation link again

    async def _on_revoked(self, data: Any = None) -> None:
        code = data.get("code") if isinstance(data, dict) else None
        self.revoked = self.ended = str(code or "revoked")

    async def _on_removed(self, data: Any = None) -> None:
        self.ended = "removed"

    async def _on_disconnect(self, reason: Any = None) -> None:
        self._joined = False
        self._dropped.set()
        running = self._reconnecting is not None and not self._reconnecting.done()
        if self._reconnect and not self._closing and self.ended is None and not running:
            self._reconnecting = self._spawn(self._come_back())

    async def _come_back(self) -> None:
        """Connect and join again until it works, the site is closed, or it may not return."""
        for attempt in itertools.count():
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            if self._closing or self.ended is not None:  # a ``revoked`` comes before the close
                return
            try:
                if self._refused_session:
                    await self._open_invitation()
                await self._connect_socket()
                admission = await self._join()
            except SimulationError as exc:
                if exc.code in TRANSIENT_REFUSALS:
                    await self._hang_up()
                    self.base_url = self.nodes.next()
                    continue
                if exc.code == "invitation_refused" and self.revoked is None:
                    self.revoked = exc.code
                self.ended = self.ended or exc.code or str(exc)
                log.warning("%s does not come back: %s", self.name, exc)
                await self._hang_up()
                return
            except (socketio.exceptions.SocketIOError, aiohttp.ClientError, OSError, TimeoutError):
                await self._hang_up()
                self.nodes.failed(self.base_url)
                self.base_url = self.nodes.next()
                continue
            except ValueError:  # the old connection is still closing ("not in a disconnected
                continue  # state"), as when the server closed it: try again after a delay
            self.reconnects += 1
            log.info("%s is back (%s) after %d attempts", self.name, admission, attempt + 1)
            if admission == "lobby":
                await self._drop_media()  # the server holds no peer connection for the lobby
            elif self._wants_media:
                await self._renew_media(only_if_gone=True)
            if self.sio.connected:
                return  # else it dropped again meanwhile: go on trying

    async def _hang_up(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    def media_connected(self) -> bool:
        """Joined, admitted, and a peer connection offered since that join is connected: the
        site has media with the room it is in now (not a leftover of a dead node's room)."""
        media = self.media
        return (
            self._joined
            and self.admission == "admitted"
            and self._media_join == self._joins
            and media is not None
            and media.pc.connectionState == "connected"
        )

    def _media_gone(self) -> bool:
        """True unless this site's peer connection works and the server still holds it: kept
        across a short drop of the socket, but not across a restart (a new room), nor when
        the server closed its end."""
        if self.media is None or self.media.pc.connectionState in ("failed", "closed"):
            return True
        if self._media_join == self._joins:
            return False  # offered since the last join
        mine = [s for s in self._room.get("sites", []) if s.get("site_id") == self.site_id]
        return not mine or mine[0].get("link") != "connected"

    async def _on_admitted(self, data: Any = None) -> None:
        self.admission = "admitted"
        self.admitted.set()
        if self._wants_media:
            self._spawn(self._renew_media(only_if_gone=True))

    async def _on_sending(self, data: Any = None) -> None:
        """The room receives one of the camera's qualities from nobody: stop sending it."""
        paused = data.get("paused") if isinstance(data, dict) else None
        if self.media is not None and isinstance(paused, list):
            self.media.pause(str(name) for name in paused)

    async def _on_rejoin(self, data: Any = None) -> None:
        self.reconnects += 1
        self._spawn(self._renew_media())

    def _watch(self, media: SyntheticSite) -> None:
        @media.pc.on("connectionstatechange")
        def changed() -> None:
            state = media.pc.connectionState
            if media is not self.media or self._closing or state not in ("failed", "closed"):
                return
            if self._joined and self.admission == "admitted":
                self.reconnects += 1
                self._spawn(self._renew_media())
            # otherwise the next join (or admission) offers a new one

    async def _renew_media(self, only_if_gone: bool = False) -> None:
        try:
            await self._offer_media(only_if_gone)
        except (SimulationError, socketio.exceptions.SocketIOError, TimeoutError) as exc:
            log.info("%s: a new offer failed (%s); the next join offers again", self.name, exc)

    # --- media -----------------------------------------------------------------------------------

    async def connect_media(self) -> None:
        """Offer (again): a new peer connection, as a browser does when it rejoins."""
        self._wants_media = True
        await self._offer_media()

    async def _on_moving(self, data: Any = None) -> None:
        """The room moves to another node (its node drains): join there and connect new media
        before closing the old, so that the sound and picture go on meanwhile."""
        url = data.get("url") if isinstance(data, dict) else None
        if isinstance(url, str) and url:
            self._spawn(self._move(url.rstrip("/")))

    async def _move(self, url: str) -> None:
        self._swap_client()
        self._dropped.set()  # (calls waiting on the old socket get no answer)
        self._joined = False
        self.base_url = url
        try:
            await self._connect_socket()
            admission = await self._join()
        except (SimulationError, socketio.exceptions.SocketIOError, OSError, TimeoutError) as exc:
            log.info("%s: moving to %s failed (%s); coming back", self.name, url, exc)
            await self._on_disconnect("move failed")
            return
        if admission == "admitted" and self._wants_media:
            await self._offer_media(keep_old=True)

    async def _offer_media(self, only_if_gone: bool = False, keep_old: bool = False) -> None:
        """A new peer connection; ``keep_old``: the old one is closed only once the new one is
        connected (or failed, or 5 s passed)."""
        async with self._media_lock:
            if self._closing or (only_if_gone and not self._media_gone()):
                return
            self._media_join = self._joins
            old, self.media = (self.media, None) if keep_old else (None, self.media)
            await self._drop_media()
            width, height, fps = self._video
            media = self.media = SyntheticSite(
                self.name,
                camera=PatternTrack(width, height, fps) if self._publish_video else None,
                camera_low=PatternTrack(width // 2, height // 2, fps) if self._low_video else None,
                microphone=ToneTrack(self._tone),
                slots=self._slots,
                ice_addresses=self._ice,
                read_stamps=self._read_stamps,
                camera_bitrate=self._video_bitrate,
            )
            self._watch(media)
            try:
                sdp, layout = await media.offer()
                answer = await self.call("offer", {"sdp": sdp, "layout": layout})
                await media.accept(answer["sdp"])
                if old is not None:
                    await carries_on(old, media, 5.0)
            finally:
                if old is not None:
                    self._past.append(old.received)
                    await old.close()

    async def _drop_media(self) -> None:
        media, self.media = self.media, None
        if media is not None:
            self._past.append(media.received)
            await media.close()

    def report(self) -> SiteReport:
        now = time.monotonic()
        history = [*self._past, self.media.received] if self.media else list(self._past)
        videos = {slot for slot, kind in self._slots if kind == "video"}
        runs = [VideoRun.of([h[slot] for h in history if slot in h], now) for slot in videos]
        best = max(runs, key=lambda r: r.frames, default=VideoRun(0, 0.0, 0.0))
        audio = sum(r.frames for h in history for r in h.values() if r.kind == "audio")
        return SiteReport(
            site=self.name,
            frames_received=best.frames,
            fps=round(best.fps, 1),
            audio_packets_received=audio,
            packets_lost=self.media.packets_lost() if self.media else 0,
            reconnects=self.reconnects,
            longest_media_gap_s=round(best.longest_gap, 2),
            revoked=self.revoked,
        )

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.media is not None:
            await self.media.close()
            self.media = None
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        if self._http is not None:
            await self._http.close()
            self._http = None


async def _hang_up(client: socketio.AsyncClient) -> None:
    with contextlib.suppress(Exception):
        await client.disconnect()


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
