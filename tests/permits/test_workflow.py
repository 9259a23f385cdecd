"""The permit workflow through the API: who may do what, each step stored and audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.models import AuditEntry, PermitApplication, PermitStep
from tests.permits.conftest import Client, People, application_body

P = "/api/permits"


async def create(
    client: Client, people: People, conference: int = 1, **changes: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/conferences/{conference}/permits",
        json=application_body(**changes),
        headers=people("organiser"),
    )
    assert response.status == 201, await response.text()
    data = await response.json()
    assert isinstance(data, dict)
    return data


async def act(
    client: Client, people: People, who: str, path: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=people(who))
    assert response.status == status, await response.text()
    data = await response.json()
    assert isinstance(data, dict)
    return data


async def test_apply_change_resubmit_approve(
    client: Client, people: People, demo: Database
) -> None:
    made = await create(client, people)
    one = f"{P}/{made['id']}"
    assert made["status"] == "draft" and made["conference_id"] == 1
    assert made["participants"] == [
        {"country": "LA", "organisation": "Champasak Department of Foreign Affairs", "number": 12}
    ]
    assert made["funding_amount"] == "45000000.00" and made["clock"]["due_on"] is None

    # A draft is the applicant's own: approvers do not see it yet.
    assert (await client.get(one, headers=people("approver"))).status == 403
    listed = await (await client.get(P, headers=people("approver"))).json()
    assert made["id"] not in [a["id"] for a in listed]

    patched = await client.patch(
        one,
        json={
            "participants": [
                {"country": "la", "organisation": "Champasak", "number": 8},
                {"country": "AU", "organisation": "DFAT", "number": 2},
            ]
        },
        headers=people("organiser"),
    )
    assert patched.status == 200, await patched.text()
    assert [p["country"] for p in (await patched.json())["participants"]] == ["LA", "AU"]

    submitted = await act(client, people, "organiser", one + "/submit", {"comment": "urgent"})
    assert submitted["status"] == "submitted"
    clock = submitted["clock"]
    assert clock["deadline_working_days"] == 15 and clock["overdue"] is False
    assert 0 < clock["working_days_left"] <= 15 and clock["due_on"] is not None

    # Submitted: no more edits; the approver now sees it in the queue.
    refused = await client.patch(one, json={"purpose": "x"}, headers=people("organiser"))
    assert refused.status == 409 and (await refused.json())["code"] == "wrong_status"
    queue = await (await client.get(P + "?status=submitted", headers=people("approver"))).json()
    assert [a["id"] for a in queue] == [made["id"]]

    # Asking for changes needs the reasons; then the clock stops.
    no_reason = await act(
        client, people, "approver", one + "/decision", {"outcome": "request_changes"}, 422
    )
    assert no_reason["code"] == "comment_required"
    back = await act(
        client,
        people,
        "approver",
        one + "/decision",
        {"outcome": "request_changes", "comment": "Attach the draft memorandum."},
    )
    assert back["status"] == "changes_requested"
    assert back["clock"]["due_on"] is None and back["clock"]["working_days_left"] is None

    again = await act(client, people, "organiser", one + "/submit", {})
    assert again["status"] == "resubmitted" and again["clock"]["due_on"] is not None

    approved = await act(
        client, people, "approver", one + "/decision", {"outcome": "approve", "comment": ""}
    )
    assert approved["status"] == "approved"
    assert approved["decision_number"].startswith(f"{made['id']:04d}/")
    assert approved["clock"]["processing_working_days"] == 0
    assert approved["clock"]["decided_on_time"] is True
    steps = [(s["action"], s["from_status"], s["to_status"]) for s in approved["steps"]]
    assert steps == [
        ("created", None, "draft"),
        ("submitted", "draft", "submitted"),
        ("changes_requested", "submitted", "changes_requested"),
        ("resubmitted", "changes_requested", "resubmitted"),
        ("approved", "resubmitted", "approved"),
    ]
    assert approved["steps"][1]["comment"] == "urgent"
    assert approved["steps"][2]["actor"] == "approver@concord.example"
    times = [dt.datetime.fromisoformat(s["at"]) for s in approved["steps"]]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)

    # Decided: nothing moves any more.
    for who, path, body in (
        ("approver", one + "/decision", {"outcome": "reject", "comment": "no"}),
        ("organiser", one + "/withdraw", {}),
        ("organiser", one + "/submit", {}),
    ):
        assert (await act(client, people, who, path, body, 409))["code"] == "wrong_status"

    async with demo.session() as db:
        actions = list(
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_type == "permit_application")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "permit.created",
        "permit.updated",
        "permit.submitted",
        "permit.changes_requested",
        "permit.resubmitted",
        "permit.approved",
    ]


async def test_who_may_do_what(client: Client, people: People, demo: Database) -> None:
    made = await create(client, people)
    one = f"{P}/{made['id']}"
    # Another conference's organiser, a technician of the conference, a delegate: no.
    assert (await client.get(one, headers=people("other_organiser"))).status == 403
    refused = await client.post(one + "/submit", json={}, headers=people("other_organiser"))
    assert refused.status == 403 and (await refused.json())["code"] == "not_your_application"
    for who in ("technician", "delegate"):
        assert (await client.get(one, headers=people(who))).status == 403
    # Only organisers of the conference apply for it.
    other = await client.post(
        "/api/conferences/1/permits", json=application_body(), headers=people("other_organiser")
    )
    assert other.status == 403
    # The organiser cannot decide; approvers cannot write the application.
    await act(client, people, "organiser", one + "/submit", {})
    decided = await client.post(
        one + "/decision", json={"outcome": "approve"}, headers=people("organiser")
    )
    assert decided.status == 403
    assert (
        await client.patch(one, json={"purpose": "x"}, headers=people("approver"))
    ).status == 403
    # An approver who co-organises the conference must leave the decision to another.
    own = await act(
        client, people, "co_organiser_approver", one + "/decision", {"outcome": "approve"}, 403
    )
    assert own["code"] == "own_application"
    # One open application per conference.
    again = await client.post(
        "/api/conferences/1/permits", json=application_body(), headers=people("organiser")
    )
    assert again.status == 409 and (await again.json())["code"] == "permit_already_open"
    # Rejection needs reasons, and then the organiser may apply again.
    rejected = await act(
        client,
        people,
        "approver",
        one + "/decision",
        {"outcome": "reject", "comment": "The foreign partner is not identified."},
    )
    assert rejected["status"] == "rejected"
    assert (await create(client, people))["status"] == "draft"
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(PermitApplication)) == 2


async def test_bad_input_names_the_problem_and_writes_nothing(
    client: Client, people: People, demo: Database
) -> None:
    cases = [
        (application_body(ends_on="2027-10-01"), "before it starts"),
        (application_body(funding_currency="XYZ"), "ISO 4217"),
        (application_body(format="in person"), "format"),
        (
            application_body(participants=[{"country": "XX", "organisation": "A", "number": 1}]),
            "ISO 3166",
        ),
        (
            application_body(participants=[{"country": "LA", "organisation": "A", "number": 0}]),
            "participants.0.number",
        ),
        (application_body(funding_amount="-5"), "funding_amount"),
        (application_body(funding_amount="1.234"), "funding_amount"),
        (application_body(purpose=""), "purpose"),
        (application_body(surprise=True), "surprise"),
    ]
    for body, named in cases:
        response = await client.post(
            "/api/conferences/1/permits", json=body, headers=people("organiser")
        )
        assert response.status == 422, body
        problem = await response.json()
        assert named in problem["detail"], problem
    not_json = await client.post(
        "/api/conferences/1/permits", data="purpose=x", headers=people("organiser")
    )
    assert not_json.status == 415
    missing = await client.get(f"{P}/999999", headers=people("approver"))
    assert missing.status == 404 and (await missing.json())["code"] == "permit_not_found"
    bad_filter = await client.get(P + "?status=lost", headers=people("approver"))
    assert bad_filter.status == 422

    # Submitting needs foreign participants and dates still to come.
    draft = await create(client, people, participants=[])
    one = f"{P}/{draft['id']}"
    refused = await act(client, people, "organiser", one + "/submit", {}, 422)
    assert refused["code"] == "no_foreign_participants"
    await client.patch(
        one,
        json={
            "participants": application_body()["participants"],
            "starts_on": "2020-01-01",
            "ends_on": "2020-01-02",
        },
        headers=people("organiser"),
    )
    refused = await act(client, people, "organiser", one + "/submit", {}, 422)
    assert refused["code"] == "dates_passed"
    # An edit that makes the whole invalid is refused as a whole.
    half = await client.patch(one, json={"ends_on": "2019-12-31"}, headers=people("organiser"))
    assert half.status == 422
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(PermitApplication)) == 1
        steps = list(await db.scalars(select(PermitStep.action)))
        stored = await db.get(PermitApplication, draft["id"])
        assert stored is not None and stored.ends_on == dt.date(2020, 1, 2)
    assert steps == ["created"]


async def test_withdraw(client: Client, people: People) -> None:
    made = await create(client, people)
    one = f"{P}/{made['id']}"
    await act(client, people, "organiser", one + "/submit", {})
    gone = await act(client, people, "organiser", one + "/withdraw", {"comment": "postponed"})
    assert gone["status"] == "withdrawn" and gone["clock"]["due_on"] is None
    assert gone["steps"][-1]["comment"] == "postponed"
    assert (await act(client, people, "approver", one + "/decision", {"outcome": "approve"}, 409))[
        "code"
    ] == "wrong_status"


async def test_the_conference_follows_its_permit(client: Client, people: People) -> None:
    """Submitting the permit puts a draft conference in "awaiting approval"; the decision
    approves it, or sends it back to draft."""
    body = {
        "title": "Coordination meeting Quang Ngai – Champasak 2027",
        "time_zone": "Asia/Ho_Chi_Minh",
        "starts_at": "2027-10-20T08:00:00",
        "ends_at": "2027-10-21T17:00:00",
        "kind": "online",
        "languages": [{"code": "vi"}, {"code": "lo"}],
    }
    made = await client.post("/api/conferences", json=body, headers=people("organiser"))
    assert made.status == 201, await made.text()
    conference = (await made.json())["id"]

    async def status() -> str:
        found = await client.get(f"/api/conferences/{conference}", headers=people("organiser"))
        return str((await found.json())["status"])

    application = await create(client, people, conference)
    one = f"{P}/{application['id']}"
    assert await status() == "draft"
    await act(client, people, "organiser", one + "/submit", {})
    assert await status() == "awaiting_approval"
    await act(
        client,
        people,
        "approver",
        one + "/decision",
        {"outcome": "request_changes", "comment": "Name the foreign delegation's head."},
    )
    assert await status() == "draft"
    await act(client, people, "organiser", one + "/submit", {})
    await act(client, people, "approver", one + "/decision", {"outcome": "approve"})
    assert await status() == "approved"
