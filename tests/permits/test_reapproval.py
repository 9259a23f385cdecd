"""Re-approval after a material change: an approved conference whose dates, format, sites or
foreign delegations change goes back to awaiting approval in a new round; the earlier decision
stays on record and the audit log says why. Cosmetic edits change nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.db import Database
from server.models import AuditEntry, Conference, PermitApplication
from tests.permits.conftest import Client, People, application_body
from tests.permits.test_workflow import P, act

C = "/api/conferences"


async def approved_conference(client: Client, people: People) -> tuple[int, int]:
    """A new conference with a delegation from Laos, its permit approved: (conference, permit)."""
    made = await client.post(
        C,
        json={
            "title": "Quang Ngai – Champasak cooperation review",
            "time_zone": "Asia/Ho_Chi_Minh",
            "starts_at": "2027-10-20T08:00:00",
            "ends_at": "2027-10-20T11:30:00",
            "kind": "online",
        },
        headers=people("organiser"),
    )
    assert made.status == 201, await made.text()
    conference_id = (await made.json())["id"]
    delegation = await client.post(
        f"{C}/{conference_id}/delegations",
        json={"country": "LA", "organisation": "Champasak Department of Foreign Affairs"},
        headers=people("organiser"),
    )
    assert delegation.status == 201, await delegation.text()
    applied = await client.post(
        f"{C}/{conference_id}/permits",
        json=application_body(starts_on="2027-10-20", ends_on="2027-10-20"),
        headers=people("organiser"),
    )
    application_id = (await applied.json())["id"]
    await act(client, people, "organiser", f"{P}/{application_id}/submit", {})
    approved = await act(
        client, people, "approver", f"{P}/{application_id}/decision", {"outcome": "approve"}
    )
    assert approved["status"] == "approved"
    assert await status(client, people, conference_id) == "approved"
    return conference_id, application_id


async def status(client: Client, people: People, conference_id: int) -> str:
    shown = await (await client.get(f"{C}/{conference_id}", headers=people("organiser"))).json()
    return str(shown["status"])


async def rounds(client: Client, people: People, conference_id: int) -> list[dict[str, Any]]:
    listed = await client.get(f"{P}?conference_id={conference_id}", headers=people("organiser"))
    return sorted(await listed.json(), key=lambda a: a["id"])


async def patch(client: Client, people: People, conference_id: int, body: dict[str, Any]) -> None:
    response = await client.patch(f"{C}/{conference_id}", json=body, headers=people("organiser"))
    assert response.status == 200, await response.text()


async def test_cosmetic_edits_keep_the_approval(
    client: Client, people: People, demo: Database
) -> None:
    conference_id, _ = await approved_conference(client, people)
    await patch(
        client,
        people,
        conference_id,
        {
            "title": "Quang Ngai – Champasak: the 2027 cooperation review",
            "description": "Agenda and speakers to follow.",
            "translations": {"vi": {"title": "Tổng kết hợp tác Quảng Ngãi – Champasak"}},
            "starts_at": "2027-10-20T08:30:00",  # the same day, half an hour later
        },
    )
    assert await status(client, people, conference_id) == "approved"
    assert len(await rounds(client, people, conference_id)) == 1


async def test_new_dates_send_the_conference_back_for_approval(
    client: Client, people: People, demo: Database
) -> None:
    conference_id, first = await approved_conference(client, people)
    await patch(
        client,
        people,
        conference_id,
        {"starts_at": "2027-11-03T08:00:00", "ends_at": "2027-11-03T11:30:00"},
    )
    assert await status(client, people, conference_id) == "awaiting_approval"
    earlier, again = await rounds(client, people, conference_id)
    # The earlier decision is on record, untouched.
    assert earlier["id"] == first and earlier["status"] == "approved"
    old = await (await client.get(f"{P}/{first}", headers=people("approver"))).json()
    assert old["decision_number"] and old["decided_at"]
    # The new round is submitted, with the conference's new dates, and says why.
    assert again["status"] == "submitted" and again["previous_id"] == first
    assert (again["starts_on"], again["ends_on"]) == ("2027-11-03", "2027-11-03")
    assert again["clock"]["due_on"] is not None
    shown = await (await client.get(f"{P}/{again['id']}", headers=people("approver"))).json()
    step = shown["steps"][0]
    assert step["action"] == "reopened" and step["actor"] == "concord"
    assert "dates: 2027-10-20 – 2027-10-20 → 2027-11-03 – 2027-11-03" in step["comment"]
    assert shown["deciding_level"] == "competent_person"
    async with demo.session() as db:
        entries = {
            e.action: e
            for e in await db.scalars(
                select(AuditEntry).where(AuditEntry.conference_id == conference_id)
            )
        }
    reopened = entries["permit.reopened"]
    assert reopened.detail["previous"] == first and "dates" in reopened.detail["changes"]
    assert entries["conference.status_changed"].detail["to"] == "awaiting_approval"

    # Approving the new round approves the conference again, and the report counts it.
    await act(client, people, "approver", f"{P}/{again['id']}/decision", {"outcome": "approve"})
    assert await status(client, people, conference_id) == "approved"
    report = await (await client.get(f"{P}/report?period=year", headers=people("approver"))).json()
    assert report["total"]["submitted"] == 2 and report["total"]["approved"] == 2


async def test_a_new_foreign_delegation_or_site_or_format_is_material(
    client: Client, people: People, demo: Database
) -> None:
    conference_id, _ = await approved_conference(client, people)
    added = await client.post(
        f"{C}/{conference_id}/delegations",
        json={"country": "KH", "organisation": "Stung Treng Provincial Administration"},
        headers=people("organiser"),
    )
    assert added.status == 201
    assert await status(client, people, conference_id) == "awaiting_approval"
    again = (await rounds(client, people, conference_id))[-1]
    shown = await (await client.get(f"{P}/{again['id']}", headers=people("approver"))).json()
    assert [(p["country"], p["organisation"]) for p in shown["participants"]] == [
        ("LA", "Champasak Department of Foreign Affairs"),
        ("KH", "Stung Treng Provincial Administration"),
    ]
    assert "foreign: + KH: Stung Treng Provincial Administration" in shown["steps"][0]["comment"]
    await act(client, people, "approver", f"{P}/{again['id']}/decision", {"outcome": "approve"})
    assert await status(client, people, conference_id) == "approved"

    # A site, then the format: each a material change of the plan approved last.
    site = await client.post(
        f"{C}/{conference_id}/sites",
        json={"name": "Pakse hall", "time_zone": "Asia/Vientiane"},
        headers=people("organiser"),
    )
    assert site.status == 201, await site.text()
    assert await status(client, people, conference_id) == "awaiting_approval"
    third = (await rounds(client, people, conference_id))[-1]
    await act(client, people, "approver", f"{P}/{third['id']}/decision", {"outcome": "approve"})
    await patch(client, people, conference_id, {"kind": "hybrid"})
    assert await status(client, people, conference_id) == "awaiting_approval"
    fourth = (await rounds(client, people, conference_id))[-1]
    shown = await (await client.get(f"{P}/{fourth['id']}", headers=people("approver"))).json()
    assert shown["format"] == "hybrid" and "format: online → hybrid" in shown["steps"][0]["comment"]
    async with demo.session() as db:
        kept = list(
            await db.scalars(
                select(PermitApplication.status)
                .where(PermitApplication.conference_id == conference_id)
                .order_by(PermitApplication.id)
            )
        )
        conference = await db.get(Conference, conference_id)
    assert kept == ["approved", "approved", "approved", "submitted"]
    assert conference is not None and conference.status == "awaiting_approval"
