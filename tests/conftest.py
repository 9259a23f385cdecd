"""Shared fixtures: a real database (SQLite and PostgreSQL), the app, and signed-in clients."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.config import Config, load_config
from server.db import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "CONCORD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("CONCORD_REQUIRE_SERVICES") == "1"
SECRET = "test-secret-key-" + "x" * 32


def _unavailable(what: str, why: str) -> None:
    message = f"{what} is not reachable ({why})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; CONCORD_REQUIRE_SERVICES=1 demands it")
    pytest.skip(message)


async def _postgres_database() -> str:
    """Create a fresh PostgreSQL database and return its URL (the caller drops it)."""
    import asyncpg

    base = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(base), 5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        _unavailable("PostgreSQL", f"{type(exc).__name__}: {exc}")
    name = f"concord_test_{secrets.token_hex(6)}"
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def _drop_postgres_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    base = POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'concord.db'}"
        return
    url = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return load_config(
        environ={
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
            "CONCORD_SECRET_KEY": SECRET,
            "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
            # Real argon2id, at a cost that keeps hundreds of sign-ins in a test run cheap.
            "CONCORD_ARGON2_TIME_COST": "1",
            "CONCORD_ARGON2_MEMORY_KIB": "1024",
        }
    )


@pytest.fixture
async def database(config: Config) -> AsyncIterator[Database]:
    db = Database(config.database_url)
    await db.upgrade()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def demo(database: Database, config: Config) -> Database:
    from server.accounts.passwords import Passwords
    from server.demo.loader import load_demo

    await load_demo(database, Passwords.from_config(config))
    return database


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, config: Config, demo: Database
) -> TestClient[Any, Any]:
    """A client of an app whose database holds the demo data."""
    return await aiohttp_client(create_app(config))


@pytest.fixture
async def other_client(client: TestClient[Any, Any]) -> TestClient[Any, Any]:
    """A second browser on the same server, with its own cookie jar."""
    from aiohttp import CookieJar

    extra: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await extra.start_server()
    return extra


async def sign_in(client: TestClient[Any, Any], email: str, password: str | None = None) -> str:
    """Sign in through the JSON API; returns the CSRF token for later writes."""
    from server.demo.data import demo_password

    response = await client.post(
        "/api/session", json={"email": email, "password": password or demo_password(email)}
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    token = body["csrf_token"]
    assert isinstance(token, str)
    return token


async def sign_in_english(client: TestClient[Any, Any], email: str) -> str:
    """``sign_in``, then choose English: the demo users read Vietnamese or Lao, and tests
    that read pages look for English text. Returns the CSRF token."""
    token = await sign_in(client, email)
    changed = await client.patch("/api/me", json={"locale": "en"}, headers={"X-CSRF-Token": token})
    assert changed.status == 200, await changed.text()
    return token


async def csrf_of_page(client: TestClient[Any, Any], path: str = "/login") -> str:
    """Open a page and return the CSRF token its forms carry."""
    import re

    html = await (await client.get(path)).text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF field on {path}"
    return found.group(1)
