"""The conference lifecycle: each step, who may take it, and the steps that do not exist."""

from __future__ import annotations

from sqlalchemy import select

from server.db import Database
from server.models import AuditEntry, Conference
from tests.conferences.conftest import Personas
from tests.conferences.helpers import Api, Client, count


async def test_the_whole_lifecycle_with_who_may_take_each_step(
    client: Client, persona: Personas, demo: Database
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    made = await organiser.conference()
    cid = made["id"]
    assert made["status"] == "draft"
    assert made["next_statuses"] == ["awaiting_approval", "cancelled"]
    status = f"/api/conferences/{cid}/status"

    async def step(api: Api, to: str, expect: int = 200) -> dict[str, object]:
        body = await api.call("POST", status, {"status": to, "comment": "ok"}, expect)
        assert isinstance(body, dict)
        return body

    await step(organiser, "awaiting_approval")
    refused = await step(organiser, "approved", 403)
    assert refused["code"] == "wrong_role" and "approver" in str(refused["detail"])
    approver = await persona("approver")
    approved = await step(approver, "approved")
    assert approved["status"] == "approved"
    assert approved["next_statuses"] == ["scheduled", "cancelled"]

    skipped = await step(organiser, "live", 409)
    assert skipped["code"] == "illegal_transition"
    assert skipped["allowed"] == ["scheduled", "cancelled"]
    assert "scheduled, cancelled" in str(skipped["detail"])

    await step(organiser, "scheduled")
    technician = await persona("technician")
    # The demo technician has no part in this conference: going live is not theirs.
    assert (await step(technician, "live", 403))["code"] == "not_a_participant"
    await step(organiser, "live")
    await step(organiser, "ended")
    too_late = await step(organiser, "cancelled", 409)
    assert too_late["allowed"] == ["archived"]
    archived = await step(organiser, "archived")
    assert archived["next_statuses"] == []
    final = await step(organiser, "draft", 409)
    assert final["allowed"] == []

    closed = await organiser.call("PATCH", f"/api/conferences/{cid}", {"title": "x"}, 409)
    assert closed["code"] == "conference_closed"
    async with demo.session() as db:
        steps = list(
            await db.scalars(
                select(AuditEntry.detail)
                .where(
                    AuditEntry.conference_id == cid,
                    AuditEntry.action == "conference.status_changed",
                )
                .order_by(AuditEntry.id)
            )
        )
    assert [(s["from"], s["to"]) for s in steps] == [
        ("draft", "awaiting_approval"),
        ("awaiting_approval", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "live"),
        ("live", "ended"),
        ("ended", "archived"),
    ]


async def test_the_approver_sends_back_and_delete_means_cancel_after_the_draft(
    client: Client, persona: Personas, demo: Database
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    approver = await persona("approver")
    cid = (await organiser.conference())["id"]
    await organiser.session(cid)
    status = f"/api/conferences/{cid}/status"
    await organiser.call("POST", status, {"status": "awaiting_approval"})
    back = await approver.call("POST", status, {"status": "draft", "comment": "add the agenda"})
    assert back["status"] == "draft"
    # An approver has no other business with the conference.
    assert (await approver.call("PATCH", f"/api/conferences/{cid}", {}, 403))["code"]

    await organiser.call("POST", status, {"status": "awaiting_approval"})
    await approver.call("POST", status, {"status": "approved"})
    cancelled = await organiser.call("DELETE", f"/api/conferences/{cid}")
    assert cancelled["status"] == "cancelled"
    session = cancelled["sessions"][0]
    assert session["status"] == "cancelled" and session["sequence"] == 1

    draft = (await organiser.conference(title="Never held"))["id"]
    before = await count(demo, Conference)
    await organiser.call("DELETE", f"/api/conferences/{draft}", expect=204)
    assert await count(demo, Conference) == before - 1
    await organiser.call("GET", f"/api/conferences/{draft}", expect=404)


async def test_conferences_are_listed_by_status_and_dates_a_page_at_a_time(
    client: Client, persona: Personas
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    for month in ("01", "02", "03", "04", "05"):
        await organiser.conference(
            title=f"Meeting {month}",
            starts_at=f"2031-{month}-10T09:00:00",
            ends_at=f"2031-{month}-10T12:00:00",
        )
    response = await client.get(
        "/api/conferences", params={"status": "draft", "from": "2031-02-01", "limit": "2"}
    )
    assert response.status == 200
    assert response.headers["X-Total-Count"] == "4"
    page = await response.json()
    assert [c["title"] for c in page] == ["Meeting 05", "Meeting 04"]
    assert "offset=2" in response.headers["Link"]
    second = await client.get(
        "/api/conferences",
        params={
            "status": "draft,scheduled",
            "from": "2031-02-01",
            "to": "2031-04-30",
            "offset": "1",
        },
    )
    assert [c["title"] for c in await second.json()] == ["Meeting 03", "Meeting 02"]
    ended = await (await client.get("/api/conferences", params={"status": "ended"})).json()
    assert [c["id"] for c in ended] == [1]
    bad = await client.get("/api/conferences", params={"status": "finished"})
    assert bad.status == 422 and (await bad.json())["errors"][0]["field"] == "status"
    assert (await client.get("/api/conferences", params={"limit": "0"})).status == 422
    assert (await client.get("/api/conferences", params={"from": "soon"})).status == 422
    # The approver has no part in these drafts (only in the demo's submitted conferences).
    approver = await persona("approver")
    seen = await approver.call("GET", "/api/conferences")
    assert seen and {c["status"] for c in seen}.isdisjoint({"draft"})


async def test_an_approver_sees_what_is_submitted_not_drafts(
    client: Client, persona: Personas
) -> None:
    organiser = await Api.signed_in(client, "organiser")
    approver = await persona("approver")
    cid = (await organiser.conference(title="Submitted later"))["id"]
    path = f"/api/conferences/{cid}"

    async def listed() -> set[int]:
        found = await approver.call("GET", "/api/conferences", status="awaiting_approval")
        return {c["id"] for c in found}

    assert cid not in await listed()
    assert (await approver.call("GET", path, expect=403))["code"] == "not_a_participant"
    await organiser.call("POST", f"{path}/status", {"status": "awaiting_approval"})
    assert cid in await listed()
    read = await approver.call("GET", path)
    assert read["title"] == "Submitted later" and read["status"] == "awaiting_approval"
    # Reading is all: the plan stays the organiser's.
    assert (await approver.call("PATCH", path, {"title": "x"}, 403))["code"] == "wrong_role"
    await approver.call("POST", f"{path}/status", {"status": "approved"})
    everything = await approver.call("GET", "/api/conferences")
    assert cid in {c["id"] for c in everything}
    # Sent back to a draft, it is the organiser's alone again.
    other = (await organiser.conference(title="Sent back"))["id"]
    status = f"/api/conferences/{other}/status"
    await organiser.call("POST", status, {"status": "awaiting_approval"})
    await approver.call("POST", status, {"status": "draft"})
    await approver.call("GET", f"/api/conferences/{other}", expect=403)
