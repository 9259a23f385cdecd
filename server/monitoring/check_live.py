"""Pre-conference site checks: the socket.io events (docs/signalling.md, "Site checks"), the
stored results and the organiser's readiness board.

A site's technician opens the check from the invitation link days before the conference; an
organiser or technician may run it for any site. The page tests camera, microphone and
speaker locally and runs a 20-second loopback call through Concord's media path
(``rooms.check``); Concord measures it from its side, the page adds its own figures, and the
result is stored. The last result of each site is on the readiness board, and a site whose
last check failed is flagged when it arrives in the lobby.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from rooms.check import DURATION, CheckCall, CheckError
from rooms.health import Thresholds
from server.conferences.access import conference_roles
from server.errors import NotFound
from server.fields import RecordId
from server.live.context import RoomContext
from server.live.members import Answer, Member, On, Refused
from server.live.registry import note_check
from server.live.schemas import Offer, Payload
from server.live.site_checks import last_checks
from server.models import Role, Site, SiteCheck

Outcome = Literal["ok", "failed", "skipped"]
DEVICES = ("camera", "microphone", "speaker")
CHECKERS = frozenset({Role.ORGANISER, Role.TECHNICIAN})


class CheckStart(Payload):
    conference_id: RecordId
    site_id: RecordId | None = None


class PageFigures(Payload):
    """What the page measured on the loopback call (all optional)."""

    rtt: float | None = Field(default=None, ge=0, le=60)
    loss: float | None = Field(default=None, ge=0, le=1)
    bitrate_up: float | None = Field(default=None, ge=0, le=10**10)
    bitrate_down: float | None = Field(default=None, ge=0, le=10**10)
    candidate_type: str | None = Field(default=None, max_length=20)


class CheckFinish(Payload):
    devices: dict[Literal["camera", "microphone", "speaker"], Outcome]
    browser: PageFigures = PageFigures()
    user_agent: str = Field(default="", max_length=400)


def check_out(row: SiteCheck) -> dict[str, Any]:
    return {
        "id": row.id,
        "site_id": row.site_id,
        "at": row.at.isoformat(),
        "passed": row.passed,
        "failed": list(row.failed),
        "rtt": row.rtt,
        "loss": row.loss,
        "bitrate": row.bitrate,
        "results": row.results,
        "by": row.by,
    }


class SiteCheckHandlers:
    def __init__(self, namespace: RoomContext, thresholds: Thresholds) -> None:
        self._ns = namespace
        self._thresholds = thresholds

    def handlers(self) -> dict[str, On]:
        return {
            "check.start": On(CheckStart, self._start),
            "check.offer": On(Offer, self._offer),
            "check.finish": On(CheckFinish, self._finish),
        }

    async def _start(self, sid: str, member: Member, body: CheckStart) -> Answer:
        if member.check is not None or member.conference_id is not None:
            raise Refused("invalid", "this connection is already in a check or a room")
        who = member.identity
        async with self._ns.database().session() as db:
            try:
                held = await conference_roles(db, who, body.conference_id)
            except NotFound:
                raise Refused("forbidden", f"there is no conference {body.conference_id}") from None
            if who.guest is not None:
                if who.guest.conference_id != body.conference_id:
                    raise Refused("forbidden", "this invitation is for another conference")
                if body.site_id not in (None, who.guest.site_id):
                    raise Refused("forbidden", "this invitation is for another site")
                site_id = who.guest.site_id
            elif held & CHECKERS and body.site_id is not None:
                site_id = body.site_id
            else:
                raise Refused("forbidden", "a site checks through its invitation link")
            site = await db.get(Site, site_id)
            if site is None or site.conference_id != body.conference_id:
                raise Refused("bad_site", f"conference {body.conference_id} has no site {site_id}")
            previous = (await last_checks(db, body.conference_id)).get(site_id)
        member.check = CheckCall(str(site_id), ice_addresses=self._ns.ice_addresses())
        member.check_site = (body.conference_id, site_id)
        return {
            "ok": True,
            "site_id": site_id,
            "site_name": site.name,
            "duration": DURATION,
            "ice_servers": self._ns.ice_servers(member),
            "last": check_out(previous) if previous else None,
        }

    async def _offer(self, sid: str, member: Member, body: Offer) -> Answer:
        if member.check is None:
            raise Refused("not_checking", "start a check first")
        try:
            return {"ok": True, "sdp": await member.check.answer(body.sdp, body.layout)}
        except CheckError as exc:
            raise Refused("bad_offer", str(exc)) from None

    async def _finish(self, sid: str, member: Member, body: CheckFinish) -> Answer:
        call, where = member.check, member.check_site
        if call is None or where is None:
            raise Refused("not_checking", "start a check first")
        network = call.summary(self._thresholds)
        await call.close()
        member.check, member.check_site = None, None
        devices = {name: body.devices.get(name, "skipped") for name in DEVICES}  # type: ignore[call-overload]
        failed = [name for name, outcome in devices.items() if outcome == "failed"]
        failed += [f"network:{reason}" for reason in network.failed]
        row = SiteCheck(
            conference_id=where[0],
            site_id=where[1],
            at=dt.datetime.now(dt.UTC),
            passed=not failed,
            failed=failed,
            rtt=network.rtt,
            loss=network.loss,
            bitrate=network.uplink_bitrate,
            results={
                "devices": devices,
                "network": network.public(),
                "browser": body.browser.model_dump(exclude_none=True),
            },
            by=member.identity.actor,
            user_agent=body.user_agent,
        )
        async with self._ns.database().session() as db, db.begin():
            db.add(row)
            await db.flush()
            out = check_out(row)
        note_check(self._ns.live_rooms(), where[0], row)
        return {"ok": True, "check": out}
