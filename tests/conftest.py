"""Shared fixtures: a real database (SQLite and PostgreSQL), the app, and signed-in clients."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.app import create_app
from server.config import Config
from server.db import Database
from server.search.index import keep_index
from server.settings import load_config

POSTGRES_ADMIN_URL = os.environ.get(
    "CONCORD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("CONCORD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("CONCORD_REQUIRE_SERVICES") == "1"
SECRET = "test-secret-key-" + "x" * 32


def _unavailable(what: str, why: str) -> None:
    message = f"{what} is not reachable ({why})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; CONCORD_REQUIRE_SERVICES=1 demands it")
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """The test Redis (its database 15; CONCORD_TEST_REDIS_URL), checked to answer."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except (OSError, redis.exceptions.RedisError) as exc:
        _unavailable("Redis", f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
    return REDIS_URL


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


_TEST_ENVIRONMENT = {
    "CONCORD_SECRET_KEY": SECRET,
    "CONCORD_ICE_HOST_ADDRESSES": "127.0.0.1",
    # Real argon2id, at a cost that keeps hundreds of sign-ins in a test run cheap.
    "CONCORD_ARGON2_TIME_COST": "1",
    "CONCORD_ARGON2_MEMORY_KIB": "1024",
}


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return load_config(
        environ={
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(tmp_path / "data"),
            "CONCORD_DATABASE_URL": database_url,
        }
    )


class Templates:
    """Databases migrated to head (and with the demo loaded) once per test session; each test
    gets a copy: a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL. Running
    fourteen migrations and loading the demo for each of a thousand tests took minutes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}  # kind → database name

    async def _prepare(self, url: str, kind: str) -> None:
        from server.accounts.passwords import Passwords
        from server.demo.loader import load_demo

        database = keep_index(Database(url))
        try:
            await database.upgrade()
            if kind == "demo":
                environ = {**_TEST_ENVIRONMENT, "CONCORD_DATABASE_URL": url}
                environ["CONCORD_DATA_DIR"] = str(self.directory / "data")
                await load_demo(database, Passwords.from_config(load_config(environ=environ)))
        finally:
            await database.close()

    async def restore(self, url: str, kind: str) -> None:
        """Make the (fresh, empty) database at ``url`` a copy of the ``kind`` template."""
        if url.startswith("sqlite"):
            template = self._sqlite.get(kind)
            if template is None:
                template = self.directory / f"{kind}.db"
                await self._prepare(f"sqlite+aiosqlite:///{template}", kind)
                self._sqlite[kind] = template
            shutil.copyfile(template, url.split(":///", 1)[1])
            return
        import asyncpg

        name = self._postgres.get(kind)
        if name is None:
            made = await _postgres_database()
            await self._prepare(made, kind)
            name = self._postgres[kind] = made.rsplit("/", 1)[1]
        target = url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(
            POSTGRES_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
        )
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{name}"')
        finally:
            await conn.close()

    async def drop(self) -> None:
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        for name in self._postgres.values():
            await _drop_postgres_database(f"{base}/{name}")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    asyncio.run(made.drop())


@pytest.fixture
async def database(
    config: Config, templates: Templates, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """The test's database at head; with the demo loaded already when the test asks for it."""
    kind = "demo" if "demo" in request.fixturenames else "migrated"
    await templates.restore(config.database_url, kind)
    db = keep_index(Database(config.database_url))
    await db.upgrade()  # at head already: a quick check that the copy is whole
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def demo(database: Database, config: Config) -> Database:
    from server.accounts.passwords import Passwords
    from server.demo.loader import load_demo

    await load_demo(database, Passwords.from_config(config))  # present already: a no-op
    return database


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory, config: Config, demo: Database
) -> TestClient[Any, Any]:
    """A client of an app whose database holds the demo data."""
    return await aiohttp_client(create_app(config))


@pytest.fixture
async def other_client(client: TestClient[Any, Any]) -> AsyncIterator[TestClient[Any, Any]]:
    """A second browser on the same server, with its own cookie jar."""
    from aiohttp import CookieJar

    extra: TestClient[Any, Any] = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await extra.start_server()
    try:
        yield extra
    finally:
        await extra.session.close()  # not .close(): that would stop the shared server


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


async def hold_conference(database: Database, conference_id: int = 1) -> None:
    """Make a demo conference one whose room can be held: live. The demo's memorandum
    (conference 1, with the Lao booth the room tests use) has ended, and an ended conference's
    room is closed (server/live/opening.py)."""
    from sqlalchemy import update

    from server.models import Conference

    async with database.session() as db, db.begin():
        await db.execute(
            update(Conference).where(Conference.id == conference_id).values(status="live")
        )
