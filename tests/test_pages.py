"""Every page renders in each UI language, with dates in the conference's and viewer's zones."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import sign_in

Client = TestClient[Any, Any]
PAGES = ["/", "/conferences/1", "/conferences/2", "/account", "/admin/users", "/nowhere"]
HEADINGS = {"en": "Your conferences", "vi": "Hội nghị của bạn", "lo": "ກອງປະຊຸມຂອງທ່ານ"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("locale", ["en", "vi", "lo"])
async def test_pages_render_in_every_language(client: Client, locale: str) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    changed = await client.patch("/api/me", json={"locale": locale}, headers={"X-CSRF-Token": csrf})
    assert changed.status == 200
    for path in PAGES:
        response = await client.get(path)
        assert response.status == (404 if path == "/nowhere" else 200), path
        html = await response.text()
        assert f'<html lang="{locale}">' in html, path
    home = await (await client.get("/")).text()
    assert HEADINGS[locale] in home


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_agenda_shows_the_planned_zone_and_the_viewers(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    page = await (await client.get("/conferences/1")).text()
    assert "Champasak hall" in page and "(UTC+07:00) Viêng Chăn · Giờ Lào" in page
    assert "ພິທີລົງນາມ" not in page  # the Lao title is for Lao readers
    assert "Lễ ký kết Biên bản ghi nhớ" in page  # the organiser reads Vietnamese
    assert "09:00" in page, "the MoU opened at 09:00 in Ha Noi"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_anonymous_visitors_choose_a_language_by_cookie(client: Client) -> None:
    login = await client.get("/login", headers={"Accept-Language": "lo-LA,lo;q=0.9,en;q=0.5"})
    assert '<html lang="lo">' in await login.text()
    token = await client.get("/login")
    html = await token.text()
    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    chosen = await client.post(
        "/language",
        data={"csrf_token": csrf, "locale": "vi", "next": "/login"},
        allow_redirects=False,
    )
    assert chosen.status == 303 and chosen.headers["Location"] == "/login"
    assert '<html lang="vi">' in await (await client.get("/login")).text()
    refused = await client.post("/language", data={"csrf_token": csrf, "locale": "xx"})
    assert refused.status == 422
