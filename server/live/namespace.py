"""The ``/room`` socket.io namespace: docs/signalling.md, server side.

Each handler validates its payload, checks who may do it, calls the room, and answers with an
acknowledgement ``{"ok": true, ...}`` or ``{"ok": false, "code", "detail"}``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

import socketio
from pydantic import BaseModel, ValidationError

from rooms.peer_id import PeerId, site_number
from rooms.room import BridgeRoom
from rooms.roster import RoomError, RoomEvent
from server.accounts.grants import LiveGrants
from server.accounts.sessions import identity_for_socket
from server.conferences.access import conference_roles
from server.config import Config
from server.db import Database
from server.errors import DomainError, NotFound
from server.live import schemas
from server.live.ice import ice_servers
from server.live.interpreting import Interpreting
from server.live.limits import Kind, Limits, identity_key
from server.live.members import (
    Answer,
    Member,
    On,
    Refused,
    conference_room,
    refusal,
    site_room,
)
from server.live.opening import closed_for
from server.live.registry import LiveRooms, RoomElsewhere
from server.live.sent import (
    SITE_NOTICES,
    ChatMessage,
    RoomEventNotice,
    RoomState,
    SiteRejoin,
    room_state,
)
from server.live.sizes import too_large
from server.models import Conference, ConferenceStatus, Role
from server.sent import Revoked, Sent, send

log = logging.getLogger(__name__)

NAMESPACE = "/room"
CHAIR_ROLES = frozenset({Role.ORGANISER, Role.TECHNICIAN})


class RoomHandlers(Protocol):
    """What a feature adds to the namespace: its events and their handlers."""

    def handlers(self) -> dict[str, On]: ...


class RoomNamespace(socketio.AsyncNamespace):
    def __init__(
        self,
        config: Config,
        database: Callable[[], Database],
        rooms: Callable[[], LiveRooms],
        grants: Callable[[], LiveGrants],
    ) -> None:
        super().__init__(NAMESPACE)
        self._config = config
        self._database = database
        self._rooms = rooms
        self._grants = grants
        self.members: dict[str, Member] = {}
        self.limits = Limits()
        self._interpreting = Interpreting(self)
        self._join_fields: dict[str, Callable[[int], Sent]] = {}
        self._handlers: dict[str, On] = {
            "join": On(schemas.Join, self._join),
            "ping": On(schemas.Empty, self._ping),
            "offer": On(schemas.Offer, self._offer),
            "leave": On(schemas.Empty, self._leave),
            "floor.request": On(schemas.Empty, self._floor_request),
            "floor.withdraw": On(schemas.Empty, self._floor_withdraw),
            "chat": On(schemas.Chat, self._chat),
            "admit": On(schemas.SiteRef, self._admit),
            "refuse": On(schemas.SiteRef, self._refuse),
            "remove": On(schemas.SiteRef, self._remove),
            "rejoin": On(schemas.SiteRef, self._rejoin),
            "mute": On(schemas.Mute, self._mute),
            "lock": On(schemas.Lock, self._lock),
            "floor.grant": On(schemas.FloorGrant, self._floor_grant),
            "floor.release": On(schemas.Empty, self._floor_release),
            "present": On(schemas.Present, self._present),
            **self._interpreting.handlers(),
        }

    def add_handlers(self, feature: RoomHandlers) -> None:
        """A feature's events on ``/room`` (health, site checks, signing, recording), added by
        the app factory: this namespace imports none of the features that build on it."""
        events = feature.handlers()
        clash = events.keys() & self._handlers.keys()
        if clash:
            raise ValueError(f"events handled twice: {sorted(clash)}")
        self._handlers.update(events)

    def payloads(self) -> dict[str, type[BaseModel]]:
        """The client → server events handled and their payloads' models (docs/signalling.md
        defines each, with the same fields)."""
        return {event: on.payload for event, on in self._handlers.items()}

    def add_to_join(self, name: str, field: Callable[[int], Sent]) -> None:
        """``name`` in every join answer: ``field(conference_id)`` (the recording's state)."""
        self._join_fields[name] = field

    # --- plumbing ------------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        async with self._database().session() as db:
            who = await identity_for_socket(db, environ, auth)
        if not who.signed_in:
            raise socketio.exceptions.ConnectionRefusedError(
                {"code": "unauthorized", "detail": "sign in before connecting"}
            )
        self.members[sid] = Member(who)
        self._grants().watch((NAMESPACE, sid), who, lambda why: self._revoked(sid, why))

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._grants().forget((NAMESPACE, sid))
        member = self.members.pop(sid, None)
        if member is not None and member.check is not None:
            await member.check.close()
        if member is None or member.conference_id is None:
            return
        room = self._rooms().get(member.conference_id)
        if room is None:
            return
        if member.as_ == "interpreter":
            self._interpreting.departed(sid, member, room)
        elif member.as_ == "console":
            await room.console_left(PeerId.console(sid))

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid, data = args[0], args[1] if len(args) > 1 else None
        on = self._handlers.get(event)
        member = self.members.get(sid)
        if on is None or member is None:
            return refusal("invalid", f"unknown event {event!r}")
        grants = self._grants()
        await grants.current()  # a withdrawal announced before this event is applied first
        ended = grants.ended((NAMESPACE, sid))
        if ended is not None or self.members.get(sid) is not member:
            why = ended or "closed"
            return refusal("revoked", f"this connection's access was withdrawn ({why})")
        if not self.limits.take("events", identity_key(member.identity)):
            return refusal("rate_limited", "too many messages; slow down")
        if (oversized := too_large(event, data)) is not None:
            return oversized
        try:
            body = on.payload.model_validate({} if data is None else data)
            answer = await on.handler(sid, member, body)
            await self._rooms().settled()  # acknowledged means kept (server/live/store.py)
            return answer
        except Refused as exc:
            return {**refusal(exc.code, exc.detail), **exc.extra}
        except RoomError as exc:
            return refusal(exc.code, exc.message)
        except DomainError as exc:  # an operation's refusal (the one place it is mapped)
            return refusal(exc.code, exc.message)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in problem["loc"]) or "(payload)"
            return refusal("invalid", f"{where}: {problem['msg']}")
        except Exception:
            log.exception("room event %s failed", event)
            return refusal("internal_error", "something went wrong on our side")

    def database(self) -> Database:
        return self._database()

    def limit(self, kind: Kind, member: Member) -> None:
        """Spend one of ``kind`` for the member's identity (and its site, for chat and room
        events); refused when either has none left."""
        keys = [identity_key(member.identity)]
        if kind in ("chat", "room_events") and member.site_id is not None:
            keys.append(f"site:{member.conference_id}:{member.site_id}")
        if kind == "room_events":
            keys = [f"conference:{member.conference_id}"]
        if not self.limits.take(kind, *keys):
            detail = {
                "chat": "at most two chat messages a second",
                "join": "joining again too often; wait a few seconds",
                "room_events": "this room is busy; try again in a moment",
            }.get(kind, "too many messages; slow down")
            raise Refused("rate_limited", detail)

    async def roster_changed(self, conference_id: int) -> None:
        """The conference's sites, booths or interpreters changed: its open room follows at
        once, and a connection that lost its place (its site deleted, its interpreter no
        longer in the booth) is ended with that reason."""
        deleted = set(await self._rooms().refresh(conference_id))
        room = self._rooms().get(conference_id)
        if room is None:
            return
        booths = room.booths
        for sid, member in list(self.members.items()):
            if member.conference_id != conference_id:
                continue
            if member.as_ == "site" and member.site_id in deleted:
                await self._revoked(sid, "site_deleted")
            elif member.as_ == "interpreter":
                booth = booths.get(member.language or "")
                staff = booth.info.interpreters if booth else ()
                if PeerId.interpreter(member.identity.user_id) not in staff:
                    await self._revoked(sid, "booth_unassigned")

    async def _revoked(self, sid: str, reason: str) -> None:
        """The connection's grant is gone: say why, close its media, then the socket."""
        member = self.members.get(sid)
        if member is None:
            return
        await self.tell(Revoked(code=reason), to=sid)
        room = self._rooms().get(member.conference_id) if member.conference_id else None
        if room is not None and member.as_ == "site" and member.site_id is not None:
            others = any(
                other is not member
                and other.site_id == member.site_id
                and other.conference_id == member.conference_id
                and self._grants().ended((NAMESPACE, other_sid)) is None
                for other_sid, other in self.members.items()
            )
            site = str(member.site_id)
            if others:  # another connection still speaks for the site: it offers again
                await room.drop_peer(site)
                await self.tell(
                    SiteRejoin(site_id=member.site_id),
                    room=site_room(member.conference_id or 0, member.site_id),
                    skip_sid=sid,
                )
            elif room.sites.get(site) is not None and room.state(site).admission in (
                "lobby",
                "admitted",
            ):
                await room.leave(site)
        await self.disconnect(sid)

    def live_rooms(self) -> LiveRooms:
        return self._rooms()

    async def tell(
        self,
        payload: Sent,
        *,
        to: str | None = None,
        room: str | None = None,
        skip_sid: str | None = None,
    ) -> None:
        """``payload`` to one connection (``to``) or a socket.io room: every event this
        namespace sends goes out here, dumped by its model."""
        await send(self, payload, to=to, room=room, skip_sid=skip_sid)

    def ice_addresses(self) -> list[str]:
        return list(self._config.ice_host_addresses)

    def ice_servers(self, member: Member) -> list[dict[str, Any]]:
        """The ICE servers for ``member``'s browser, with fresh TURN credentials."""
        return ice_servers(self._config, member.identity)

    def room_of(self, member: Member) -> BridgeRoom:
        room = self._rooms().get(member.conference_id) if member.conference_id else None
        if room is None:
            raise Refused("not_joined", "join a conference first")
        return room

    def chair_room(self, member: Member) -> BridgeRoom:
        room = self.room_of(member)
        if not member.can_chair:
            raise Refused("forbidden", "only the conference's organisers and technicians may")
        return room

    def _site(self, member: Member) -> tuple[BridgeRoom, int]:
        room = self.room_of(member)
        if member.as_ != "site" or member.site_id is None:
            raise Refused("forbidden", "only a site may do this")
        return room, member.site_id

    # --- joining and media ---------------------------------------------------------------------

    async def _join(self, sid: str, member: Member, body: schemas.Join) -> Answer:
        if member.conference_id is not None:
            raise Refused("invalid", "this connection has already joined")
        self.limit("join", member)
        who = member.identity
        async with self._database().session() as db:
            try:
                held = await conference_roles(db, who, body.conference_id)
            except NotFound:
                raise Refused("forbidden", f"there is no conference {body.conference_id}") from None
            conference = await db.get(Conference, body.conference_id)
        assert conference is not None
        can_chair = bool(held & CHAIR_ROLES) and who.guest is None
        closed = closed_for(
            ConferenceStatus(conference.status),
            conference.starts_at,
            dt.datetime.now(dt.UTC),
            dt.timedelta(minutes=self._config.room_opens_minutes),
            chair=can_chair,
        )
        if closed is not None:
            opens_at = closed.opens_at.isoformat() if closed.opens_at else None
            raise Refused(closed.code, closed.detail, opens_at=opens_at)
        site_id = body.site_id
        if body.as_ == "interpreter":
            room = await self._open(body.conference_id)
            booth = room.booths.get(body.language or "")
            if booth is None or PeerId.interpreter(who.user_id) not in booth.info.interpreters:
                raise Refused("forbidden", "only this booth's interpreters may work in it")
            member.language, site_id = body.language, None
        elif body.as_ == "console":
            if not can_chair:
                raise Refused("forbidden", "the console is for organisers and technicians")
            site_id = None
        elif who.guest is not None:
            if who.guest.conference_id != body.conference_id:
                raise Refused("forbidden", "this invitation is for another conference")
            if site_id not in (None, who.guest.site_id):
                raise Refused("forbidden", "this invitation is for another site")
            site_id = who.guest.site_id
        elif not can_chair or site_id is None:
            raise Refused("forbidden", "sites join through their invitation link")
        room = await self._open(body.conference_id)
        admission = "admitted"
        if site_id is not None:
            admission = room.arrive(str(site_id))
            if can_chair and admission == "lobby":
                room.admit(str(site_id))
                admission = "admitted"
            await self.enter_room(sid, site_room(body.conference_id, site_id))
        member.conference_id, member.as_ = body.conference_id, body.as_
        member.site_id, member.can_chair = site_id, can_chair
        await self.enter_room(sid, conference_room(body.conference_id))
        listening = None
        if body.as_ == "interpreter":
            await self._interpreting.arrived(sid, member, room)
        else:
            listening = await self._interpreting.listening(member)
        return {
            "ok": True,
            "as": body.as_,
            "site_id": site_id,
            "admission": admission,
            "can_chair": can_chair,
            "ice_servers": self.ice_servers(member),
            "room": room_state(body.conference_id, room.snapshot()).wire(),
            "listening": listening,
            "interpreter": PeerId.interpreter(who.user_id) if body.as_ == "interpreter" else None,
            **{name: field(body.conference_id).wire() for name, field in self._join_fields.items()},
            "nodes": self._rooms().node_urls(),
        }

    async def _ping(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        """Proves the socket works end to end (a page checks it after its media stalled)."""
        return {"ok": True}

    async def _offer(self, sid: str, member: Member, body: schemas.Offer) -> Answer:
        room = self.room_of(member)
        if member.as_ == "console":
            sdp = await room.connect_console(PeerId.console(sid), body.sdp, body.layout)
        elif member.as_ == "interpreter":
            assert member.language is not None
            sdp = await room.connect_interpreter(
                PeerId.interpreter(member.identity.user_id), member.language, body.sdp, body.layout
            )
        else:
            room, site_id = self._site(member)
            sdp = await room.connect_site(str(site_id), body.sdp, body.layout)
        return {"ok": True, "sdp": sdp}

    async def _leave(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        room = self.room_of(member)
        if member.as_ == "site" and member.site_id is not None:
            await room.leave(str(member.site_id))
        await self.on_disconnect(sid)
        self.members[sid] = Member(member.identity)
        self._grants().watch((NAMESPACE, sid), member.identity, lambda why: self._revoked(sid, why))
        return {"ok": True}

    # --- floor and chat ------------------------------------------------------------------------

    async def _floor_request(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        room, site_id = self._site(member)
        return {"ok": True, "position": room.request_floor(str(site_id))}

    async def _floor_withdraw(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        room, site_id = self._site(member)
        room.withdraw_floor(str(site_id))
        return {"ok": True}

    async def _chat(self, sid: str, member: Member, body: schemas.Chat) -> Answer:
        self.room_of(member)
        self.limit("chat", member)
        self.limit("room_events", member)
        event = RoomEvent(
            "chat", str(member.site_id) if member.site_id else None, {"text": body.text}
        )
        assert member.conference_id is not None
        self._rooms().record(member.conference_id, event, member.identity.actor)
        message = ChatMessage(
            from_=member.name, site_id=member.site_id, text=body.text, at=event.at.isoformat()
        )
        await self.tell(message, room=conference_room(member.conference_id))
        return {"ok": True}

    # --- chair actions -------------------------------------------------------------------------

    async def _admit(self, sid: str, member: Member, body: schemas.SiteRef) -> Answer:
        self.chair_room(member).admit(str(body.site_id))
        return {"ok": True}

    async def _refuse(self, sid: str, member: Member, body: schemas.SiteRef) -> Answer:
        self.chair_room(member).refuse(str(body.site_id))
        return {"ok": True}

    async def _remove(self, sid: str, member: Member, body: schemas.SiteRef) -> Answer:
        await self.chair_room(member).remove(str(body.site_id))
        return {"ok": True}

    async def _open(self, conference_id: int) -> BridgeRoom:
        """The conference's room on this node; in a cluster, refused with where it is when
        another node holds it (docs/signalling.md, ``room_elsewhere``)."""
        try:
            return await self._rooms().room(conference_id)
        except RoomElsewhere as elsewhere:
            raise Refused(
                "room_elsewhere", str(elsewhere), node=elsewhere.node, url=elsewhere.url
            ) from None

    async def _rejoin(self, sid: str, member: Member, body: schemas.SiteRef) -> Answer:
        room = self.chair_room(member)
        room.state(str(body.site_id))
        assert member.conference_id is not None
        rejoin = SiteRejoin(site_id=body.site_id)
        await self.tell(rejoin, room=site_room(member.conference_id, body.site_id))
        return {"ok": True}

    async def _mute(self, sid: str, member: Member, body: schemas.Mute) -> Answer:
        self.chair_room(member).mute(str(body.site_id), body.muted)
        return {"ok": True}

    async def _lock(self, sid: str, member: Member, body: schemas.Lock) -> Answer:
        self.chair_room(member).lock(body.locked)
        return {"ok": True}

    async def _floor_grant(self, sid: str, member: Member, body: schemas.FloorGrant) -> Answer:
        self.chair_room(member).grant_floor(str(body.site_id), body.limit_seconds)
        return {"ok": True}

    async def _floor_release(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        self.chair_room(member).release_floor()
        return {"ok": True}

    async def _present(self, sid: str, member: Member, body: schemas.Present) -> Answer:
        site = str(body.site_id) if body.site_id is not None else None
        self.chair_room(member).present(site)
        return {"ok": True}

    # --- from the room to its clients ----------------------------------------------------------

    async def publish(self, conference_id: int, event: RoomEvent, state: RoomState) -> None:
        everyone = conference_room(conference_id)
        site_id = site_number(event.site_id)
        notice = RoomEventNotice(
            type=event.type, site_id=site_id, data=event.data, at=event.at.isoformat()
        )
        await self.tell(notice, room=everyone)
        await self.tell(state, room=everyone)
        direct = SITE_NOTICES.get(event.type)
        if direct is not None and site_id is not None:
            await self.tell(direct(site_id=site_id), room=site_room(conference_id, site_id))
        if event.type == "room.ended":  # its connections are joined to nothing now
            for sid, member in list(self.members.items()):
                if member.conference_id == conference_id:
                    for joined in self.rooms(sid):
                        if joined != sid:
                            await self.leave_room(sid, joined)
                    fresh = Member(member.identity, check=member.check)
                    fresh.check_site = member.check_site
                    self.members[sid] = fresh
