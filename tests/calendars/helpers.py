"""A planned conference with a person in every calendar role, and reading ``.ics`` answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.db import Database
from server.ical.ics import CalendarEvent, parse_calendar
from server.models import User
from tests.conferences.helpers import LA, PARIS, Api
from tests.ical.independent import ReadCalendar, read


async def user_id(database: Database, who: str) -> int:
    async with database.session() as db:
        found = await db.scalar(select(User.id).where(User.email == f"{who}@concord.example"))
        assert found is not None
        return int(found)


@dataclass
class Planned:
    """Conference ids and sessions of ``plan``: ``sessions`` by title."""

    id: int
    hall: dict[str, Any]
    pakse: dict[str, Any]
    sessions: dict[str, dict[str, Any]]


async def plan(api: Api, database: Database, *, title: str, weeks: int = 0) -> Planned:
    """A conference with: a session chaired by the secretary at both sites; a weekly series
    in Paris time across the start of summer time (one occurrence removed, one moved); a
    session at the Champasak hall only. The hall's technician is the demo technician, the
    Lao delegation has the demo delegate, the French booth the demo English interpreter.
    ``weeks`` moves every session later."""

    def at(day: str, time: str) -> str:
        return f"{dt.date.fromisoformat(day) + dt.timedelta(weeks=weeks)}T{time}"

    conference = await api.conference(title=title)
    cid = conference["id"]
    technician = await user_id(database, "technician")
    hall = await api.site(
        cid,
        f"Quang Ngai hall {title}",
        location="Quang Ngai",
        contact_name="Hall contact",
        contact_email=f"hall.{cid}@example.org",
        technician_id=technician,
    )
    pakse = await api.site(cid, f"Champasak hall {title}", time_zone=LA, location="Pakse")
    await api.call(
        "POST",
        f"/api/conferences/{cid}/delegations",
        {
            "country": "LA",
            "organisation": "Champasak DOFA",
            "site_id": pakse["id"],
            "members": [{"name": "Lao delegate", "user_id": await user_id(database, "delegate")}],
        },
        201,
    )
    await api.call(
        "POST",
        f"/api/conferences/{cid}/interpreters",
        {
            "user_id": await user_id(database, "interpreter.en"),
            "target_language": "fr",
            "source_languages": ["vi"],
        },
        201,
    )
    sessions = {}
    sessions["Opening"] = await api.session(
        cid,
        title="Opening",
        description="Welcome by both provinces",
        speakers=["Director, DOFA Quang Ngai"],
        starts_at=at("2030-03-05", "09:00:00"),
        ends_at=at("2030-03-05", "10:00:00"),
        chair_id=await user_id(database, "secretary"),
    )
    series = await api.session(
        cid,
        title="Donor call",
        starts_at=at("2030-03-19", "10:00:00"),
        ends_at=at("2030-03-19", "11:00:00"),
        time_zone=PARIS,
        rrule="FREQ=WEEKLY;COUNT=4",
        exdates=[at("2030-03-26", "10:00:00")],
        site_ids=[pakse["id"]],
    )
    moved = await api.call(
        "PATCH",
        f"/api/conferences/{cid}/sessions/{series['id']}",
        {"starts_at": at("2030-04-02", "14:00:00"), "ends_at": at("2030-04-02", "15:00:00")},
        occurrence=at("2030-04-02", "08:00:00Z"),
    )
    sessions["Donor call"] = await api.call(
        "GET", f"/api/conferences/{cid}/sessions/{series['id']}"
    )
    sessions["Donor call (moved)"] = moved
    sessions["Pakse review"] = await api.session(
        cid,
        title="Pakse review",
        starts_at=at("2030-03-07", "09:00:00"),
        ends_at=at("2030-03-07", "10:00:00"),
        site_ids=[pakse["id"]],
    )
    return Planned(cid, hall, pakse, sessions)


def read_both(data: bytes) -> tuple[list[CalendarEvent], ReadCalendar]:
    """The calendar as Concord's reader and as the independent one see it."""
    return parse_calendar(data).events, read(data)
