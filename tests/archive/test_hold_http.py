"""Legal hold over HTTP: the JSON API and the conference page's panel and form."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db import Database
from server.models import AuditEntry, Conference
from tests.conftest import csrf_of_page, sign_in, sign_in_english

Client = TestClient[Any, Any]
API = "/api/conferences/1/legal-hold"


async def _held(demo: Database) -> bool:
    async with demo.session() as db:
        found = await db.get(Conference, 1)
        assert found is not None
        return found.legal_hold


async def test_secretary_puts_on_and_lifts_a_hold(client: Client, demo: Database) -> None:
    token = await sign_in(client, "secretary@concord.example")
    headers = {"X-CSRF-Token": token}
    made = await client.post(
        API, json={"hold": True, "reason": "Provincial inspection"}, headers=headers
    )
    assert made.status == 200, await made.text()
    body = await made.json()
    assert body["legal_hold"] is True and body["reason"] == "Provincial inspection"
    assert body["by"] == "secretary@concord.example" and body["at"]
    shown = await (await client.get(API)).json()
    assert shown["legal_hold"] is True

    again = await client.post(API, json={"hold": True, "reason": "twice"}, headers=headers)
    assert again.status == 409
    lifted = await client.post(API, json={"hold": False, "reason": "Closed"}, headers=headers)
    assert lifted.status == 200 and (await lifted.json())["legal_hold"] is False
    async with demo.session() as db:
        actions = list(
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.conference_id == 1, AuditEntry.action.like("conference.legal%"))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["conference.legal_hold", "conference.legal_hold_lifted"]


async def test_bad_input_is_refused_and_changes_nothing(client: Client, demo: Database) -> None:
    token = await sign_in(client, "organiser@concord.example")
    headers = {"X-CSRF-Token": token}
    for body in (
        {"hold": True},
        {"hold": True, "reason": "   "},
        {"hold": "maybe", "reason": "x"},
        {"hold": True, "reason": "x" * 1001},
    ):
        response = await client.post(API, json=body, headers=headers)
        assert response.status == 422, (body, await response.text())
    assert not await _held(demo)


async def test_a_technician_may_not_hold(client: Client, demo: Database) -> None:
    token = await sign_in(client, "technician@concord.example")
    response = await client.post(
        API, json={"hold": True, "reason": "no"}, headers={"X-CSRF-Token": token}
    )
    assert response.status == 403
    assert not await _held(demo)


async def test_the_conference_page_shows_and_changes_the_hold(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, "organiser@concord.example")
    page = await (await client.get("/conferences/1")).text()
    assert 'id="legal-hold"' in page and "Not on legal hold" in page
    csrf = await csrf_of_page(client, "/conferences/1")
    posted = await client.post(
        "/conferences/1/legal-hold",
        data={"csrf_token": csrf, "hold": "on", "reason": "Court order <b>42</b>"},
        allow_redirects=False,
    )
    assert posted.status == 303 and posted.headers["Location"] == "/conferences/1#legal-hold"
    page = await (await client.get("/conferences/1")).text()
    assert "On legal hold since" in page
    assert "Court order &lt;b&gt;42&lt;/b&gt;" in page
    assert "Lift the legal hold" in page
    assert await _held(demo)
    refused = await client.post(
        "/conferences/1/legal-hold",
        data={"csrf_token": csrf, "hold": "off", "reason": ""},
        allow_redirects=False,
    )
    assert refused.status == 422
    assert await _held(demo)


async def test_a_reader_sees_the_hold_but_no_form(client: Client, demo: Database) -> None:
    await sign_in_english(client, "technician@concord.example")
    page = await (await client.get("/conferences/1")).text()
    assert 'id="legal-hold"' in page
    assert 'action="/conferences/1/legal-hold"' not in page
