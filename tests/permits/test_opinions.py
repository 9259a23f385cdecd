"""The opinions the authority collects (foreign affairs, public security...): steps with their
own deadline in working days, shown on the application's page; no approval while one asked
has not come in."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from server.db import Database
from server.models import AuditEntry, PermitConsultation, User
from tests.permits.conftest import Client, People
from tests.permits.test_workflow import P, act, create


async def submitted(client: Client, people: People) -> str:
    made = await create(client, people)
    await act(client, people, "organiser", f"{P}/{made['id']}/submit", {})
    return f"{P}/{made['id']}"


async def test_opinions_are_asked_with_a_deadline_and_recorded(
    client: Client, people: People, demo: Database
) -> None:
    one = await submitted(client, people)
    # Only approvers ask, and only while the application awaits a decision.
    await act(client, people, "organiser", one + "/opinions", {}, 403)
    asked = await act(client, people, "approver", one + "/opinions", {})
    opinions = asked["consultations"]
    assert [o["agency"] for o in opinions] == [
        "Ministry of Foreign Affairs / provincial Department of Foreign Affairs",
        "Ministry of Public Security / provincial Police",
    ]
    assert all(o["state"] == "asked" and o["answer"] is None for o in opinions)
    due = dt.date.fromisoformat(opinions[0]["due_on"])
    asked_on = dt.datetime.fromisoformat(opinions[0]["asked_at"]).date()
    assert (due - asked_on).days >= 7  # 7 working days, weekends and holidays off
    # Asking again does not ask an agency twice.
    again = await act(client, people, "approver", one + "/opinions", {})
    assert len(again["consultations"]) == 2

    # No approval while an opinion is awaited.
    refused = await act(client, people, "approver", one + "/decision", {"outcome": "approve"}, 409)
    assert refused["code"] == "opinions_pending" and "Public Security" in refused["detail"]

    first, second = (o["id"] for o in opinions)
    await act(
        client, people, "approver", f"{one}/opinions/{first}", {"answer": "disagree"}, 422
    )  # disagreeing needs the reasons
    await act(client, people, "approver", f"{one}/opinions/{first}", {"answer": "agree"})
    await act(client, people, "approver", f"{one}/opinions/{first}", {"answer": "agree"}, 409)
    done = await act(
        client,
        people,
        "approver",
        f"{one}/opinions/{second}",
        {"answer": "remarks", "remarks": "Keep the delegation list to the one submitted."},
    )
    assert [(o["state"], o["answer"]) for o in done["consultations"]] == [
        ("answered", "agree"),
        ("answered", "remarks"),
    ]
    assert done["consultations"][1]["remarks"].startswith("Keep the delegation")
    approved = await act(client, people, "approver", one + "/decision", {"outcome": "approve"})
    assert approved["status"] == "approved"
    async with demo.session() as db:
        actions = list(
            await db.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("permit.opinion%"))
            )
        )
    assert actions == [
        "permit.opinions_asked",
        "permit.opinion_recorded",
        "permit.opinion_recorded",
    ]


async def test_an_overdue_opinion_is_shown_on_the_page(
    client: Client, people: People, demo: Database
) -> None:
    one = await submitted(client, people)
    await act(
        client, people, "approver", one + "/opinions", {"agencies": ["Công an tỉnh Quảng Ngãi"]}
    )
    async with demo.session() as db, db.begin():
        await db.execute(update(PermitConsultation).values(due_on=dt.date(2026, 1, 5)))
        await db.execute(update(User).values(locale="en"))
    shown = await (await client.get(one, headers=people("approver"))).json()
    assert [o["state"] for o in shown["consultations"]] == ["overdue"]
    application_id = one.rsplit("/", 1)[1]
    page = await (
        await client.get(f"/permits/{application_id}", headers=people("organiser"))
    ).text()
    section = page[page.index('id="opinions"') :].split("</section>")[0]
    assert "Công an tỉnh Quảng Ngãi" in section and "overdue" in section
    # Rejecting does not wait for the opinions.
    rejected = await act(
        client,
        people,
        "approver",
        one + "/decision",
        {"outcome": "reject", "comment": "The police advise against it."},
    )
    assert rejected["status"] == "rejected"


async def test_the_approver_asks_and_records_through_the_page(
    client: Client, people: People, demo: Database
) -> None:
    one = await submitted(client, people)
    application_id = one.rsplit("/", 1)[1]
    page = f"/permits/{application_id}"
    async with demo.session() as db, db.begin():
        await db.execute(update(User).values(locale="en"))
    asked = await client.post(
        page + "/opinions",
        data={"agency": "Sở Ngoại vụ", "other": "Bộ Quốc phòng\n"},
        headers=people("approver"),  # a token: no CSRF field needed
        allow_redirects=False,
    )
    assert asked.status in (302, 303), await asked.text()
    shown = await (await client.get(one, headers=people("approver"))).json()
    assert [o["agency"] for o in shown["consultations"]] == ["Sở Ngoại vụ", "Bộ Quốc phòng"]
