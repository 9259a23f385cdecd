"""The site check page and the organiser's readiness board (docs/signalling.md, "Site checks").

The check page is static; static/js/site_check.js runs the check over socket.io
(``check.start``, ``check.offer``, ``check.finish``). The readiness board lists each site of
the conference with its last check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from rooms.check import DURATION
from server.conferences.access import conference_roles
from server.conferences.queries import conference_detail
from server.errors import Forbidden, InvalidInput
from server.i18n_strings import N_
from server.keys import DATABASE
from server.live.site_checks import last_checks
from server.models import Conference, Role, Site, SiteCheck, User
from server.monitoring.check_live import CHECKERS, check_out
from server.route_table import RouteTable, conference
from server.web import identity, int_param, render

#: What each failed step means, in words (translated in the template: these are msgids).
FAILED_STEPS = {
    "camera": N_("camera"),
    "microphone": N_("microphone"),
    "speaker": N_("speaker"),
    "network:loss": N_("packet loss"),
    "network:round_trip": N_("round trip"),
    "network:jitter": N_("jitter"),
    "network:bitrate": N_("bitrate too low"),
    "network:connection": N_("no connection"),
}


def _site_param(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise InvalidInput(
            N_("site must be a number, got %(value)s"), code="bad_site", params={"value": repr(raw)}
        )
    return int(raw)


async def check_page(request: web.Request) -> web.Response:
    """A guest checks the invitation's site; an organiser or technician passes ``?site=ID``."""
    conference_id = int_param(request, "conference_id")
    who = identity(request)
    wanted = _site_param(request.query.get("site"))
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        held = await conference_roles(db, who, conference_id)
        checks = await last_checks(db, conference_id)
    sites = {site.id: site for site in found.sites}
    if who.guest is not None:
        if wanted not in (None, who.guest.site_id):
            raise Forbidden(N_("this invitation is for another site"), code="not_your_site")
        site_id = who.guest.site_id
    elif held & CHECKERS:
        if wanted is None:
            raise InvalidInput(N_("choose the site to check: ?site=ID"), code="bad_site")
        site_id = wanted
    else:
        raise Forbidden(N_("a site checks through its invitation link"), code="not_a_site")
    if site_id not in sites:
        raise InvalidInput(
            N_("conference %(conference)s has no site %(site)s"),
            code="bad_site",
            params={"conference": str(conference_id), "site": str(site_id)},
        )
    previous = checks.get(site_id)
    data: dict[str, Any] = {
        "conference": {"id": found.id, "title": found.title},
        "site": {"id": site_id, "name": sites[site_id].name},
        "last": check_out(previous) if previous else None,
        "readiness": bool(held & CHECKERS),
    }
    return render(
        request,
        "site_check.html",
        {
            "conference": found,
            "site": sites[site_id],
            "data": data,
            "can_chair": data["readiness"],
            "duration": round(DURATION),
        },
    )


@dataclass(frozen=True)
class ReadinessRow:
    site: Site
    technician: str
    check: SiteCheck | None

    @property
    def failed_steps(self) -> list[str]:
        return [FAILED_STEPS.get(step, step) for step in (self.check.failed if self.check else [])]


async def readiness_rows(
    request: web.Request, conference_id: int
) -> tuple[Conference, list[ReadinessRow]]:
    async with request.app[DATABASE].session() as db:
        found = await conference_detail(db, conference_id)
        checks = await last_checks(db, conference_id)
        ids = {s.technician_id for s in found.sites if s.technician_id is not None}
        users = (
            {u.id: u for u in await db.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
        )
    rows = []
    for site in sorted(found.sites, key=lambda s: (not s.is_main_hall, s.name)):
        tech = users.get(site.technician_id) if site.technician_id else None
        who = tech.display_name if tech else site.contact_name
        rows.append(ReadinessRow(site, who, checks.get(site.id)))
    return found, rows


async def readiness_page(request: web.Request) -> web.Response:
    conference_id = int_param(request, "conference_id")
    found, rows = await readiness_rows(request, conference_id)
    counts = {
        "passed": sum(1 for r in rows if r.check and r.check.passed),
        "failed": sum(1 for r in rows if r.check and not r.check.passed),
        "never": sum(1 for r in rows if r.check is None),
    }
    return render(request, "readiness.html", {"conference": found, "rows": rows, "counts": counts})


def add_routes(table: RouteTable) -> None:
    table.get(
        "/conferences/{conference_id}/check",
        check_page,
        conference().narrowed(*CHECKERS, guests=True, why="its organisers, technicians, guests"),
        name="site_check",
    )
    table.get(
        "/conferences/{conference_id}/readiness",
        readiness_page,
        conference(Role.ORGANISER, Role.TECHNICIAN),
        name="readiness",
    )
