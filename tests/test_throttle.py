"""The sign-in throttle from the attacker's side: guesses slow the guesser, never the owner.

A real app and real HTTP; the throttle gets a clock the tests move by hand (no sleeping).
Clients behind a reverse proxy are played by requests from 127.0.0.1 (the proxy, trusted in
these tests) carrying ``X-Forwarded-For``. The throttle lives in memory, so one database
backend is enough.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.accounts.throttle import LoginThrottle
from server.app import create_app
from server.client_address import Network
from server.config import Config
from server.db import Database
from server.keys import THROTTLE
from server.middleware import DEVICE_COOKIE
from server.models import AuditEntry

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

Client = TestClient[Any, Any]
OWNER, OWNER_PASSWORD = "organiser@concord.example", "concord-organiser"
OTHER, OTHER_PASSWORD = "secretary@concord.example", "concord-secretary"
PROXY: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.1/32"),)
ATTACKER, NEIGHBOUR, OWNER_HOME = "203.0.113.66", "198.51.100.7", "192.0.2.10"


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


Serve = Callable[..., Awaitable[Client]]
Browsers = Callable[[Client], Awaitable[Client]]


@pytest.fixture
async def serve(
    aiohttp_client: Callable[..., Awaitable[Client]], config: Config, demo: Database, clock: Clock
) -> Serve:
    """Start the app (optionally behind trusted proxies) with the hand-moved clock."""

    async def start(proxies: tuple[Network, ...] = ()) -> Client:
        app = create_app(dataclasses.replace(config, trusted_proxies=proxies))
        app[THROTTLE] = LoginThrottle(clock=clock)
        return await aiohttp_client(app)

    return start


@pytest.fixture
async def browser() -> AsyncIterator[Browsers]:
    """Opens more browsers (cookies of their own) on a server; all closed at the end."""
    opened: list[Client] = []

    async def open_one(server: Client) -> Client:
        made: Client = TestClient(server.server, cookie_jar=CookieJar(unsafe=True))
        await made.start_server()
        opened.append(made)
        return made

    yield open_one
    for made in opened:
        await made.close()


async def attempt(
    client: Client, email: str, password: str, via: str | None = None
) -> ClientResponse:
    headers = {"X-Forwarded-For": via} if via else {}
    response = await client.post(
        "/api/session", json={"email": email, "password": password}, headers=headers
    )
    await response.read()
    return response


async def sign_out(client: Client) -> None:
    csrf = (await (await client.get("/api/session")).json())["csrf_token"]
    assert (await client.delete("/api/session", headers={"X-CSRF-Token": csrf})).status == 204


async def fail_until(
    client: Client, clock: Clock, failures: int, email: Callable[[int], str], via: str
) -> list[int]:
    """Make ``failures`` wrong guesses, waiting out every 429; returns the waits asked for."""
    waits: list[int] = []
    done = 0
    while done < failures:
        response = await attempt(client, email(done), f"guess-{done}", via)
        if response.status == 429:
            body = await response.json()
            assert body["code"] == "rate_limited" and "try again in" in body["detail"]
            waits.append(int(response.headers["Retry-After"]))
            clock.now += waits[-1]
            continue
        assert response.status == 401, await response.text()
        done += 1
    return waits


async def test_an_attackers_guesses_elsewhere_never_stop_the_owners_known_device(
    serve: Serve, browser: Browsers, clock: Clock
) -> None:
    server = await serve(PROXY)
    owner = await browser(server)
    signed_in = await attempt(owner, OWNER, OWNER_PASSWORD, via=OWNER_HOME)
    assert signed_in.status == 201 and DEVICE_COOKIE in signed_in.cookies
    await sign_out(owner)  # the device cookie stays

    attacker = await browser(server)
    waits = await fail_until(attacker, clock, 50, lambda _n: OWNER, ATTACKER)
    # Four free guesses, then each wait doubles up to the 15-minute cap, and stays there.
    assert waits[:5] == [2, 4, 8, 16, 32]
    assert waits == sorted(waits) and waits[-1] == 900 and max(waits) == 900
    still = await attempt(attacker, OWNER, "guess-again", via=ATTACKER)
    assert still.status == 429 and still.headers["Retry-After"] == "900"

    # The owner's browser is not slowed at all, even from the attacker's own network.
    assert (await attempt(owner, OWNER, OWNER_PASSWORD, via=OWNER_HOME)).status == 201
    await sign_out(owner)
    assert (await attempt(owner, OWNER, OWNER_PASSWORD, via=ATTACKER)).status == 201
    await sign_out(owner)
    # A known device proves nothing about the password.
    assert (await attempt(owner, OWNER, "guess-51", via=OWNER_HOME)).status == 401

    # A browser the account never signed in from waits: guessing from anywhere slows the
    # account for unknown devices (delayed, never locked: it passes once the wait is over).
    stranger = await browser(server)
    waiting = await attempt(stranger, OWNER, OWNER_PASSWORD, via=NEIGHBOUR)
    assert waiting.status == 429 and 0 < int(waiting.headers["Retry-After"]) <= 900
    clock.now += int(waiting.headers["Retry-After"])
    assert (await attempt(stranger, OWNER, OWNER_PASSWORD, via=NEIGHBOUR)).status == 201


async def csrf_of(client: Client) -> str:
    html = await (await client.get("/login")).text()
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def test_the_owners_own_mistakes_slow_the_owner_and_the_page_says_how_long(
    serve: Serve, browser: Browsers, clock: Clock
) -> None:
    server = await serve()
    owner = await browser(server)
    assert (await attempt(owner, OWNER, OWNER_PASSWORD)).status == 201
    await sign_out(owner)

    token = await csrf_of(owner)

    async def form(password: str) -> ClientResponse:
        data = {"csrf_token": token, "email": OWNER, "password": password, "next": "/"}
        headers = {"Accept-Language": "vi"}
        return await owner.post("/login", data=data, headers=headers, allow_redirects=False)

    for n in range(5):
        assert (await form(f"typo-{n}")).status == 401
    waiting = await form(OWNER_PASSWORD)
    assert waiting.status == 429 and waiting.headers["Retry-After"] == "2"
    assert "Vui lòng đợi 2 giây rồi thử lại" in await waiting.text()
    clock.now += 1
    assert (await form(OWNER_PASSWORD)).headers["Retry-After"] == "1"
    clock.now += 1
    assert (await form(OWNER_PASSWORD)).status == 303
    # Signing in forgot the device's failures: four typos are free again.
    await sign_out(owner)
    token = await csrf_of(owner)
    for n in range(4):
        assert (await form(f"typo-again-{n}")).status == 401
    assert (await form(OWNER_PASSWORD)).status == 303


async def last_sign_in_address(database: Database) -> str:
    async with database.session() as db:
        found = await db.scalar(
            select(AuditEntry.remote)
            .where(AuditEntry.action == "user.signed_in")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    assert found is not None
    return found


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    serve: Serve, browser: Browsers, clock: Clock, demo: Database
) -> None:
    server = await serve()  # no trusted proxies: the header is the client's own claim
    attacker = await browser(server)
    for n in range(5):  # a new claimed address each time does not reset anything
        assert (await attempt(attacker, OWNER, f"guess-{n}", via=f"203.0.113.{n}")).status == 401
    blocked = await attempt(attacker, OWNER, "guess-5", via="203.0.113.99")
    assert blocked.status == 429
    assert (await attempt(server, OTHER, OTHER_PASSWORD, via=NEIGHBOUR)).status == 201
    assert await last_sign_in_address(demo) == "127.0.0.1"


async def test_behind_a_trusted_proxy_one_client_does_not_lock_out_another(
    serve: Serve, browser: Browsers, clock: Clock, demo: Database
) -> None:
    server = await serve(PROXY)
    attacker = await browser(server)
    # Guessing across many accounts from one address reaches the address's own (higher)
    # ceiling: 40 free, then progressive too. The attacker prefixes a neighbour's address to
    # X-Forwarded-For; the proxy appends the real one, and that is the one believed.
    spoofed = f"{NEIGHBOUR}, {ATTACKER}"
    waits = await fail_until(attacker, clock, 45, lambda n: f"user{n}@example.org", spoofed)
    assert waits == [2, 4, 8, 16]
    blocked = await attempt(attacker, OTHER, "guess", via=spoofed)
    assert blocked.status == 429 and blocked.headers["Retry-After"] == "32"

    neighbour = await browser(server)
    assert (await attempt(neighbour, OTHER, OTHER_PASSWORD, via=NEIGHBOUR)).status == 201
    assert await last_sign_in_address(demo) == NEIGHBOUR
    # Several proxies: walked from the right past every trusted one.
    chain = f"{ATTACKER}, {OWNER_HOME}, 127.0.0.1"
    assert (await attempt(await browser(server), OWNER, OWNER_PASSWORD, via=chain)).status == 201
    assert await last_sign_in_address(demo) == OWNER_HOME

    # The same helper guards /metrics: a client behind the proxy is not the proxy.
    assert (await server.get("/metrics")).status == 200
    assert (await server.get("/metrics", headers={"X-Forwarded-For": ATTACKER})).status == 403
