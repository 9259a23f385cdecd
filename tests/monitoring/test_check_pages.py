"""The site check page and the readiness board: who may open them, and what the board shows
before and after a stored check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient

from server.db import Database
from server.models import SiteCheck
from tests.conftest import sign_in_english

Client = TestClient[Any, Any]
MOU, HALL, CHAMPASAK = 1, 1, 2  # conference 1: the Quang Ngai hall (main) and Champasak hall
AID_SITE = 4  # a site of conference 2

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def new_client(client: Client) -> Client:
    """Another browser on the same server, with its own cookie jar."""
    made: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await made.start_server()
    return made


async def guest_of(client: Client, site_id: int) -> Client:
    """A browser that opened a delegate invitation of ``site_id`` (conference 1); ``client``
    signs in as the organiser to make it."""
    csrf = await sign_in_english(client, "organiser@concord.example")
    made = await client.post(
        f"/api/conferences/{MOU}/invitations",
        json={"site_id": site_id, "role": "delegate"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201, await made.text()
    url = (await made.json())["url"]
    guest = await new_client(client)
    joined = await guest.get(url[url.index("/join/") :], allow_redirects=False)
    assert joined.status == 303
    return guest


async def test_a_guest_checks_its_own_site(client: Client) -> None:
    guest = await guest_of(client, CHAMPASAK)
    try:
        response = await guest.get(f"/conferences/{MOU}/check")
        assert response.status == 200
        html = await response.text()
        assert "Champasak hall" in html
        assert "js/site_check.js" in html
        assert '"site": {"id": 2' in html and '"last": null' in html
        assert f'href="/conferences/{MOU}/readiness"' not in html  # not for a guest
        assert (await guest.get(f"/conferences/{MOU}/check?site={CHAMPASAK}")).status == 200
        assert (await guest.get(f"/conferences/{MOU}/check?site={HALL}")).status == 403
        # The invitation's site page links to the check.
        room = await (await guest.get(f"/conferences/{MOU}/room")).text()
        assert f'href="/conferences/{MOU}/check"' in room
    finally:
        await guest.close()


async def test_organisers_pick_the_site(client: Client) -> None:
    await sign_in_english(client, "organiser@concord.example")
    response = await client.get(f"/conferences/{MOU}/check?site={HALL}")
    assert response.status == 200
    html = await response.text()
    assert "Quang Ngai hall" in html and f'href="/conferences/{MOU}/readiness"' in html
    assert (await client.get(f"/conferences/{MOU}/check?site=abc")).status == 422
    assert (await client.get(f"/conferences/{MOU}/check?site={AID_SITE}")).status == 422
    assert (await client.get(f"/conferences/{MOU}/check?site=999999")).status == 422
    assert (await client.get(f"/conferences/{MOU}/check")).status == 422
    assert (await client.get("/conferences/999999/check?site=1")).status == 404


async def test_a_delegate_without_invitation_is_refused(client: Client) -> None:
    await sign_in_english(client, "delegate@concord.example")  # a delegate of conference 2
    assert (await client.get(f"/conferences/2/check?site={AID_SITE}")).status == 403
    assert (await client.get(f"/conferences/{MOU}/check?site={HALL}")).status == 403
    assert (await client.get("/conferences/2/readiness")).status == 403


async def test_the_readiness_board_shows_each_sites_last_check(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, "organiser@concord.example")
    conference = await (await client.get(f"/conferences/{MOU}")).text()
    assert f'href="/conferences/{MOU}/readiness"' in conference

    response = await client.get(f"/conferences/{MOU}/readiness")
    assert response.status == 200
    html = await response.text()
    for site_id, name in ((HALL, "Quang Ngai hall"), (CHAMPASAK, "Champasak hall")):
        assert name in html
        assert f'data-site-id="{site_id}" data-result="never"' in html
        assert f'href="/conferences/{MOU}/check?site={site_id}"' in html
    assert html.count("not checked") >= 2

    async with demo.session() as db, db.begin():
        for at, passed, failed in (
            (dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC), True, []),
            (
                dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC),
                False,
                ["speaker", "network:loss"],
            ),
        ):
            db.add(
                SiteCheck(
                    conference_id=MOU,
                    site_id=CHAMPASAK,
                    at=at,
                    passed=passed,
                    failed=failed,
                    rtt=0.085,
                    loss=0.064,
                    bitrate=412_000.0,
                    results={"devices": {}, "network": {}, "browser": {}},
                    by="guest:invitation/1",
                )
            )
    html = await (await client.get(f"/conferences/{MOU}/readiness")).text()
    assert f'data-site-id="{CHAMPASAK}" data-result="failed"' in html  # the latest one
    assert f'data-site-id="{HALL}" data-result="never"' in html
    assert "speaker, packet loss" in html
    assert ">85<" in html and ">6.4<" in html and ">412<" in html
    assert "the site&#39;s invitation link" in html

    technician = await new_client(client)
    try:
        await sign_in_english(technician, "technician@concord.example")
        assert (await technician.get(f"/conferences/{MOU}/readiness")).status == 200
    finally:
        await technician.close()
