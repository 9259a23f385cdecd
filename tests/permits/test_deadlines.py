"""The statutory clock on real applications: due dates across Tết, restart after changes,
days left, overdue flags in the queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from server.config import Config
from server.db import Database
from server.identity import Identity
from server.models import PermitApplication, Role, utcnow
from server.permits import operations as ops
from server.permits.clock import Procedure
from server.permits.schemas import ApplicationFields
from tests.permits.conftest import Client, People, application_body


def at(day: str, clock: str = "10:00") -> dt.datetime:
    """A moment in Viet Nam (UTC+7), as stored: in UTC."""
    local = dt.datetime.fromisoformat(f"{day}T{clock}+07:00")
    return local.astimezone(dt.UTC)


ORGANISER = Identity(
    via="bearer", email="organiser@concord.example", roles=frozenset({Role.ORGANISER})
)
APPROVER = Identity(
    via="bearer", email="approver@concord.example", roles=frozenset({Role.APPROVER})
)


async def users(database: Database, people: People) -> tuple[Identity, Identity]:
    return (
        replace(ORGANISER, user_id=people.ids["organiser"]),
        replace(APPROVER, user_id=people.ids["approver"]),
    )


async def test_deadline_across_tet_and_restart_after_changes(
    demo: Database, config: Config, people: People
) -> None:
    organiser, approver = await users(demo, people)
    procedure = Procedure.from_config(config)
    fields = ApplicationFields.model_validate(
        application_body(starts_on="2026-06-01", ends_on="2026-06-02")
    )
    async with demo.session() as db, db.begin():
        made = await ops.create_application(db, organiser, 1, fields, now=at("2026-02-09"))
        # Submitted late on Monday 9 February in UTC: already Tuesday 10 in Viet Nam.
        await ops.submit(db, procedure, organiser, made.id, now=at("2026-02-10", "03:30"))
        application_id = made.id
    async with demo.session() as db:
        found = await ops.application_for_viewer(db, approver, application_id)
        assert found.due_on == dt.date(2026, 3, 10)  # 15 working days, Tết 16–20 Feb skipped
        # On Friday 13 February: 12 working days left (Tết does not count).
        clock = procedure.clock(found, at("2026-02-13"))
        assert (clock.working_days_left, clock.overdue) == (12, False)
        assert procedure.clock(found, at("2026-03-10")).working_days_left == 0
        late = procedure.clock(found, at("2026-03-12"))
        assert (late.working_days_left, late.overdue) == (-2, True)
        weekend = procedure.clock(found, at("2026-03-14"))  # Saturday after the due Tuesday
        assert weekend.overdue and weekend.working_days_left == -3
    # Due on a Friday and it is Saturday: late by a day, though no working day has passed.
    friday = PermitApplication(
        status="submitted", clock_started_at=at("2026-01-16"), due_on=dt.date(2026, 2, 6)
    )
    saturday = procedure.clock(friday, at("2026-02-07"))
    assert (saturday.overdue, saturday.working_days_left) == (True, -1)

    async with demo.session() as db, db.begin():
        await ops.decide(
            db,
            procedure,
            approver,
            application_id,
            "request_changes",
            "Add the programme",
            now=at("2026-02-23"),
        )
    async with demo.session() as db:
        found = await ops.application_for_viewer(db, approver, application_id)
        assert found.due_on is None and found.clock_started_at is None
        stopped = procedure.clock(found, at("2026-03-20"))
        assert stopped.working_days_left is None and not stopped.overdue
    async with demo.session() as db, db.begin():
        # Resubmitted on Wednesday 4 March: 15 working days from there, not from February.
        await ops.submit(db, procedure, organiser, application_id, now=at("2026-03-04"))
    async with demo.session() as db, db.begin():
        found = await ops.application_for_viewer(db, approver, application_id)
        assert found.due_on == dt.date(2026, 3, 25)
        await ops.decide(
            db, procedure, approver, application_id, "approve", now=at("2026-03-24", "16:00")
        )
    async with demo.session() as db:
        found = await ops.application_for_viewer(db, approver, application_id)
        clock = procedure.clock(found, utcnow())
        assert clock.received_on == dt.date(2026, 3, 4)
        assert (clock.processing_working_days, clock.decided_on_time) == (14, True)


async def test_overdue_applications_are_flagged_in_the_queue(
    client: Client, demo: Database, config: Config, people: People
) -> None:
    organiser, _ = await users(demo, people)
    procedure = Procedure.from_config(config)
    now = utcnow()
    fields = ApplicationFields.model_validate(
        application_body(
            starts_on=(now + dt.timedelta(days=400)).date().isoformat(),
            ends_on=(now + dt.timedelta(days=401)).date().isoformat(),
        )
    )
    async with demo.session() as db, db.begin():
        old = await ops.create_application(
            db, organiser, 1, fields, now=now - dt.timedelta(days=60)
        )
        await ops.submit(db, procedure, organiser, old.id, now=now - dt.timedelta(days=60))
        fresh = await ops.create_application(db, organiser, 2, fields)
        await ops.submit(db, procedure, organiser, fresh.id)
    queue = await (await client.get("/api/permits", headers=people("approver"))).json()
    flags = {a["id"]: (a["clock"]["overdue"], a["clock"]["working_days_left"]) for a in queue}
    assert flags[old.id][0] is True and flags[old.id][1] < 0
    assert flags[fresh.id] == (False, 15)
    assert [a["id"] for a in queue][:2] == [old.id, fresh.id]  # most urgent first
    page = await client.get("/permits", headers=people("approver"))
    assert page.status == 200
    html = await page.text()
    assert html.count('<tr class="overdue">') == 1, "the overdue application is flagged"
