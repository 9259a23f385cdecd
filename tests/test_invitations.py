"""Per-site invitations: signed, expiring, revocable, and granting exactly their scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from server.db import Database
from server.models import AuditEntry, Invitation, LoginSession
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
INVITATIONS = "/api/conferences/{}/invitations"


async def invite(client: Client, csrf: str, conference: int = 1, **body: Any) -> dict[str, Any]:
    response = await client.post(
        INVITATIONS.format(conference), json={"site_id": 2, **body}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 201, await response.text()
    data = await response.json()
    assert isinstance(data, dict)
    return data


def join_path(url: str) -> str:
    return url[url.index("/join/") :]


async def test_a_guest_gets_exactly_the_invitations_rights(
    client: Client, other_client: Client
) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await invite(client, csrf, role="technician", label="Champasak technician")
    assert made["url"].startswith("http://127.0.0.1:8080/join/")
    opened = await other_client.get(join_path(made["url"]), allow_redirects=False)
    assert opened.status == 303 and opened.headers["Location"] == "/conferences/1/room"

    me = await (await other_client.get("/api/session")).json()
    assert me["via"] == "guest" and me["roles"] == ["technician"]
    assert (me["guest_conference_id"], me["guest_site_id"]) == (1, 2)
    assert me["user_id"] is None

    assert (await other_client.get("/api/conferences/1")).status == 200
    listed = await (await other_client.get("/api/conferences")).json()
    assert [c["id"] for c in listed] == [1]
    assert (await other_client.get("/api/conferences/2")).status == 403
    assert (await other_client.get("/conferences/2")).status == 403
    guest_csrf = me["csrf_token"]
    for method, path in (
        ("GET", "/api/users"),
        ("GET", "/api/tokens"),
        ("GET", "/account"),
        ("GET", INVITATIONS.format(1)),
        ("POST", INVITATIONS.format(1)),
    ):
        response = await other_client.request(
            method, path, json={"site_id": 1}, headers={"X-CSRF-Token": guest_csrf}
        )
        assert response.status == 403, (method, path)
    page = await (await other_client.get("/conferences/1")).text()
    assert "Champasak hall" in page and "Create invitation link" not in page


async def test_tampered_links_are_refused(client: Client, other_client: Client) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await invite(client, csrf)
    path = join_path(made["url"])
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    for bad in (tampered, "/join/garbage", "/join/" + "x" * 500):
        response = await other_client.get(bad, allow_redirects=False)
        assert response.status == 404
        assert "not valid" in await response.text()
    assert (await other_client.get("/api/session")).status == 401


async def test_expired_invitations_stop_working(
    client: Client, other_client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await invite(client, csrf, valid_hours=1)
    assert (await other_client.get(join_path(made["url"]), allow_redirects=False)).status == 303
    assert (await other_client.get("/api/conferences/1")).status == 200
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    async with demo.session() as db, db.begin():
        await db.execute(
            update(Invitation).where(Invitation.id == made["id"]).values(expires_at=past)
        )
    assert (await other_client.get("/api/conferences/1")).status == 401, "its session ends too"
    again = await other_client.get(join_path(made["url"]), allow_redirects=False)
    assert again.status == 410
    assert "expired" in await again.text()


async def test_revoked_invitations_end_their_sessions(
    client: Client, other_client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await invite(client, csrf)
    await other_client.get(join_path(made["url"]), allow_redirects=False)
    assert (await other_client.get("/api/conferences/1")).status == 200
    revoked = await client.delete(
        f"{INVITATIONS.format(1)}/{made['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert revoked.status == 200 and (await revoked.json())["revoked_at"]
    assert (await other_client.get("/api/conferences/1")).status == 401
    gone = await other_client.get(join_path(made["url"]), allow_redirects=False)
    assert gone.status == 410 and "withdrawn" in await gone.text()
    async with demo.session() as db:
        sessions = await db.scalar(
            select(func.count())
            .select_from(LoginSession)
            .where(LoginSession.invitation_id == made["id"])
        )
        actions = list(
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_type == "invitation")
                .order_by(AuditEntry.id)
            )
        )
    assert sessions == 0
    assert actions == ["invitation.created", "invitation.opened", "invitation.revoked"]


async def test_invitation_input_is_checked(client: Client, demo: Database) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    headers = {"X-CSRF-Token": csrf}
    cases = [
        ({"site_id": 999}, 422, "bad_site"),
        ({"site_id": 3}, 422, "bad_site"),  # a site of the other conference
        ({"site_id": 1, "role": "admin"}, 422, "bad_role"),
        ({"site_id": 1, "valid_hours": 0}, 422, "invalid_input"),
        ({"site_id": "one"}, 422, "invalid_input"),
    ]
    for body, status, code in cases:
        response = await client.post(INVITATIONS.format(1), json=body, headers=headers)
        assert response.status == status, body
        assert (await response.json())["code"] == code, body
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(Invitation)) == 0


async def test_organiser_invites_from_the_conference_page(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    token = await csrf_of_page(client, "/conferences/1")
    response = await client.post(
        "/conferences/1/invitations",
        data={"csrf_token": token, "site_id": "2", "role": "delegate", "valid_hours": "48"},
    )
    assert response.status == 201
    page = await response.text()
    assert 'id="new-invitation">http://127.0.0.1:8080/join/' in page
    listed = await (await client.get(INVITATIONS.format(1))).json()
    assert len(listed) == 1 and listed[0]["role"] == "delegate"
    revoke = await client.post(
        f"/conferences/1/invitations/{listed[0]['id']}/revoke",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert revoke.status == 303
    listed = await (await client.get(INVITATIONS.format(1))).json()
    assert listed[0]["revoked_at"] is not None


async def test_a_guests_header_names_the_site_and_the_role_in_the_guests_language(
    client: Client, other_client: Client
) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await invite(client, csrf, role="delegate")  # the default label: "<site> (delegate)"
    await other_client.get(join_path(made["url"]))
    other_client.session.cookie_jar.update_cookies({"concord_lang": "vi"})
    page = await (await other_client.get("/conferences/1")).text()
    who = page[page.index('class="who"') : page.index("</span>", page.index('class="who"'))]
    assert "(delegate)" not in who and "đại biểu" in who, who
