"""Health, the OpenAPI document, the demo loader, socket.io sign-in, and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate
from sqlalchemy import func, select

from server.accounts.passwords import Passwords
from server.app import create_app
from server.config import Config
from server.db import Database
from server.demo.loader import load_demo
from server.models import AgendaSession, Conference, Site, User
from server.settings import load_config
from tests.conftest import SECRET, sign_in

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parent.parent


async def test_healthz_reports_version_and_database(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["version"] == "0.1.0"
    assert body["database"]["status"] == "ok"


async def test_healthz_is_503_when_the_database_is_unreachable(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    config = load_config(
        environ={
            "CONCORD_DATA_DIR": str(tmp_path),
            "CONCORD_SECRET_KEY": SECRET,
            "CONCORD_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere",
        }
    )
    client = await aiohttp_client(create_app(config))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "degraded" and body["database"]["status"].startswith("unreachable")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_openapi_document_is_valid_and_matches_the_validators(client: Client) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    validate(document)  # raises on anything that is not valid OpenAPI 3.1
    paths = document["paths"]
    login = paths["/api/session"]["post"]
    body_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    login_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert set(login_schema["required"]) == {"email", "password"}
    assert login["security"] == []
    assert paths["/api/users"]["post"]["x-access"] == "users[admin]"
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    api_routes = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes()
        if r.resource is not None and r.resource.canonical.startswith("/api/")
    }
    api_routes.discard(("GET", "/api/openapi.json"))  # the document itself
    assert api_routes == documented, "every API route is documented, and nothing else"


async def counts(database: Database) -> tuple[int, ...]:
    async with database.session() as db:
        return tuple(
            [
                int(await db.scalar(select(func.count()).select_from(model)) or 0)
                for model in (User, Conference, Site, AgendaSession)
            ]
        )


async def test_demo_loader_is_idempotent(database: Database, config: Config) -> None:
    passwords = Passwords.from_config(config)
    first = await load_demo(database, passwords)
    assert len(first.conferences_created) == 2 and len(first.users_created) == 11
    after_first = await counts(database)
    second = await load_demo(database, passwords)
    assert second.conferences_created == [] and second.users_created == []
    assert await counts(database) == after_first
    async with database.session() as db:
        aid = await db.scalar(select(Conference).where(Conference.kind == "hybrid"))
        assert aid is not None
        sites = list(await db.scalars(select(Site).where(Site.conference_id == aid.id)))
        assert sum(s.is_main_hall for s in sites) == 1 and len(sites) == 25
        mou = await db.scalar(select(Conference).where(Conference.kind == "online"))
        assert mou is not None
        assert mou.starts_at.isoformat() == "2021-10-29T02:00:00+00:00"  # 09:00 in Ha Noi


async def test_socket_connections_need_a_signed_in_session(client: Client) -> None:
    url = str(client.make_url("/"))
    anonymous = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await anonymous.connect(url, transports=["websocket"], wait_timeout=10)
    await anonymous.disconnect()

    await sign_in(client, "technician@concord.example")
    cookie = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)
    welcomed: list[dict[str, Any]] = []
    signed_in = socketio.AsyncClient(reconnection=False)
    signed_in.on("welcome", welcomed.append)
    await signed_in.connect(
        url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
    )
    await signed_in.sleep(0.2)
    await signed_in.disconnect()
    assert welcomed and welcomed[0]["roles"] == ["technician"]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        cwd=ROOT,
    )


def test_cli_reports_configuration_errors(tmp_path: Path) -> None:
    done = run_cli("db", "upgrade", env={"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_PORT": "http"})
    assert done.returncode == 2
    assert "CONCORD_PORT must be a whole number, got 'http'" in done.stderr
    assert not (tmp_path / "concord.db").exists()


def test_cli_upgrades_and_adds_users(tmp_path: Path) -> None:
    env = {
        "CONCORD_DATA_DIR": str(tmp_path),
        "CONCORD_ARGON2_MEMORY_KIB": "1024",
        "CONCORD_ARGON2_TIME_COST": "1",
    }
    assert run_cli("db", "upgrade", env=env).returncode == 0
    add = ("user", "add", "--password", "long-enough-1", "--email")
    added = run_cli(
        *add, "chair@concord.example", "--role", "organiser", "--role", "secretary", env=env
    )
    assert added.returncode == 0, added.stderr
    assert "created user chair@concord.example (organiser, secretary)" in added.stdout
    refusals = [
        (["chair@concord.example", "--role", "organiser"], 1, "already exists"),
        (
            ["x@concord.example", "--role", "organiser", "--password", "short"],
            1,
            "at least 10 characters",
        ),
        (["x@concord.example", "--role", "king"], 2, "invalid choice: 'king'"),
        (["not-an-email", "--role", "organiser"], 1, "is not an e-mail address"),
    ]
    for args, code, message in refusals:
        done = run_cli(*add, *args, env=env)
        assert (done.returncode, message in done.stderr) == (code, True), (args, done.stderr)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_socket_messages_travel_through_redis_when_configured(
    aiohttp_client: Any, config: Config, demo: Database, redis_url: str
) -> None:
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(config, redis_url=redis_url)))
    health = await (await client.get("/healthz")).json()
    assert health["redis"] == {"status": "ok"}
    await sign_in(client, "secretary@concord.example")
    cookie = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)
    welcomed: list[dict[str, Any]] = []
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("welcome", welcomed.append)
    await sio.connect(
        str(client.make_url("/")),
        headers={"Cookie": cookie},
        transports=["websocket"],
        wait_timeout=10,
    )
    for _ in range(50):
        if welcomed:
            break
        await sio.sleep(0.05)
    await sio.disconnect()
    assert welcomed and welcomed[0]["roles"] == ["secretary"], "delivered via Redis pub/sub"


async def test_healthz_is_503_when_redis_is_configured_but_down(
    aiohttp_client: Any, config: Config, demo: Database
) -> None:
    from dataclasses import replace

    app = create_app(replace(config, redis_url="redis://127.0.0.1:1/0"))
    client = await aiohttp_client(app)
    response = await client.get("/healthz")
    assert response.status == 503
    assert (await response.json())["redis"]["status"].startswith("unreachable")
