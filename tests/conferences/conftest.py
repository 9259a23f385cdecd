"""Fixtures of the scheduling tests: a signed-in browser per persona, each with its own cookies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient

from tests.conferences.helpers import Api, Client

Personas = Callable[[str], Awaitable[Api]]


@pytest.fixture
async def persona(client: Client) -> AsyncIterator[Personas]:
    """``await persona("approver")``: a new browser on the same server, signed in as that
    demo user."""
    opened: list[Client] = []

    async def open_as(who: str) -> Api:
        browser: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
        await browser.start_server()
        opened.append(browser)
        return await Api.signed_in(browser, who)

    yield open_as
    for browser in opened:
        await browser.close()
