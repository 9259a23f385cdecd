"""The connection-health dashboard page: who may open it, and uPlot served from node_modules."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient

from server.app import VENDOR_DIR
from tests.conftest import sign_in

Client = TestClient[Any, Any]
CONFERENCE = 1  # organised by the demo organiser; the technician is a member

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def new_client(client: Client) -> Client:
    """Another browser on the same server, with its own cookie jar."""
    made: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await made.start_server()
    return made


async def test_organiser_and_technician_open_the_dashboard(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    response = await client.get(f"/conferences/{CONFERENCE}/health")
    assert response.status == 200
    html = await response.text()
    assert 'id="health-rows"' in html
    assert "/vendor/uplot/uPlot.min.css" in html
    assert "js/health_dashboard.js" in html
    assert '"as": "console"' in html

    technician = await new_client(client)
    try:
        await sign_in(technician, "technician@concord.example")
        assert (await technician.get(f"/conferences/{CONFERENCE}/health")).status == 200
    finally:
        await technician.close()


async def test_the_console_and_conference_pages_link_to_it(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    link = f'href="/conferences/{CONFERENCE}/health"'
    for page in (f"/conferences/{CONFERENCE}", f"/conferences/{CONFERENCE}/console"):
        response = await client.get(page)
        assert response.status == 200, page
        assert link in await response.text(), page


async def test_delegates_and_guests_are_refused(client: Client) -> None:
    # The demo delegate belongs to conference 2 as a delegate.
    await sign_in(client, "delegate@concord.example")
    assert (await client.get("/conferences/2/health")).status == 403

    organiser = await new_client(client)
    guest = await new_client(client)
    try:
        csrf = await sign_in(organiser, "organiser@concord.example")
        invite = await organiser.post(
            f"/api/conferences/{CONFERENCE}/invitations",
            json={"site_id": 1, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        assert invite.status == 201, await invite.text()
        url = (await invite.json())["url"]
        joined = await guest.get(url[url.index("/join/") :], allow_redirects=False)
        assert joined.status == 303
        assert (await guest.get(f"/conferences/{CONFERENCE}/room")).status == 200
        assert (await guest.get(f"/conferences/{CONFERENCE}/health")).status == 403
    finally:
        await organiser.close()
        await guest.close()


async def test_an_unknown_conference_is_not_found(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    assert (await client.get("/conferences/999999/health")).status == 404


@pytest.mark.skipif(
    not (VENDOR_DIR / "uplot" / "dist").is_dir(), reason="node_modules/uplot: run `npm ci`"
)
async def test_uplot_is_served_from_node_modules(client: Client) -> None:
    response = await client.get("/vendor/uplot/uPlot.esm.js")
    assert response.status == 200
    assert "export { uPlot as default }" in await response.text()
    css = await client.get("/vendor/uplot/uPlot.min.css")
    assert css.status == 200
    assert ".uplot" in await css.text()
