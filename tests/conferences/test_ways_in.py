"""Every role's way in: the home page and the conference page show each person the live pages
their part lets them open (an interpreter's booths, the chair's console and health dashboard, a
site's room and device check), none of the others', and every link they show opens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in, sign_in_english

Client = TestClient[Any, Any]
MOU, AID = 1, 2
LIVE = re.compile(r'href="(/conferences/\d+/(?:booth/\w+|console|health|room|check))"')
ANY_PAGE = re.compile(r'href="(/conferences/\d+(?:/[^"?#]*)?)"')

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

#: Who sees which live links, on the home page (both demo conferences) and on the MoU's page.
EXPECTED = {
    "interpreter.lo@concord.example": {"/conferences/1/booth/lo"},
    "interpreter.vi@concord.example": {"/conferences/1/booth/vi"},
    "interpreter.en@concord.example": {"/conferences/2/booth/en"},
    "technician@concord.example": {
        f"/conferences/{c}/{p}" for c in (1, 2) for p in ("console", "health")
    },
    "organiser@concord.example": {
        f"/conferences/{c}/{p}" for c in (1, 2) for p in ("console", "health")
    },
    "admin@concord.example": {
        f"/conferences/{c}/{p}" for c in (1, 2) for p in ("console", "health")
    },
    "secretary@concord.example": set(),
    "delegate@concord.example": set(),
    "approver@concord.example": set(),
}


def live_links(html: str) -> set[str]:
    return set(LIVE.findall(html))


async def opens_every_link(client: Client, html: str) -> None:
    """Each of the page's links into a conference answers, none with 403 or 404."""
    for path in sorted(set(ANY_PAGE.findall(html))):
        if path.endswith((".pdf", ".csv")):
            continue
        response = await client.get(path, allow_redirects=False)
        assert response.status < 400, f"{path} answered {response.status}"


@pytest.mark.parametrize("email", sorted(EXPECTED))
async def test_each_user_sees_their_own_ways_in_and_they_open(client: Client, email: str) -> None:
    await sign_in(client, email)
    home = await (await client.get("/")).text()
    assert live_links(home) == EXPECTED[email]
    mou = await client.get(f"/conferences/{MOU}")
    if mou.status == 403:  # no part in the MoU (the delegate, the English booth)
        assert not any(link.startswith("/conferences/1/") for link in EXPECTED[email])
        return
    page = await mou.text()
    assert live_links(page) == {link for link in EXPECTED[email] if "/1/" in link}
    await opens_every_link(client, home + page)


async def test_an_interpreter_is_shown_open_my_booth_and_not_the_minutes(client: Client) -> None:
    await sign_in_english(client, "interpreter.lo@concord.example")
    home = await (await client.get("/")).text()
    assert "Open my booth: Lao" in home
    page = await (await client.get(f"/conferences/{MOU}")).text()
    assert "Open my booth: Lao" in page
    assert "/conferences/1/minutes" not in page, "the minutes answer 403 to an interpreter"
    assert "Chair console" not in page and "/recordings" not in page
    assert (await client.get("/conferences/1/booth/lo")).status == 200


async def test_the_secretary_sees_the_minutes_and_the_recordings(client: Client) -> None:
    await sign_in(client, "secretary@concord.example")
    page = await (await client.get(f"/conferences/{MOU}")).text()
    assert 'href="/conferences/1/minutes"' in page
    assert 'href="/conferences/1/recordings"' in page


async def test_a_sites_guest_sees_its_room_and_device_check(
    client: Client, other_client: Client
) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    made = await client.post(
        f"/api/conferences/{MOU}/invitations",
        json={"site_id": 2, "role": "delegate"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201, await made.text()
    url = (await made.json())["url"]
    opened = await other_client.get(url[url.index("/join/") :], allow_redirects=False)
    assert opened.status == 303
    for path in ("/", f"/conferences/{MOU}"):
        html = await (await other_client.get(path)).text()
        assert live_links(html) == {"/conferences/1/room", "/conferences/1/check"}, path
        assert "/conferences/1/minutes" not in html and "/recordings" not in html
        await opens_every_link(other_client, html)
