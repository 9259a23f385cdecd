"""A bridge room: the sites of one live conference, its lobby, its floor, and who sees what.

Every site receives the main hall (video + audio), the floor holder (video + audio) and the
presentation when there is one; consoles (chair, technicians) receive every site as a grid.
Routing is recomputed after every change and applied by switching slots, never by
renegotiating. The room reports what happens as ``RoomEvent``s to the callback it was given;
it knows nothing of the control plane.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from rooms import routing
from rooms.booths import Booth, BoothInfo, Interpretation, InterpretationError
from rooms.channels import Channels
from rooms.floor import Floor, FloorError, Order
from rooms.forwarding import Source
from rooms.health import Thresholds
from rooms.monitor import HealthMonitor, HealthReport, watched_connections
from rooms.peer_id import PeerId
from rooms.plan_changes import PlanChanges
from rooms.quality import Qualities
from rooms.roster import Admission, RoomError, RoomEvent, SiteInfo, SiteState
from rooms.site import PUBLISHED, NegotiationError, SitePeer, check_offer
from rooms.speaker import ActiveSpeaker
from rooms.subscriber import Subscriber
from rooms.tasks import cancelled

log = logging.getLogger(__name__)
T = TypeVar("T")

TICK = 0.25
FIT_EVERY = 4  # ticks: qualities are fitted to the receivers' links once a second


class BridgeRoom(PlanChanges):
    """One conference's bridge room. ``close()`` is safe to call twice."""

    def __init__(
        self,
        room_id: str,
        sites: Mapping[str, SiteInfo],
        *,
        ice_addresses: Sequence[str],
        on_event: Callable[[RoomEvent], None],
        floor_order: Order = "precedence",
        booths: Mapping[str, BoothInfo] | None = None,
        on_health: Callable[[HealthReport], None] | None = None,
        health: Thresholds | None = None,
        on_publishing: Callable[[str, frozenset[str]], None] | None = None,
    ) -> None:
        self.room_id = room_id
        self.sites = {site_id: SiteState(site_id, info) for site_id, info in sites.items()}
        self.floor = Floor(floor_order)
        self.locked = False
        self.presenter: str | None = None
        self._speaker = ActiveSpeaker()
        self.consoles: dict[str, SitePeer] = {}
        self.subscribers: dict[str, Subscriber] = {}  # in-process members: the recorder
        self.channels = Channels(Interpretation(booths or {}))
        self._ice_addresses = list(ice_addresses)
        self._on_event = on_event
        self._ticker: asyncio.Task[None] | None = None
        self.health = HealthMonitor(
            lambda: watched_connections(self.sites, self.channels),
            on_health or (lambda _: None),
            health,
        )
        #: Told which of a site's camera qualities nobody receives now (``rooms.quality``).
        self._qualities = Qualities(on_publishing or (lambda _site, _paused: None))
        self._closed = False

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._ticker is None and not self._closed:
            self._ticker = asyncio.create_task(self._tick(), name=f"room-{self.room_id}")
            self.health.start()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.health.close()
        await cancelled(self._ticker)
        for peer in self.peers():
            await peer.close()
        for subscriber in self.subscribers.values():
            subscriber.close()

    @property
    def booths(self) -> Mapping[str, Booth]:
        """The interpretation booths, by language."""
        return self.channels.interpretation.booths

    def booth_status(self) -> list[dict[str, Any]]:
        """Per booth: who is on air and present, listeners, the channel's audio level."""
        return self.channels.status()

    async def console_left(self, console_id: str) -> None:
        """A console's connection ended: its language choice goes, its peer connection too."""
        self.channels.forget(console_id)
        peer = self.consoles.pop(console_id, None)
        if peer is not None:
            await peer.close()

    def peers(self) -> list[SitePeer]:
        """Every peer connection of the room: sites, consoles, interpreters."""
        sites = [s.peer for s in self.sites.values() if s.peer is not None]
        return sites + list(self.consoles.values()) + self.channels.peers()

    # --- lobby and admission -----------------------------------------------------------------

    def state(self, site_id: str) -> SiteState:
        try:
            return self.sites[site_id]
        except KeyError:
            raise RoomError("unknown_site", f"site {site_id} is not part of this room") from None

    def arrive(self, site_id: str) -> Admission:
        """A site opened its page: admitted sites stay admitted, others wait in the lobby."""
        site = self.state(site_id)
        if site.admission == "admitted":
            return site.admission
        if self.locked:
            raise RoomError("room_locked", "the room is locked; ask the organiser to open it")
        site.admission = "lobby"
        self._emit("lobby.arrived", site_id)
        return site.admission

    def admit(self, site_id: str) -> None:
        site = self.state(site_id)
        if site.admission not in ("lobby", "admitted"):
            raise RoomError("not_in_lobby", f"{site.info.name} is not waiting in the lobby")
        if site.admission == "lobby":
            site.admission = "admitted"
            self._emit("lobby.admitted", site_id)

    def refuse(self, site_id: str) -> None:
        site = self.state(site_id)
        if site.admission != "lobby":
            raise RoomError("not_in_lobby", f"{site.info.name} is not waiting in the lobby")
        site.admission = "refused"
        self._emit("lobby.refused", site_id)

    async def remove(self, site_id: str) -> None:
        site = self.state(site_id)
        site.admission = "removed"
        await self._drop(site)
        self._emit("site.removed", site_id)

    async def leave(self, site_id: str) -> None:
        site = self.state(site_id)
        site.admission = "left"
        await self._drop(site)
        self._emit("site.left", site_id)

    def lock(self, locked: bool) -> None:
        self.locked = locked
        self._emit("room.locked" if locked else "room.unlocked")

    def mute(self, site_id: str, muted: bool) -> None:
        site = self.state(site_id)
        site.muted = muted
        self._emit("site.muted" if muted else "site.unmuted", site_id)
        self._route()

    async def _drop(self, site: SiteState) -> None:
        was_holder = self.floor.holder == site.site_id
        self.floor.forget(site.site_id)
        if was_holder:
            self._emit("floor.released", site.site_id, reason="left")
        if self.presenter == site.site_id:
            self.presenter = None
        peer, site.peer = site.peer, None
        site.link = "offline"
        site.published, site.reconnections = None, 0
        if peer is not None:
            await peer.close()
        self._route()

    # --- media ---------------------------------------------------------------------------------

    async def connect_site(self, site_id: str, offer_sdp: str, layout: Mapping[str, str]) -> str:
        """Answer an admitted site's offer; a reconnecting site's old connection is replaced."""
        site = self.state(site_id)
        if site.admission != "admitted":
            raise RoomError("not_admitted", "wait in the lobby until the chair admits this site")
        wrong = [
            name
            for name in layout.values()
            if name not in routing.SITE_SLOTS and name not in PUBLISHED
        ]
        if wrong:
            raise RoomError("bad_layout", f"a site cannot receive {wrong[0]!r}")
        _check_offer(offer_sdp)  # a bad offer must not cost the site its working connection
        old, site.peer = site.peer, None
        if old is not None:
            await old.close()
        peer = SitePeer(site_id, ice_addresses=self._ice_addresses, on_closed=self._peer_closed)
        try:
            answer = await peer.answer(offer_sdp, layout)
        except NegotiationError as exc:
            await peer.close()
            raise RoomError("bad_offer", str(exc)) from None
        site.peer = peer
        published = frozenset(n for n in layout.values() if n in ("camera", "microphone", "screen"))
        if site.published == published:
            site.reconnections += 1
        site.published = published

        @peer.pc.on("connectionstatechange")
        def changed() -> None:
            if peer.pc.connectionState == "connected" and site.peer is peer:
                site.link = "connected"
                self._emit("site.connected", site_id)
                self._route()

        return answer

    async def connect_console(
        self, console_id: str, offer_sdp: str, layout: Mapping[str, str]
    ) -> str:
        """Answer a chair's or technician's console: grid slots "grid.N.video" and site slots."""
        allowed = routing.SITE_SLOTS
        wrong = [n for n in layout.values() if n not in allowed and not routing.is_grid(n)]
        if wrong:
            raise RoomError("bad_layout", f"a console cannot receive {wrong[0]!r}")
        _check_offer(offer_sdp)
        old = self.consoles.pop(console_id, None)
        if old is not None:
            await old.close()
        peer = SitePeer(
            console_id, ice_addresses=self._ice_addresses, on_closed=self._console_closed
        )
        try:
            answer = await peer.answer(offer_sdp, layout)
        except NegotiationError as exc:
            await peer.close()
            raise RoomError("bad_offer", str(exc)) from None
        self.consoles[console_id] = peer
        peer.pc.on("connectionstatechange", lambda: self._route())
        return answer

    def add_subscriber(self, subscriber: Subscriber) -> None:
        """An in-process member (the recorder): routed like any peer from now on. Its slots
        are site slots ("programme.video", "interpretation.audio"...); its language choice
        (``choose_language``) does not count as a listener in the booths' status."""
        member = subscriber.site_id
        if self._closed:
            raise RoomError("room_closed", "the room has ended")
        taken = member in self.sites or member in self.consoles or member in self.subscribers
        if taken or member in self.channels.interpreters:
            raise RoomError("duplicate_member", f"{member!r} is already in the room")
        for name, slot in subscriber.slots.items():
            if routing.SITE_SLOTS.get(name) != slot.kind:
                raise RoomError("bad_layout", f"a subscriber cannot receive {slot.kind} {name!r}")
        self.subscribers[member] = subscriber
        self.channels.unlisted.add(member)
        self._route()

    async def remove_subscriber(self, subscriber_id: str) -> None:
        subscriber = self.subscribers.pop(subscriber_id, None)
        if subscriber is None:
            raise RoomError("unknown_member", f"{subscriber_id!r} is not subscribed to this room")
        subscriber.close()
        self.channels.forget(subscriber_id)
        self.channels.unlisted.discard(subscriber_id)
        self._route()

    async def _peer_closed(self, peer: SitePeer) -> None:
        site = self.sites.get(peer.site_id)
        if site is None or site.peer is not peer:
            return
        site.peer = None
        if site.admission == "admitted" and not self._closed:
            site.link = "reconnecting"
            self._emit("site.reconnecting", site.site_id)
        self._route()

    async def _console_closed(self, peer: SitePeer) -> None:
        if self.consoles.get(peer.site_id) is peer:
            del self.consoles[peer.site_id]
            self.channels.forget(peer.site_id)

    # --- interpretation ------------------------------------------------------------------------

    async def connect_interpreter(
        self, interpreter: str, language: str, offer_sdp: str, layout: Mapping[str, str]
    ) -> str:
        """An interpreter's console: publishes "microphone" (and "camera" in a sign-language
        booth), hears "source.audio", may watch "hall.video" and "floor.video"."""
        try:
            answer, peer = await self.channels.connect(
                interpreter, language, offer_sdp, layout, self._ice_addresses
            )
        except InterpretationError as exc:
            raise RoomError(exc.code, exc.message) from None
        peer.pc.on("connectionstatechange", lambda: self._route())
        return answer

    def interpret(self, action: str, interpreter: str, language: str) -> None:
        """on_air, off_air, request (a handover) or accept (one) in ``language``'s booth."""
        booths = self.channels.interpretation
        act = {
            "on_air": booths.go_on_air,
            "off_air": booths.go_off_air,
            "request": booths.request_handover,
            "accept": booths.accept_handover,
        }[action]
        self._apply(lambda: act(interpreter, language))

    def interpreter_present(self, interpreter: str, language: str, present: bool) -> None:
        """An interpreter's console opened or closed: leaving takes them off air at once."""
        booths = self.channels.interpretation
        self._apply(lambda: booths.set_present(interpreter, language, present))

    def choose_booth_source(self, interpreter: str, language: str, source: str) -> str:
        """An interpreter hears "auto", "floor" or a relay booth; returns what they hear now."""
        booths = self.channels.interpretation
        self._apply(lambda: booths.choose_source(interpreter, language, source))
        return booths.interpreter_hears(interpreter, language).language or "floor"

    def set_floor_language(
        self, language: str | None, by: str = "chair", speaker: str | None = None
    ) -> None:
        """Tag the floor's language; ``speaker`` is the site whose turn set it (by="speaker")."""
        self._apply(lambda: self.channels.interpretation.set_floor_language(language, by), speaker)

    def choose_language(self, listener: str, language: str | None) -> str:
        """A site or console listens to ``language``'s booth (None: the floor only); returns
        "booth" or "floor" (nobody on air, or the booth is switched out)."""
        unchanged = listener in self.channels.languages
        unchanged = unchanged and self.channels.languages[listener] == language
        heard = self._interpreting(lambda: self.channels.choose(listener, language))
        if not unchanged:  # (a new floor level alone is the listener's own business)
            if listener not in self.channels.unlisted:  # (the recorder is nobody's audience)
                self._emit("listener.language", _site_or_none(listener), language=language)
            self._route()
        return heard.kind

    def _apply(
        self, call: Callable[[], list[tuple[str, dict[str, Any]]]], site_id: str | None = None
    ) -> None:
        for kind, data in self._interpreting(call):
            self._emit(kind, site_id if kind == "floor.language" else None, **data)
        self._route()

    def _interpreting(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except InterpretationError as exc:
            raise RoomError(exc.code, exc.message) from None

    # --- floor and presentation ----------------------------------------------------------------

    def request_floor(self, site_id: str) -> int:
        site = self.state(site_id)
        if site.admission != "admitted":
            raise RoomError("not_admitted", "only admitted sites may ask for the floor")
        try:
            position = self.floor.request(site_id, site.info.precedence)
        except FloorError as exc:
            raise RoomError("floor", str(exc)) from None
        self._emit("floor.requested", site_id, position=position)
        return position

    def withdraw_floor(self, site_id: str) -> None:
        if self.floor.withdraw(site_id):
            self._emit("floor.withdrawn", site_id)

    def grant_floor(self, site_id: str, limit_seconds: int | None = None) -> None:
        site = self.state(site_id)
        if site.admission != "admitted":
            raise RoomError("not_admitted", f"{site.info.name} is not admitted")
        previous = self.floor.holder
        try:
            self.floor.grant(site_id, limit_seconds)
        except FloorError as exc:
            raise RoomError("floor", str(exc)) from None
        if previous and previous != site_id:
            self._emit("floor.released", previous, reason="next speaker")
        self._emit("floor.granted", site_id, limit_seconds=limit_seconds)
        if site.info.language:
            self.set_floor_language(site.info.language, by="speaker", speaker=site_id)
        self._route()

    def release_floor(self, reason: str = "chair") -> None:
        holder = self.floor.release()
        if holder is not None:
            self._emit("floor.released", holder, reason=reason)
            hall = self.sites.get(self._main_hall() or "")
            if hall is not None and hall.info.language:  # the chair's hall speaks again
                self.set_floor_language(hall.info.language, by="speaker", speaker=hall.site_id)
            self._route()

    def present(self, site_id: str | None) -> None:
        """Show ``site_id``'s screen share as the presentation (None: stop)."""
        if site_id is not None:
            peer = self.state(site_id).peer
            if peer is None or "screen" not in peer.sources:
                raise RoomError("no_screen", "this site is not sharing a screen")
        self.presenter = site_id
        self._emit("presentation.started" if site_id else "presentation.stopped", site_id)
        self._route()

    # --- routing -------------------------------------------------------------------------------

    @property
    def speaker(self) -> str | None:
        return self._speaker.speaker

    def _main_hall(self) -> str | None:
        return routing.main_hall(self.sites)

    def routes(self) -> dict[str, Source | None]:
        """What each site slot shows now (before removing a site's own media)."""
        return routing.routes(self.sites, self.floor.holder, self.presenter)

    def _route(self) -> None:
        if self._closed:
            return
        receivers: list[SitePeer | Subscriber] = [s.peer for s in self.sites.values() if s.peer]
        receivers += list(self.consoles.values()) + self.channels.peers()
        receivers += list(self.subscribers.values())
        routing.apply(receivers, self.routes(), routing.grid(self.sites), self.channels)

    def grid_order(self) -> list[str]:
        """Admitted sites in the order consoles show them: main hall, then by precedence."""
        return routing.grid_order(self.sites)

    # --- ticking: speaking time and active speaker ---------------------------------------------

    async def _tick(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK)
            remaining = self.floor.remaining()
            if remaining is not None and remaining <= 0:
                self.release_floor(reason="time limit")
            self._update_speaker()
            ticks += 1
            if ticks % FIT_EVERY == 0:
                self._fit_qualities(time.monotonic())

    def _fit_qualities(self, now: float) -> None:
        """Fit each receiver's video qualities to its link; pause what nobody receives."""
        peers = [s.peer for s in self.sites.values() if s.peer] + list(self.consoles.values())
        published = {s.site_id: s.peer.sources for s in self.sites.values() if s.peer}
        if self._qualities.fit(peers + self.channels.peers(), published, now):
            self._route()

    def _update_speaker(self) -> None:
        if self._speaker.update(self._audible(), time.monotonic()):
            self._emit("speaker.changed", self.speaker)

    def _audible(self) -> list[tuple[str, Source]]:
        routes = self.routes()
        return [(s.site_id, s) for s in (routes["hall.audio"], routes["floor.audio"]) if s]

    def snapshot(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "locked": self.locked,
            "sites": [s.public() for s in self.sites.values()],
            "floor": self.floor.snapshot(),
            "presenter": self.presenter,
            "speaker": self.speaker,
            "grid": self.grid_order(),
            "interpretation": self.channels.snapshot(),
        }

    def _emit(self, kind: str, site_id: str | None = None, **data: Any) -> None:
        try:
            self._on_event(RoomEvent(kind, site_id, data))
        except Exception:  # a broken subscriber must not break the room
            log.exception("room event handler failed for %s", kind)


def _site_or_none(peer_id: str) -> str | None:
    return peer_id if PeerId(peer_id).kind == "site" else None


def _check_offer(offer_sdp: str) -> None:
    try:
        check_offer(offer_sdp)
    except NegotiationError as exc:
        raise RoomError("bad_offer", str(exc)) from None
