"""Signing in and out, session cookies, CSRF, rate limiting, API tokens, user creation."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db import Database
from server.models import ApiToken, AuditEntry, LoginSession, User
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
ORGANISER = "organiser@concord.example"


async def count(database: Database, model: Any) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_json_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(client: Client) -> None:
    response = await client.post(
        "/api/session", json={"email": ORGANISER, "password": "concord-organiser"}
    )
    assert response.status == 201
    body = await response.json()
    assert body["email"] == ORGANISER and body["roles"] == ["organiser"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert (await client.get("/api/session")).status == 200

    refused = await client.delete("/api/session")  # a cookie write without the CSRF header
    assert refused.status == 403 and (await refused.json())["code"] == "csrf_failed"
    done = await client.delete("/api/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert done.status == 204
    assert (await client.get("/api/session")).status == 401


async def test_form_sign_in_and_sign_out(client: Client, demo: Database) -> None:
    token = await csrf_of_page(client, "/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": ORGANISER,
            "password": "concord-organiser",
            "next": "/conferences/1",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/conferences/1"
    home = await client.get("/")
    assert "Signing of the cooperation MoU" in await home.text()
    page_token = await csrf_of_page(client, "/")
    out = await client.post("/logout", data={"csrf_token": page_token}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/login"
    assert await count(demo, LoginSession) == 0
    again = await client.get("/", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == "/login?next=/"


async def test_sign_in_never_redirects_off_site(client: Client) -> None:
    token = await csrf_of_page(client, "/login")
    response = await client.post(
        "/login",
        data={
            "csrf_token": token,
            "email": ORGANISER,
            "password": "concord-organiser",
            "next": "//evil.example/steal",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"


async def test_login_form_without_csrf_token_is_refused(client: Client, demo: Database) -> None:
    await client.get("/login")
    response = await client.post(
        "/login", data={"email": ORGANISER, "password": "concord-organiser"}
    )
    assert response.status == 403
    assert "CSRF" in await response.text()
    assert await count(demo, LoginSession) == 0


async def test_wrong_password_is_refused_without_saying_which_part(client: Client) -> None:
    for email in (ORGANISER, "nobody@concord.example"):
        response = await client.post("/api/session", json={"email": email, "password": "nope-nope"})
        assert response.status == 401
        body = await response.json()
        assert body["code"] == "bad_credentials" and body["detail"] == "wrong e-mail or password"


async def test_repeated_failures_are_rate_limited(client: Client) -> None:
    # Four failures are free; the fifth makes the next attempt wait (tests/test_throttle.py
    # follows the delays with a clock of its own).
    for _ in range(5):
        failed = await client.post("/api/session", json={"email": ORGANISER, "password": "wrong!"})
        assert failed.status == 401
    blocked = await client.post(
        "/api/session", json={"email": ORGANISER, "password": "concord-organiser"}
    )
    assert blocked.status == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert (await blocked.json())["code"] == "rate_limited"
    other = await client.post(
        "/api/session", json={"email": "secretary@concord.example", "password": "concord-secretary"}
    )
    assert other.status == 201, "another account from the same place is not locked out yet"


async def test_cookie_writes_need_the_csrf_token(client: Client) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    new_user = {"email": "new@concord.example", "roles": ["secretary"], "password": "long-enough-1"}
    refused = await client.post("/api/users", json=new_user)
    assert refused.status == 403
    wrong = await client.post("/api/users", json=new_user, headers={"X-CSRF-Token": "forged"})
    assert wrong.status == 403
    made = await client.post("/api/users", json=new_user, headers={"X-CSRF-Token": csrf})
    assert made.status == 201, await made.text()


async def test_api_tokens_authenticate_scripts_and_can_be_revoked(
    client: Client, other_client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, ORGANISER)
    made = await client.post(
        "/api/tokens", json={"name": "agenda sync"}, headers={"X-CSRF-Token": csrf}
    )
    assert made.status == 201
    body = await made.json()
    token = body["token"]
    assert token.startswith("cnc_") and body["prefix"] == token[:10]
    async with demo.session() as db:
        stored = await db.scalar(select(ApiToken.token_hash).where(ApiToken.id == body["id"]))
        assert stored == hashlib.sha256(token.encode()).hexdigest(), "only the digest is kept"

    bearer = {"Authorization": f"Bearer {token}"}
    listed = await other_client.get("/api/conferences", headers=bearer)
    assert listed.status == 200 and len(await listed.json()) == 2
    # A bearer-authenticated write needs no CSRF token: no cookie, nothing ambient to abuse.
    assert (
        await other_client.patch("/api/me", json={"locale": "vi"}, headers=bearer)
    ).status == 200

    revoked = await client.delete(f"/api/tokens/{body['id']}", headers={"X-CSRF-Token": csrf})
    assert revoked.status == 200 and (await revoked.json())["revoked_at"]
    after = await other_client.get("/api/conferences", headers=bearer)
    assert after.status == 401 and (await after.json())["code"] == "bad_token"
    malformed = await other_client.get("/api/conferences", headers={"Authorization": "Basic x"})
    assert malformed.status == 401 and (await malformed.json())["code"] == "bad_authorization"


async def test_user_creation_is_validated_and_audited(client: Client, demo: Database) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    headers = {"X-CSRF-Token": csrf}
    users_before = await count(demo, User)
    audit_before = await count(demo, AuditEntry)
    bad = [
        ({"email": "not-an-email", "roles": ["delegate"], "password": "long-enough-1"}, 422),
        ({"email": "a@b.example", "roles": [], "password": "long-enough-1"}, 422),
        ({"email": "a@b.example", "roles": ["emperor"], "password": "long-enough-1"}, 422),
        ({"email": "a@b.example", "roles": ["delegate"], "password": "short"}, 422),
        ({"email": ORGANISER, "roles": ["delegate"], "password": "long-enough-1"}, 409),
        ({"email": "a@b.example", "roles": ["delegate"], "extra": 1}, 422),
    ]
    for body, status in bad:
        response = await client.post("/api/users", json=body, headers=headers)
        assert response.status == status, (body, await response.text())
    assert await count(demo, User) == users_before, "refused input writes nothing"
    assert await count(demo, AuditEntry) == audit_before
    ok = await client.post(
        "/api/users",
        headers=headers,
        json={
            "email": "Secretary2@Concord.example",
            "roles": ["secretary"],
            "password": "long-enough-1",
        },
    )
    assert ok.status == 201 and (await ok.json())["email"] == "secretary2@concord.example"
    async with demo.session() as db:
        entry = await db.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None and entry.action == "user.created"
        assert entry.actor == "admin@concord.example"


async def test_admin_page_creates_users(client: Client) -> None:
    await sign_in(client, "admin@concord.example")
    token = await csrf_of_page(client, "/admin/users")
    response = await client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "booth@concord.example",
            "role": "interpreter",
            "password": "long-enough-1",
            "display_name": "Booth EN",
        },
    )
    assert response.status == 201
    assert "booth@concord.example" in await response.text()
    duplicate = await client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "booth@concord.example",
            "role": "interpreter",
            "password": "long-enough-1",
        },
    )
    assert duplicate.status == 409
    assert "already exists" in await duplicate.text()


async def test_language_is_chosen_per_user(client: Client) -> None:
    csrf = await sign_in(client, ORGANISER)  # the demo organiser works in Vietnamese
    assert (await client.get("/api/session")).status == 200
    bad = await client.patch("/api/me", json={"locale": "fr"}, headers={"X-CSRF-Token": csrf})
    assert bad.status == 422
    ok = await client.patch("/api/me", json={"locale": "lo"}, headers={"X-CSRF-Token": csrf})
    assert (await ok.json())["locale"] == "lo"
    page = await client.get("/")
    assert '<html lang="lo">' in await page.text()


async def test_expired_sessions_are_reaped_and_stale_failures_forgotten(
    client: Client, other_client: Client, demo: Database
) -> None:
    import datetime as dt

    from sqlalchemy import update

    from server.accounts.reaper import SessionReaper
    from server.accounts.throttle import LoginThrottle

    await sign_in(client, ORGANISER)
    await sign_in(other_client, "secretary@concord.example")
    async with demo.session() as db, db.begin():
        first = await db.scalar(select(func.min(LoginSession.id)))
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await db.execute(
            update(LoginSession).where(LoginSession.id == first).values(expires_at=past)
        )
    now = [0.0]
    throttle = LoginThrottle(forget_after=3600, clock=lambda: now[0])
    throttle.failed("someone@example.org", "127.0.0.1")  # per client, address and account
    reaper = SessionReaper(demo, throttle)
    assert await reaper.reap_once() == 1
    assert await count(demo, LoginSession) == 1
    assert len(throttle) == 3
    now[0] = 3601.0
    await reaper.reap_once()
    assert len(throttle) == 0
    reaper.start()
    await reaper.close()
    await reaper.close()  # safe twice


async def test_time_zone_is_chosen_per_user(client: Client) -> None:
    csrf = await sign_in(client, ORGANISER)
    headers = {"X-CSRF-Token": csrf}
    bad = await client.patch("/api/me", json={"time_zone": "Mars/Olympus"}, headers=headers)
    assert bad.status == 422 and (await bad.json())["code"] == "invalid_time_zone"
    empty = await client.patch("/api/me", json={}, headers=headers)
    assert empty.status == 422 and (await empty.json())["code"] == "empty"
    token = await csrf_of_page(client, "/account")
    saved = await client.post(
        "/account/profile", data={"csrf_token": token, "time_zone": "Europe/Paris"}
    )
    assert saved.status == 200
    me = await (await client.get("/api/session")).json()
    assert me["time_zone"] == "Europe/Paris" and me["locale"] == "vi"
    page = await (await client.get("/conferences/1")).text()
    assert ") Paris · " in page and "04:00" in page, "09:00 in Ha Noi is 04:00 in Paris (CEST)"
