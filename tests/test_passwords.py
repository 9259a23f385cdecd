"""Passwords after the first sign-in: a user changes their own; an admin gives a temporary one
that must be replaced at the next sign-in (issue 17, administration)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db import Database
from server.demo.data import demo_password
from server.models import AuditEntry, LoginSession, User
from tests.conftest import csrf_of_page, sign_in, sign_in_english

Client = TestClient[Any, Any]
SECRETARY = "secretary@concord.example"
NEW = "a much longer passphrase"


async def _user(db: Database, email: str) -> User:
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


async def _count(db: Database, model: type[Any], *where: Any) -> int:
    async with db.session() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(found or 0)


async def _signs_in(client: Client, email: str, password: str) -> bool:
    """Whether ``password`` opens the account (from a fresh cookie jar: this signs in anew)."""
    client.session.cookie_jar.clear()
    answer = await client.post("/api/session", json={"email": email, "password": password})
    return answer.status == 201


async def test_changing_ones_own_password_signs_out_the_other_browsers(
    client: Client, other_client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, SECRETARY)
    await sign_in(other_client, SECRETARY)
    me = await _user(demo, SECRETARY)
    audits = await _count(demo, AuditEntry)
    done = await client.post(
        "/api/me/password",
        json={"current_password": demo_password(SECRETARY), "new_password": NEW},
        headers={"X-CSRF-Token": csrf},
    )
    assert done.status == 204, await done.text()
    assert (await client.get("/api/session")).status == 200  # this browser stays signed in
    assert (await other_client.get("/api/session")).status == 401  # the other is signed out
    assert await _count(demo, LoginSession, LoginSession.user_id == me.id) == 1
    assert await _count(demo, AuditEntry, AuditEntry.action == "user.password_changed") == 1
    assert await _count(demo, AuditEntry) == audits + 1
    assert not await _signs_in(other_client, SECRETARY, demo_password(SECRETARY))
    assert await _signs_in(other_client, SECRETARY, NEW)


async def test_a_refused_change_says_why_and_changes_nothing(
    client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, SECRETARY)
    before = (await _user(demo, SECRETARY)).password_hash
    audits = await _count(demo, AuditEntry)
    current = demo_password(SECRETARY)
    cases = [
        ({"current_password": "not it at all", "new_password": NEW}, "wrong_password"),
        ({"current_password": current, "new_password": "short"}, "weak_password"),
        ({"current_password": current, "new_password": current}, "same_password"),
        ({"current_password": current}, "invalid_input"),
    ]
    for body, code in cases:
        answer = await client.post("/api/me/password", json=body, headers={"X-CSRF-Token": csrf})
        assert answer.status == 422, (body, await answer.text())
        assert (await answer.json())["code"] == code, body
    assert (await _user(demo, SECRETARY)).password_hash == before
    assert await _count(demo, AuditEntry) == audits


async def test_the_account_page_changes_the_password_and_shows_errors_in_words(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, SECRETARY)
    csrf = await csrf_of_page(client, "/account")
    form = {
        "csrf_token": csrf,
        "current_password": demo_password(SECRETARY),
        "new_password": NEW,
        "new_password_again": NEW + "!",
    }
    differ = await client.post("/account/password", data=form)
    assert differ.status == 422
    assert "the two new passwords are not the same" in await differ.text()
    assert await _signs_in(client, SECRETARY, demo_password(SECRETARY))
    csrf = await csrf_of_page(client, "/account")
    done = await client.post(
        "/account/password", data={**form, "csrf_token": csrf, "new_password_again": NEW}
    )
    assert done.status == 200
    assert "Your password is changed" in await done.text()
    assert await _signs_in(client, SECRETARY, NEW)


async def test_an_admin_reset_gives_a_temporary_password_to_replace_at_sign_in(
    client: Client, other_client: Client, demo: Database
) -> None:
    await sign_in(other_client, SECRETARY)
    csrf = await sign_in(client, "admin@concord.example")
    target = await _user(demo, SECRETARY)
    answer = await client.post(
        f"/api/users/{target.id}/password-reset", headers={"X-CSRF-Token": csrf}
    )
    assert answer.status == 201, await answer.text()
    temporary = (await answer.json())["temporary_password"]
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", temporary)
    assert (await other_client.get("/api/session")).status == 401  # signed out at once
    assert (await _user(demo, SECRETARY)).must_change_password
    assert await _count(demo, AuditEntry, AuditEntry.action == "user.password_reset") == 1
    assert not await _signs_in(other_client, SECRETARY, demo_password(SECRETARY))

    # Signing in through the page leads to the password form first.
    other_client.session.cookie_jar.clear()
    login = await csrf_of_page(other_client, "/login")
    form = {"csrf_token": login, "email": SECRETARY, "password": temporary, "next": "/"}
    signed = await other_client.post("/login", data=form, allow_redirects=False)
    assert signed.status in (302, 303), await signed.text()
    assert signed.headers["Location"] == "/account?password=required"
    page = await other_client.get("/account")
    assert 'id="password"' in await page.text()
    assert 'role="alert"' in await page.text()  # (in the user's language: Vietnamese here)
    csrf2 = await csrf_of_page(other_client, "/account")
    changed = await other_client.post(
        "/account/password",
        data={
            "csrf_token": csrf2,
            "current_password": temporary,
            "new_password": NEW,
            "new_password_again": NEW,
        },
    )
    assert changed.status == 200, await changed.text()
    assert not (await _user(demo, SECRETARY)).must_change_password


async def test_resets_that_cannot_be_done_are_refused(client: Client, demo: Database) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    me = await _user(demo, "admin@concord.example")
    audits = await _count(demo, AuditEntry)
    own = await client.post(f"/api/users/{me.id}/password-reset", headers={"X-CSRF-Token": csrf})
    assert own.status == 409 and (await own.json())["code"] == "own_account"
    missing = await client.post("/api/users/999999/password-reset", headers={"X-CSRF-Token": csrf})
    assert missing.status == 404
    assert (await _user(demo, "admin@concord.example")).password_hash == me.password_hash
    assert await _count(demo, AuditEntry) == audits


async def test_the_users_page_resets_a_password_and_asks_for_a_role(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, "admin@concord.example")
    page = await (await client.get("/admin/users")).text()
    assert '<option value="" selected disabled>Choose a role</option>' in page
    target = await _user(demo, SECRETARY)
    csrf = await csrf_of_page(client, "/admin/users")
    done = await client.post(f"/admin/users/{target.id}/password-reset", data={"csrf_token": csrf})
    html = await done.text()
    assert done.status == 201, html
    shown = re.search(r'data-copy="([a-z2-9-]{19})"', html)
    assert shown, html
    assert SECRETARY in html
    assert await _signs_in(client, SECRETARY, shown.group(1))
