"""Who may call every route: the access matrix, generated from the route table.

Every registered route is probed for every persona (anonymous, an invited guest, each role's
demo user by API token) in an own conference, a foreign one, and with objects of the foreign
conference in the own conference's path; ``tests/access_matrix.py`` derives who should pass
from each route's declared ``Rule`` (and its ``within``, for a finer rule its handler keeps),
``tests/access_world.py`` builds what the probes name. A route with a path parameter nobody
declared, or whose handler refuses more than its declared rule says, fails with what to
declare; one that admits more is an access hole.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections import Counter
from typing import Any

import pytest
from aiohttp import CookieJar, DummyCookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.accounts import operations as accounts
from server.db import Database
from server.identity import Identity
from server.keys import ACCESS_RULES
from server.models import User
from server.route_table import Rule
from tests.access_matrix import EMAIL, SAFE, USERS, Probe, judge, plan, undeclared
from tests.access_world import build_world, fingerprint
from tests.conftest import sign_in

Client = TestClient[Any, Any]
ENDS_SESSION = {("DELETE", "/api/session"), ("POST", "/logout")}


def registered(client: Client) -> list[tuple[str, str, Rule]]:
    """Every route the app serves, with its declared rule."""
    rules = client.app[ACCESS_RULES]
    found = []
    for route in client.app.router.routes():
        assert route in rules, f"{route.method} {route.resource} has no access rule"
        assert route.resource is not None
        canonical = route.resource.canonical
        if canonical.startswith(("/static", "/vendor/")):
            canonical += "/{filename}"
        found.append((route.method, canonical, rules[route]))
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_route_parameter_is_declared(client: Client) -> None:
    missing = {f"{m} {p}": undeclared(p) for m, p, _ in registered(client) if undeclared(p)}
    assert not missing, (
        f"path parameters the access matrix cannot fill: {missing}; declare what each names "
        "in tests/access_world.py (PATH_OBJECTS for a conference's object, else PATH_VALUES)"
    )


class Personas:
    """A client and headers per persona; users authenticate with API tokens (no CSRF)."""

    def __init__(self, client: Client, database: Database) -> None:
        self.client, self.database = client, database
        self.clients: list[Client] = []
        self.by_name: dict[str, tuple[Client, dict[str, str]]] = {}
        self.invitation_url = ""

    async def new_client(self, cookies: bool) -> Client:
        jar = CookieJar(unsafe=True) if cookies else DummyCookieJar()
        made: Client = TestClient(self.client.server, cookie_jar=jar)
        await made.start_server()
        self.clients.append(made)
        return made

    async def start(self) -> None:
        cookieless = await self.new_client(cookies=False)
        self.by_name["anonymous"] = (cookieless, {})
        async with self.database.session() as db, db.begin():
            for persona in USERS:
                user_id = await db.scalar(select(User.id).where(User.email == EMAIL[persona]))
                owner = Identity(via="bearer", user_id=user_id)
                made = await accounts.create_api_token(db, owner, "access test")
                self.by_name[persona] = (cookieless, {"Authorization": f"Bearer {made.token}"})
        organiser = await self.new_client(cookies=True)
        csrf = await sign_in(organiser, EMAIL["organiser"])
        invite = await organiser.post(
            "/api/conferences/1/invitations",
            json={"site_id": 1, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        assert invite.status == 201, await invite.text()
        url = (await invite.json())["url"]
        self.invitation_url = url[url.index("/join/") :]
        await self.rejoin_guest()

    async def rejoin_guest(self) -> None:
        guest = await self.new_client(cookies=True)
        joined = await guest.get(self.invitation_url, allow_redirects=False)
        assert joined.status == 303
        guest_csrf = (await (await guest.get("/api/session")).json())["csrf_token"]
        self.by_name["guest"] = (guest, {"X-CSRF-Token": guest_csrf})

    async def close(self) -> None:
        for made in self.clients:
            await made.close()


async def _ask(personas: Personas, probe: Probe, persona: str) -> tuple[int, str]:
    who, headers = personas.by_name[persona]
    kwargs: dict[str, Any] = {"headers": headers, "allow_redirects": False}
    if probe.method in ("POST", "PUT", "PATCH", "DELETE") and not probe.path.startswith(
        "/socket.io"
    ):
        kwargs["json"] = {}
    response = await who.request(probe.method, probe.url, **kwargs)
    await response.read()
    return response.status, response.headers.get("Location", "")


async def _check(personas: Personas, probe: Probe, order: list[str]) -> list[str]:
    """Ask as each persona (reads at once, writes one after the other); what went wrong."""
    if probe.method in SAFE:
        answers = await asyncio.gather(*(_ask(personas, probe, p) for p in order))
    else:
        answers = [await _ask(personas, probe, p) for p in order]
    judged = (
        judge(probe, p, status, where) for p, (status, where) in zip(order, answers, strict=True)
    )
    return [problem for problem in judged if problem]


async def test_access_matrix(client: Client, demo: Database) -> None:
    started = time.monotonic()
    world = await build_world(demo)
    cross, probes = plan(registered(client), world)
    personas = Personas(client, demo)
    await personas.start()
    problems: list[str] = []
    before = await fingerprint(demo, world)
    try:
        for probe in cross:
            problems.extend(await _check(personas, probe, sorted(probe.admitted)))
        after = await fingerprint(demo, world)
        if after != before:
            changed = difflib.unified_diff(before.splitlines(), after.splitlines(), n=0)
            problems.append("cross-conference probes changed the foreign conference:")
            problems.extend(line[:300] for line in list(changed)[2:])
        for probe in probes:
            if (probe.method, probe.path) in ENDS_SESSION:
                await personas.rejoin_guest()
            # The refused first: an admitted write (say, DELETE) may leave nothing to refuse.
            order = sorted(personas.by_name, key=lambda p: p in probe.admitted)
            problems.extend(await _check(personas, probe, order))
    finally:
        await personas.close()
    kinds = Counter(p.kind for p in probes for _ in personas.by_name)
    kinds["cross"] = sum(len(p.admitted) for p in cross)
    checks = sum(kinds.values())
    print(f"access matrix: {checks} checks {dict(kinds)} in {time.monotonic() - started:.1f} s")
    assert not problems, f"{len(problems)} of {checks} checks failed:\n" + "\n".join(problems)
