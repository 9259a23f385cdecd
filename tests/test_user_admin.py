"""An admin disables accounts and changes roles through ``PATCH /api/users/{id}``."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from multidict import MultiDict
from sqlalchemy import func, select

from server.db import Database
from server.demo.data import demo_password
from server.models import AuditEntry, User
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]


async def user_id(db: Database, email: str) -> int:
    async with db.session() as session:
        found = await session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


async def audit_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_disabling_an_account_stops_its_sign_in_and_is_audited(
    client: Client, other_client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    target = await user_id(demo, "secretary@concord.example")
    before = await audit_count(demo)
    done = await client.patch(
        f"/api/users/{target}", json={"active": False}, headers={"X-CSRF-Token": csrf}
    )
    assert done.status == 200, await done.text()
    assert (await done.json())["active"] is False
    assert await audit_count(demo) == before + 1
    refused = await other_client.post(
        "/api/session",
        json={
            "email": "secretary@concord.example",
            "password": demo_password("secretary@concord.example"),
        },
    )
    assert refused.status in (401, 403)

    roles = await client.patch(
        f"/api/users/{target}", json={"roles": ["delegate"]}, headers={"X-CSRF-Token": csrf}
    )
    assert (await roles.json())["roles"] == ["delegate"]


async def test_bad_changes_are_refused_and_change_nothing(client: Client, demo: Database) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    me = await user_id(demo, "admin@concord.example")
    headers = {"X-CSRF-Token": csrf}
    before = await audit_count(demo)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (f"/api/users/{me}", {"active": False}, 409, "own_account"),
        (f"/api/users/{me}", {"roles": ["organiser"]}, 409, "own_account"),
        (f"/api/users/{me}", {}, 422, "empty"),
        (f"/api/users/{me}", {"roles": []}, 422, ""),
        (f"/api/users/{me}", {"roles": ["emperor"]}, 422, ""),
        ("/api/users/999999", {"active": False}, 404, "user_not_found"),
    ]
    for path, body, status, code in cases:
        answer = await client.patch(path, json=body, headers=headers)
        assert answer.status == status, (body, await answer.text())
        if code:
            assert (await answer.json())["code"] == code
    assert await audit_count(demo) == before
    async with demo.session() as session:
        admin = await session.get(User, me)
        assert admin is not None and admin.active


async def test_the_admin_page_changes_roles_and_disables_with_its_form(
    client: Client, demo: Database
) -> None:
    await sign_in(client, "admin@concord.example")
    csrf = await csrf_of_page(client, "/admin/users")
    target = await user_id(demo, "delegate@concord.example")
    before = await audit_count(demo)

    bad = await client.post(
        f"/admin/users/{target}",
        data=MultiDict([("csrf_token", csrf), ("roles", "emperor"), ("active", "on")]),
    )
    assert bad.status == 422
    assert await audit_count(demo) == before

    saved = await client.post(
        f"/admin/users/{target}",
        data=MultiDict([("csrf_token", csrf), ("roles", "delegate"), ("roles", "secretary")]),
    )
    assert saved.status == 200, await saved.text()
    html = await saved.text()
    assert f'data-user-id="{target}" class="disabled"' in html
    async with demo.session() as session:
        user = await session.get(User, target)
        assert user is not None and not user.active
        assert {r.value for r in user.role_names} == {"delegate", "secretary"}
    assert await audit_count(demo) == before + 1
