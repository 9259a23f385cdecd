"""``concord simulate-sites``: fill a conference's room with synthetic sites.

Invitation links are made with this installation's secret key (the command reads the same
configuration as the server), so the sites join exactly as browsers do. With an API token of
someone who may chair the conference (``--token`` or ``CONCORD_API_TOKEN``) the command also
takes the console: it admits its own sites and gives the floor to one of them, so the main
hall receives a floor picture too. Without one, a person admits them from the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

import socketio
from sqlalchemy import select

from server.accounts.identity import Identity
from server.config import Config
from server.db import Database
from server.invitations.operations import create_invitation
from server.live.simulate import SimulatedSite, SiteReport, run_sites
from server.models import Role, Site
from server.signing import Signer

TONES = (440.0, 523.25, 587.33, 659.25, 698.46, 783.99, 880.0, 987.77)


class SimulateError(Exception):
    pass


async def invitation_paths(
    config: Config, conference_id: int, count: int, skip_main_hall: bool
) -> list[tuple[str, str]]:
    """(site name, /join/... path) for ``count`` sites, main hall first unless skipped."""
    database = Database(config.database_url)
    try:
        async with database.session() as db, db.begin():
            sites = list(
                await db.scalars(
                    select(Site)
                    .where(Site.conference_id == conference_id)
                    .order_by(Site.is_main_hall.desc(), Site.id)
                )
            )
            if not sites:
                raise SimulateError(f"conference {conference_id} has no sites (or does not exist)")
            if skip_main_hall:
                sites = [s for s in sites if not s.is_main_hall]
            if count > len(sites):
                raise SimulateError(
                    f"conference {conference_id} has {len(sites)} sites to simulate, not {count}"
                )
            system = Identity(via="anonymous", display_name="simulate-sites")
            paths = []
            for site in sites[:count]:
                made = await create_invitation(
                    db,
                    Signer(config.secret_key),
                    system,
                    conference_id=conference_id,
                    site_id=site.id,
                    role=Role.DELEGATE,
                    valid_hours=6,
                    label=f"{site.name} (simulated)",
                )
                paths.append((site.name, f"/join/{made.token}"))
            return paths
    finally:
        await database.close()


class Operator:
    """The console of whoever runs the simulation: admits its sites, hands out the floor."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.state: dict[str, Any] = {}
        self.sio.on("room.state", self._state, namespace="/room")

    async def _state(self, state: dict[str, Any]) -> None:
        self.state = state

    async def join(self, conference_id: int) -> bool:
        """Join as console; False when the token's user may not chair this conference."""
        await self.sio.connect(
            self.base_url,
            auth={"token": self.token},
            namespaces=["/room"],
            transports=["websocket"],
        )
        answer = await self.sio.call(
            "join", {"conference_id": conference_id, "as": "console"}, namespace="/room", timeout=20
        )
        if not answer.get("ok"):
            return False
        self.state = answer["room"]
        return True

    def main_hall_connected(self) -> bool:
        return any(s["main_hall"] and s["link"] == "connected" for s in self.state.get("sites", []))

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.sio.call(event, data, namespace="/room", timeout=20)
        return answer

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def simulate(
    config: Config,
    conference_id: int,
    count: int,
    duration: float,
    base_url: str,
    token: str | None,
) -> list[SiteReport]:
    operator = Operator(base_url, token) if token else None
    try:
        if operator is not None and not await operator.join(conference_id):
            print(
                "simulate-sites: the token's user may not chair this conference; "
                "admit the sites from the console",
                file=sys.stderr,
            )
            await operator.close()
            operator = None
        skip_hall = operator is not None and operator.main_hall_connected()
        paths = await invitation_paths(config, conference_id, count, skip_hall)
        sites = [
            SimulatedSite(
                base_url,
                path,
                name=name,
                tone_hz=TONES[i % len(TONES)],
                ice_addresses=list(config.ice_host_addresses) or ["127.0.0.1"],
            )
            for i, (name, path) in enumerate(paths)
        ]
        admitting = asyncio.create_task(_admit_all(operator, sites)) if operator else None
        try:
            return await run_sites(sites, duration)
        finally:
            if admitting is not None:
                admitting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await admitting
    finally:
        if operator is not None:
            await operator.close()


async def _admit_all(operator: Operator, sites: list[SimulatedSite]) -> None:
    """Admit each simulated site as it reaches the lobby, then give one of them the floor."""
    pending = set(range(len(sites)))
    while pending:
        for index in list(pending):
            site = sites[index]
            if site.site_id is not None and site.admission:
                if site.admission == "lobby":
                    await operator.call("admit", {"site_id": site.site_id})
                pending.discard(index)
        await asyncio.sleep(0.05)
    speakers = [s for s in sites if s.site_id is not None]
    hall_ids = {s["site_id"] for s in operator.state.get("sites", []) if s["main_hall"]}
    speaker = next((s for s in speakers if s.site_id not in hall_ids), None)
    if speaker is not None:
        await operator.call("floor.grant", {"site_id": speaker.site_id})


def failed(reports: list[SiteReport]) -> list[str]:
    return [r.site for r in reports if r.frames_received == 0 or r.audio_packets_received == 0]
