"""Conflicts across conferences: the same venue, interpreter or chair in overlapping sessions
is refused with 409 and the list of what collides; nothing is written; cancelled conferences
do not count."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from server.db import Database
from server.models import AgendaSession, AuditEntry, Booking, InterpreterAssignment, User
from tests.conferences.conftest import Personas
from tests.conferences.helpers import Api, Client, count


async def user_id(database: Database, email: str) -> int:
    async with database.session() as db:
        found = await db.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


async def written(database: Database) -> list[int]:
    models = (AgendaSession, AuditEntry, Booking, InterpreterAssignment)
    return [await count(database, m) for m in models]


def only(problem: dict[str, Any]) -> dict[str, Any]:
    assert problem["code"] == "schedule_conflict", problem
    assert len(problem["conflicts"]) == 1, problem["conflicts"]
    conflict = problem["conflicts"][0]
    assert isinstance(conflict, dict)
    return conflict


async def test_a_venue_shared_by_two_conferences(
    client: Client, persona: Personas, demo: Database
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    admin = await persona("admin")  # another organiser of another conference
    first = await organiser.conference(title="MoU follow-up")
    hall = await organiser.site(first["id"], "Provincial hall", location="Quang Ngai City")
    held = await organiser.session(first["id"], title="Follow-up meeting")
    venues = await organiser.call("GET", "/api/venues")
    assert hall["venue_id"] in [v["id"] for v in venues]

    second = await admin.conference(title="Aid review")
    await admin.site(second["id"], "Main hall", venue_id=hall["venue_id"])
    before = await written(demo)
    problem = await admin.session(
        second["id"],
        409,
        title="Aid signing",
        starts_at="2030-03-05T09:30:00",
        ends_at="2030-03-05T11:00:00",
    )
    conflict = only(problem)
    assert conflict["resource"] == {
        "kind": "venue",
        "id": hall["venue_id"],
        "name": "Provincial hall",
    }
    assert conflict["session"]["session_title"] == "Aid signing"
    assert conflict["session"]["starts_at"] == "2030-03-05T02:30:00Z"
    other = conflict["conflicts_with"]
    assert (other["conference_id"], other["conference_title"]) == (first["id"], "MoU follow-up")
    assert (other["session_id"], other["session_title"]) == (held["id"], "Follow-up meeting")
    assert (other["starts_at"], other["ends_at"]) == (
        "2030-03-05T02:00:00Z",
        "2030-03-05T03:00:00Z",
    )
    assert await written(demo) == before, "nothing of the refused session is written"

    # Back to back is no overlap.
    await admin.session(
        second["id"], starts_at="2030-03-05T10:00:00", ends_at="2030-03-05T11:00:00"
    )
    # Moving the first conference's session onto it is refused the same way.
    moved = await organiser.call(
        "PATCH",
        f"/api/conferences/{first['id']}/sessions/{held['id']}",
        {"starts_at": "2030-03-05T10:30:00"},
        409,
    )
    assert only(moved)["conflicts_with"]["conference_id"] == second["id"]
    # A cancelled conference books nothing.
    await organiser.call("DELETE", f"/api/conferences/{first['id']}", expect=204)  # a draft
    third = await organiser.conference(title="Cancelled one")
    await organiser.site(third["id"], "Hall", venue_id=hall["venue_id"])
    await organiser.session(
        third["id"], starts_at="2030-03-06T09:00:00", ends_at="2030-03-06T10:00:00"
    )
    await organiser.call("POST", f"/api/conferences/{third['id']}/status", {"status": "cancelled"})
    await admin.session(
        second["id"], starts_at="2030-03-06T09:00:00", ends_at="2030-03-06T10:00:00"
    )


async def test_the_same_chair_or_interpreter_in_two_places(
    client: Client, persona: Personas, demo: Database
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    admin = await persona("admin")
    chair = await user_id(demo, "secretary@concord.example")
    interpreter = await user_id(demo, "interpreter.lo@concord.example")
    first = await organiser.conference(title="MoU follow-up")
    await organiser.site(first["id"], "Quang Ngai hall")
    opening = await organiser.session(first["id"], title="Opening", chair_id=chair)
    booth = await organiser.call(
        "POST",
        f"/api/conferences/{first['id']}/interpreters",
        {"user_id": interpreter, "target_language": "lo", "source_languages": ["vi"]},
        201,
    )
    assert booth["interpreter_name"] == "Phiên dịch viên tiếng Lào"

    second = await admin.conference(title="Aid review")
    await admin.site(second["id"], "Pakse hall", time_zone="Asia/Vientiane")
    before = await written(demo)
    # 08:30-09:30 in Vientiane is 08:30-09:30 in Viet Nam too (both UTC+7).
    chaired = await admin.session(
        second["id"],
        409,
        time_zone="Asia/Vientiane",
        starts_at="2030-03-05T08:30:00",
        ends_at="2030-03-05T09:30:00",
        chair_id=chair,
    )
    conflict = only(chaired)
    assert conflict["resource"]["kind"] == "chair" and conflict["resource"]["id"] == chair
    assert conflict["conflicts_with"]["session_id"] == opening["id"]
    assert await written(demo) == before

    parallel = await admin.session(
        second["id"], starts_at="2030-03-05T09:00:00", ends_at="2030-03-05T12:00:00"
    )
    assignments = f"/api/conferences/{second['id']}/interpreters"
    shift = {"user_id": interpreter, "target_language": "lo", "time_zone": "Asia/Vientiane"}
    before_busy = await written(demo)
    busy = await admin.call(
        "POST",
        assignments,
        {**shift, "shift_starts_at": "2030-03-05T09:30:00", "shift_ends_at": "2030-03-05T12:00:00"},
        409,
    )
    conflict = only(busy)
    assert conflict["resource"] == {
        "kind": "interpreter",
        "id": interpreter,
        "name": "Phiên dịch viên tiếng Lào",
    }
    assert conflict["session"]["session_id"] == parallel["id"]
    assert conflict["session"]["starts_at"] == "2030-03-05T02:30:00Z", "the shift's part"
    assert conflict["conflicts_with"]["conference_id"] == first["id"]
    assert await written(demo) == before_busy
    # After the first conference's session the interpreter is free.
    free = await admin.call(
        "POST",
        assignments,
        {**shift, "shift_starts_at": "2030-03-05T10:00:00", "shift_ends_at": "2030-03-05T12:00:00"},
        201,
    )
    assert free["shift_starts_at"] == "2030-03-05T03:00:00Z"
    # Widening the shift over the opening is refused, and the shift stays as it was.
    path = f"{assignments}/{free['id']}"
    await admin.call("PATCH", path, {"shift_starts_at": "2030-03-05T08:00:00"}, 409)
    kept = await admin.call("GET", f"/api/conferences/{second['id']}")
    assert kept["interpreters"][0]["shift_starts_at"] == "2030-03-05T03:00:00Z"


async def test_a_series_collides_on_one_of_its_occurrences(
    client: Client, persona: Personas, demo: Database
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    admin = await persona("admin")
    first = await organiser.conference(title="Weekly coordination")
    hall = await organiser.site(first["id"], "Provincial hall")
    await organiser.session(first["id"], rrule="FREQ=WEEKLY;COUNT=8;BYDAY=TU")
    second = await admin.conference(title="Donor briefing")
    await admin.site(second["id"], "Hall", venue_id=hall["venue_id"])
    problem = await admin.session(
        second["id"], 409, starts_at="2030-03-19T09:45:00", ends_at="2030-03-19T11:00:00"
    )
    assert only(problem)["conflicts_with"]["occurrence"] == "2030-03-19T02:00:00Z"
    # Its own series can be moved off that week, then the briefing fits.
    series = (await organiser.call("GET", f"/api/conferences/{first['id']}/sessions"))[0]
    await organiser.call(
        "PATCH",
        f"/api/conferences/{first['id']}/sessions/{series['id']}",
        {"starts_at": "2030-03-21T09:00:00"},
        occurrence="2030-03-19T02:00:00Z",
    )
    await admin.session(
        second["id"], starts_at="2030-03-19T09:45:00", ends_at="2030-03-19T11:00:00"
    )
    # ...but a second series overlapping the first is refused.
    overlapping = await admin.session(
        second["id"],
        409,
        starts_at="2030-03-26T08:00:00",
        ends_at="2030-03-26T09:30:00",
        rrule="FREQ=WEEKLY;COUNT=3;BYDAY=TU",
    )
    assert len(overlapping["conflicts"]) == 3


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_colliding_changes_at_once_cannot_both_pass(
    client: Client, persona: Personas
) -> None:
    """Each check sees the other's bookings (PostgreSQL's advisory lock); SQLite has a single
    writer anyway."""
    organiser = await Api.signed_in(client, "organiser")
    admin = await persona("admin")
    first = await organiser.conference(title="A")
    hall = await organiser.site(first["id"], "Hall")
    second = await admin.conference(title="B")
    await admin.site(second["id"], "Hall", venue_id=hall["venue_id"])
    for _ in range(3):
        results = await asyncio.gather(
            organiser.session(first["id"], expect=0),
            admin.session(second["id"], expect=0),
        )
        statuses = sorted(r["status"] if "status" in r and "code" in r else 201 for r in results)
        assert statuses == [201, 409], results
        for api, made in zip((organiser, admin), results, strict=True):
            if "uid" in made:
                await api.call(
                    "DELETE",
                    f"/api/conferences/{made['conference_id']}/sessions/{made['id']}",
                    expect=204,
                )
