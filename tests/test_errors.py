"""Bad input of every kind gets a clear 4xx that names the problem, and writes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db import Database
from server.models import AuditEntry, User
from tests.conftest import sign_in

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"


async def rows(database: Database) -> tuple[int, int]:
    async with database.session() as db:
        users = await db.scalar(select(func.count()).select_from(User))
        audit = await db.scalar(select(func.count()).select_from(AuditEntry))
    return int(users or 0), int(audit or 0)


@pytest.fixture
async def admin_headers(client: Client) -> dict[str, str]:
    return {"X-CSRF-Token": await sign_in(client, "admin@concord.example")}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "says"),
    [
        ('{"email": ', "application/json", 400, "bad_json", "not valid JSON"),
        ("[1, 2]", "application/json", 422, "invalid_input", "(body)"),
        ('{"email": 5, "roles": "x"}', "application/json", 422, "invalid_input", "email"),
        (
            '{"email": "a@b.example"}',
            "application/json",
            422,
            "invalid_input",
            "roles: Field required",
        ),
        ("email=a@b.example", "text/plain", 415, "unsupported_media_type", "application/json"),
        (
            '{"email": "a@b.example", "roles": ["delegate"], "password": "x' + "y" * 2000 + '"}',
            "application/json",
            422,
            "invalid_input",
            "password",
        ),
    ],
)
async def test_bad_bodies_are_named_and_write_nothing(
    client: Client,
    demo: Database,
    admin_headers: dict[str, str],
    body: str,
    content_type: str,
    status: int,
    code: str,
    says: str,
) -> None:
    before = await rows(demo)
    response = await client.post(
        "/api/users", data=body, headers={**admin_headers, "Content-Type": content_type}
    )
    assert response.status == status
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["code"] == code and problem["status"] == status
    assert says in problem["detail"]
    assert await rows(demo) == before


async def test_oversized_bodies_are_refused(
    client: Client, demo: Database, admin_headers: dict[str, str]
) -> None:
    before = await rows(demo)
    # A stream, not a string: aiohttp warns (ResourceWarning) of a raw body over 1 MiB.
    big = io.BytesIO(b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    response = await client.post(
        "/api/users", data=big, headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert response.status == 413
    problem = await response.json()
    assert problem["code"] == "payload_too_large" and "1048576-byte limit" in problem["detail"]
    assert await rows(demo) == before


async def test_unknown_routes_and_methods(client: Client) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status == 404 and missing.content_type == PROBLEM
    assert (await missing.json())["detail"] == "nothing at /api/nothing-here"
    page = await client.get("/nothing-here", headers={"Accept": "text/html"})
    assert page.status == 404 and page.content_type == "text/html"
    assert "nothing at /nothing-here" in await page.text()
    wrong = await client.put("/api/session", json={})
    assert wrong.status == 405
    assert "GET" in wrong.headers["Allow"] and (await wrong.json())["code"] == "method_not_allowed"


async def test_bad_path_parameters(client: Client) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get("/api/conferences/abc")  # numbers only: no route matches
    assert response.status == 404 and (await response.json())["code"] == "not_found"
    response = await client.get("/api/conferences/999")
    assert response.status == 404 and "no conference 999" in (await response.json())["detail"]


async def test_browser_errors_are_pages_and_api_errors_are_problems(client: Client) -> None:
    await sign_in(client, "delegate@concord.example")
    page = await client.get("/admin/users")
    assert page.status == 403 and page.content_type == "text/html"
    html = await page.text()
    assert "this needs one of these roles: admin" in html and "wrong_role" in html
    api = await client.get("/api/users")
    assert api.status == 403 and api.content_type == PROBLEM
    assert (await api.json())["code"] == "wrong_role"


async def test_signed_out_pages_redirect_to_login_and_api_says_401(client: Client) -> None:
    page = await client.get("/conferences/1", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/login?next=/conferences/1"
    api = await client.get("/api/conferences")
    assert api.status == 401 and (await api.json())["code"] == "unauthorized"
