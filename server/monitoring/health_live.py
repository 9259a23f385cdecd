"""The health part of the ``/room`` namespace (docs/signalling.md, "Connection health").

Technicians (and organisers) watch a conference's health, acknowledge alerts and ask a site
for a key frame; every site page and interpreter console sends its own ``getStats()``
summary every 2 s. Handlers validate, check who may, call the room or the hub, answer.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import Field, model_validator

from rooms.health import Change
from rooms.peer_id import PeerId
from server.fields import RecordId
from server.live import schemas
from server.live.context import RoomContext
from server.live.members import Answer, Member, On, Refused
from server.live.schemas import Payload
from server.monitoring.hub import HealthHub, health_room


class BrowserStats(Payload):
    """A page's ``getStats()`` summary for the last window (see static/js/health_report.js)."""

    inbound_loss: float | None = Field(default=None, ge=0, le=1)
    inbound_jitter: float | None = Field(default=None, ge=0, le=60)
    frames_decoded: int | None = Field(default=None, ge=0, le=10**9)
    freezes: int | None = Field(default=None, ge=0, le=10**6)
    freezes_delta: int | None = Field(default=None, ge=0, le=10**6)
    outbound_bitrate: float | None = Field(default=None, ge=0, le=10**10)
    limitation: str | None = Field(default=None, max_length=20)
    candidate_rtt: float | None = Field(default=None, ge=0, le=60)
    candidate_type: str | None = Field(default=None, max_length=20)
    audio_level: float | None = Field(default=None, ge=0, le=1)
    devices_changed: bool | None = None
    # What its people experienced since its previous report (docs/signalling.md).
    freeze_seconds_delta: float | None = Field(default=None, ge=0, le=3600, strict=True)
    concealed_audio: float | None = Field(default=None, ge=0, le=1, strict=True)
    audio_samples: int | None = Field(default=None, ge=0, le=10**9, strict=True)
    reconnections: int | None = Field(default=None, ge=0, le=10**6, strict=True)

    @model_validator(mode="after")
    def _weighted(self) -> BrowserStats:
        if self.concealed_audio is not None and self.audio_samples is None:
            raise ValueError("concealed_audio needs audio_samples, the samples it is a share of")
        return self


class AlertRef(Payload):
    alert_id: RecordId


class SiteOnly(Payload):
    site_id: RecordId


class HealthHandlers:
    def __init__(self, namespace: RoomContext, hub: Callable[[], HealthHub]) -> None:
        self._ns = namespace
        self._hub = hub

    def handlers(self) -> dict[str, On]:
        return {
            "health.watch": On(schemas.Empty, self._watch),
            "health.report": On(BrowserStats, self._report),
            "health.ack": On(AlertRef, self._ack),
            "health.keyframe": On(SiteOnly, self._keyframe),
        }

    async def _watch(self, sid: str, member: Member, _: schemas.Empty) -> Answer:
        self._ns.chair_room(member)
        assert member.conference_id is not None
        await self._ns.enter_room(sid, health_room(member.conference_id))
        return {"ok": True, **(await self._hub().snapshot(member.conference_id))}

    async def _report(self, sid: str, member: Member, body: BrowserStats) -> Answer:
        room = self._ns.room_of(member)
        if member.as_ == "site" and member.site_id is not None:
            subject = f"site:{member.site_id}"
        elif member.as_ == "interpreter":
            subject = PeerId.interpreter(member.identity.user_id)
        else:
            raise Refused("forbidden", "only sites and interpreters report their statistics")
        room.health.browser_report(subject, body.model_dump(exclude_none=True))
        return {"ok": True}

    async def _ack(self, sid: str, member: Member, body: AlertRef) -> Answer:
        room = self._ns.chair_room(member)
        assert member.conference_id is not None
        alert = room.health.acknowledge(body.alert_id, member.name)
        if alert is None:
            raise Refused("unknown_alert", f"there is no alert {body.alert_id} in this room")
        change = Change("acknowledged", alert["subject"], alert)
        await self._hub().announce(member.conference_id, change, member.identity.actor)
        return {"ok": True, "alert": alert}

    async def _keyframe(self, sid: str, member: Member, body: SiteOnly) -> Answer:
        room = self._ns.chair_room(member)
        peer = room.state(str(body.site_id)).peer
        if peer is None:
            raise Refused("not_connected", "this site has no media connection now")
        asked = [s.name for s in peer.sources.values() if s.kind == "video"]
        for source in peer.sources.values():
            source.request_keyframe()
        return {"ok": True, "asked": asked}
