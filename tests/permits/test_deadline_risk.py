"""A conference too close for the statutory deadline is flagged: to the applicant before and
after submitting, and in the approver's queue (issue 17)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from server.db import Database
from server.models import User
from tests.permits.conftest import Client, People
from tests.permits.test_workflow import create

P = "/api/permits"


async def test_a_conference_next_week_cannot_wait_for_fifteen_working_days(
    client: Client, people: People, demo: Database
) -> None:
    async with demo.session() as db, db.begin():  # read the pages in English
        await db.execute(update(User).values(locale="en"))
    soon = dt.date.today() + dt.timedelta(days=7)
    near = await create(client, people, starts_on=soon.isoformat(), ends_on=soon.isoformat())
    assert near["clock"]["due_after_start"] is True
    due = dt.date.fromisoformat(near["clock"]["due_if_submitted_today"])
    assert due >= soon  # 15 working days are at least three weeks

    page = await (await client.get(f"/permits/{near['id']}", headers=people("organiser"))).text()
    assert 'id="deadline-risk"' in page and "Submitted today, the decision would be due" in page

    submitted = await client.post(
        f"{P}/{near['id']}/submit",
        json={"comment": "", "submit_late": True},  # 7 days: the lead time is missed
        headers=people("organiser"),
    )
    assert submitted.status == 200, await submitted.text()
    shown = await submitted.json()
    assert shown["clock"]["due_after_start"] is True
    assert shown["clock"]["due_if_submitted_today"] is None  # submitted: the real due date
    queue = await (await client.get("/permits", headers=people("approver"))).text()
    row = queue[queue.index(f'href="/permits/{near["id"]}"') :].split("</tr>")[0]
    assert "after the start" in row


async def test_a_conference_far_ahead_is_not_flagged(
    client: Client, people: People, demo: Database
) -> None:
    far = await create(client, people)  # October 2027
    assert far["clock"]["due_after_start"] is False
    page = await (await client.get(f"/permits/{far['id']}", headers=people("organiser"))).text()
    assert 'id="deadline-risk"' not in page
