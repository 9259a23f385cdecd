"""Loading the demo: idempotent, keyed by user e-mail and conference slug."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.accounts.passwords import Passwords
from server.conferences.bookings import rebook
from server.db import Database
from server.demo.data import CONFERENCES, USERS, demo_password
from server.models import (
    AgendaSession,
    Conference,
    ConferenceLanguage,
    ConferenceMember,
    Delegation,
    DelegationMember,
    InterpreterAssignment,
    Site,
    User,
    UserRole,
)


@dataclass
class DemoReport:
    users_created: list[str] = field(default_factory=list)
    conferences_created: list[str] = field(default_factory=list)
    conferences_present: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"demo conferences: {len(self.conferences_created)} created, "
            f"{len(self.conferences_present)} already present",
            "demo users (e-mail / password / roles):",
        ]
        for user in USERS:
            password = demo_password(user["email"])
            lines.append(f"  {user['email']:<34} {password:<28} {', '.join(user['roles'])}")
        return "\n".join(lines)


async def load_demo(database: Database, passwords: Passwords) -> DemoReport:
    report = DemoReport()
    async with database.session() as db, db.begin():
        users = await _users(db, passwords, report)
        for spec in CONFERENCES:
            exists = await db.scalar(select(Conference.id).where(Conference.slug == spec["slug"]))
            if exists:
                report.conferences_present.append(spec["slug"])
                continue
            conference = _conference(spec, users)
            db.add(conference)
            await db.flush()
            await rebook(db, conference.id)  # its sites, chairs and interpreters are booked
            audit.record(
                db,
                None,
                "demo.conference_loaded",
                "conference",
                conference.id,
                conference_id=conference.id,
                detail={"slug": spec["slug"]},
            )
            report.conferences_created.append(spec["slug"])
    return report


async def _users(db: AsyncSession, passwords: Passwords, report: DemoReport) -> dict[str, User]:
    found: dict[str, User] = {}
    for spec in USERS:
        user, created = await demo_user(db, passwords, spec)
        if created:
            report.users_created.append(user.email)
        found[user.email] = user
    return found


async def demo_user(
    db: AsyncSession, passwords: Passwords, spec: dict[str, Any]
) -> tuple[User, bool]:
    """The demo account ``spec`` describes (e-mail, name, locale, roles), made if missing;
    and whether it was made now."""
    user = await db.scalar(select(User).where(User.email == spec["email"]))
    if user is not None:
        return user, False
    user = User(
        email=spec["email"],
        display_name=spec["name"],
        locale=spec["locale"],
        password_hash=passwords.hash(demo_password(spec["email"])),
        roles=[UserRole(role=r) for r in spec["roles"]],
    )
    db.add(user)
    await db.flush()
    audit.record(db, None, "demo.user_loaded", "user", user.id, detail={"email": user.email})
    return user, True


def _at(date: str, clock: str, zone: str) -> dt.datetime:
    local = dt.datetime.fromisoformat(f"{date}T{clock}").replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC)


def _conference(spec: dict[str, Any], users: dict[str, User]) -> Conference:
    zone, date = spec["time_zone"], spec["date"]
    sessions = [
        AgendaSession(
            title=title,
            starts_at=_at(date, start, zone),
            ends_at=_at(date, end, zone),
            time_zone=zone,
            speakers=speakers,
        )
        for start, end, title, speakers in spec["sessions"]
    ]
    sites = [
        Site(
            name=s["name"],
            location=s["location"],
            time_zone=s["time_zone"],
            is_main_hall=s["main"],
            contact_name=s["contact"],
        )
        for s in spec["sites"]
    ]
    by_name = {site.name: site for site in sites}
    delegations = []
    for precedence, d in enumerate(spec["delegations"]):
        delegation = Delegation(
            country=d["country"],
            organisation=d["organisation"],
            is_host=d["host"],
            precedence=precedence,
            site=by_name[d["site"]],
            members=[
                DelegationMember(name=n, position=p, role=r, language=lang, precedence=i)
                for i, (n, p, r, lang) in enumerate(d["members"])
            ],
        )
        delegations.append(delegation)
    organiser = users["organiser@concord.example"]
    return Conference(
        slug=spec["slug"],
        title=spec["title"],
        description=spec["description"],
        translations=spec["translations"],
        kind=spec["kind"],
        status=spec["status"],
        time_zone=zone,
        starts_at=sessions[0].starts_at,
        ends_at=sessions[-1].ends_at,
        organiser_id=organiser.id,
        languages=[
            ConferenceLanguage(code=c, is_floor=f, is_interpreted=i)
            for c, f, i in spec["languages"]
        ]
        + [
            ConferenceLanguage(code=c, is_floor=False, is_interpreted=True, is_sign_language=True)
            for c in spec.get("sign_languages", [])
        ],
        sessions=sessions,
        sites=sites,
        delegations=delegations,
        interpreters=[
            InterpreterAssignment(
                user_id=users[e].id, interpreter_name=n, target_language=t, source_languages=s
            )
            for e, n, t, s in spec["interpreters"]
        ],
        members=[ConferenceMember(user_id=users[e].id, role=r) for e, r in spec["members"]]
        + [
            ConferenceMember(user_id=users[e].id, role="interpreter")
            for e, _, _, _ in spec["interpreters"]
        ],
    )
