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

from sqlalchemy import select

from server.allocator import HeapTrimmer
from server.config import Config
from server.db import Database
from server.identity import Identity
from server.invitations.operations import create_invitation
from server.live.simulate import SimulatedSite, SiteReport, run_sites
from server.live.simulate_console import Operator
from server.models import Role, Site
from server.signed_tokens import TokenSigner

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
                    TokenSigner(config.secret_key),
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
                f"simulate-sites: the console could not join ({operator.refusal}); "
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
        heap = HeapTrimmer()  # (the sites' packets fragment this process's heap as well)
        heap.start()
        try:
            return await run_sites(sites, duration)
        finally:
            await heap.close()
            if admitting is not None:
                admitting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await admitting
    finally:
        if operator is not None:
            await operator.close()


async def _admit_all(operator: Operator, sites: list[SimulatedSite]) -> None:
    """Admit each simulated site whenever it reaches the lobby (after a server restart too);
    once all have joined, give one of them the floor, again in each new room that has no
    floor holder."""
    granted = 0  # the operator's join in which the floor was last handed out
    asked: dict[int, float] = {}  # site id: when it was last admitted (asked again after 2 s)
    loop = asyncio.get_running_loop()
    while True:
        for site in sites:
            site_id = site.site_id
            if site_id is None or site.admission != "lobby" or not operator.sio.connected:
                continue
            if loop.time() - asked.get(site_id, -9.0) > 2:
                asked[site_id] = loop.time()
                with contextlib.suppress(Exception):  # the next round tries again
                    await operator.call("admit", {"site_id": site.site_id})
        joined = all(s.site_id is not None and s.admission for s in sites)
        if joined and granted < operator.joins and operator.sio.connected:
            if operator.state.get("floor", {}).get("holder") is not None:
                granted = operator.joins
            else:
                with contextlib.suppress(Exception):
                    if await _grant_floor(operator, sites):
                        granted = operator.joins
        await asyncio.sleep(0.1)


async def _grant_floor(operator: Operator, sites: list[SimulatedSite]) -> bool:
    """The floor to the first simulated site that is not the main hall, once it is admitted in
    the operator's room; True when granted (or there is no such site)."""
    room = {s["site_id"]: s for s in operator.state.get("sites", [])}
    if any(s.site_id not in room for s in sites):
        return False  # not all in this room yet
    speaker = next((s for s in sites if not room[s.site_id]["main_hall"]), None)
    if speaker is None:
        return True
    if room[speaker.site_id]["admission"] != "admitted":
        return False
    answer = await operator.call("floor.grant", {"site_id": speaker.site_id})
    return bool(answer.get("ok"))


def failed(reports: list[SiteReport]) -> list[str]:
    return [r.site for r in reports if r.frames_received == 0 or r.audio_packets_received == 0]
