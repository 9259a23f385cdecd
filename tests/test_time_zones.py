"""Time zones as people look for them: cities and offsets in their language (issue 17)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db import Database
from server.models import User
from server.time_zones import canonical, canonical_zones, find_zone, zone_choices, zone_label
from tests.conftest import csrf_of_page, sign_in, sign_in_english

Client = TestClient[Any, Any]
WINTER = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 7, 3, 0, tzinfo=dt.UTC)
ORGANISER = "organiser@concord.example"


def test_only_canonical_zones_are_offered() -> None:
    zones = set(canonical_zones())
    assert {"Asia/Ho_Chi_Minh", "Asia/Vientiane", "Europe/Kyiv", "UTC"} <= zones
    assert not zones & {"Asia/Saigon", "Africa/Asmera", "US/Eastern", "EST5EDT", "Etc/GMT+7"}
    assert 350 < len(zones) < 480  # not IANA's ~600
    assert canonical("Asia/Saigon") == "Asia/Ho_Chi_Minh" and canonical("Hanoi") is None


def test_labels_name_the_city_and_the_offset_in_the_readers_language() -> None:
    assert zone_label("Asia/Ho_Chi_Minh", "en", WINTER) == (
        "(UTC+07:00) Ho Chi Minh City · Vietnam Time"
    )
    assert zone_label("Asia/Vientiane", "vi", WINTER) == "(UTC+07:00) Viêng Chăn · Giờ Lào"
    assert zone_label("Asia/Vientiane", "lo", WINTER).startswith("(UTC+07:00) ວຽງຈັນ")
    assert zone_label("Europe/Paris", "en", WINTER).startswith("(UTC+01:00) Paris")
    assert zone_label("Europe/Paris", "en", SUMMER).startswith("(UTC+02:00) Paris")
    assert zone_label("America/St_Johns", "en", WINTER).startswith("(UTC−03:30)")
    choices = zone_choices("vi", WINTER)
    offsets = [c.offset_minutes for c in choices]
    assert offsets == sorted(offsets)


def test_what_people_type_finds_their_zone() -> None:
    for typed, zone in [
        ("Hanoi", "Asia/Ho_Chi_Minh"),
        ("hà nội", "Asia/Ho_Chi_Minh"),
        ("Viêng Chăn", "Asia/Vientiane"),
        ("vientiane", "Asia/Vientiane"),
        ("ວຽງຈັນ", "Asia/Vientiane"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("paris", "Europe/Paris"),
    ]:
        assert find_zone(typed, "vi", WINTER) == zone, typed
    assert find_zone("utc+7", "vi", WINTER) is None  # several: the list shows them
    assert find_zone("Atlantis", "vi", WINTER) is None


async def _user(db: Database, email: str) -> User:
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


async def test_the_account_page_offers_zones_by_city_and_saves_the_choice(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, ORGANISER)
    page = await (await client.get("/account")).text()
    assert '<option value="Asia/Vientiane">(UTC+07:00) Vientiane · Laos Time</option>' in page
    assert 'list="zones"' not in page and "data-zone-picker" in page
    assert '"Asia/Ho_Chi_Minh": ' in page and "hanoi" in page  # the pickers' other words
    csrf = await csrf_of_page(client, "/account")
    saved = await client.post(
        "/account/profile",
        data={"csrf_token": csrf, "time_zone": "Asia/Saigon"},
        allow_redirects=False,
    )
    assert saved.status == 303 and saved.headers["Location"] == "/account"
    user = await _user(demo, ORGANISER)
    assert (user.time_zone, user.time_zone_chosen) == ("Asia/Ho_Chi_Minh", True)


async def test_a_zone_that_is_not_in_the_list_is_explained_on_the_page(
    client: Client, demo: Database
) -> None:
    await sign_in(client, ORGANISER)  # reads Vietnamese
    csrf = await csrf_of_page(client, "/account")
    # "utc+7" names several zones: the page asks for one from the list.
    refused = await client.post("/account/profile", data={"csrf_token": csrf, "time_zone": "utc+7"})
    assert refused.status == 422
    html = await refused.text()
    assert "hãy chọn múi giờ trong danh sách" in html and 'id="account-zone"' in html
    assert (await _user(demo, ORGANISER)).time_zone == "UTC"


async def test_a_city_typed_without_the_picker_finds_its_zone(
    client: Client, demo: Database
) -> None:
    token = await sign_in(client, ORGANISER)
    typed = await client.patch(
        "/api/me", json={"time_zone": "Hà Nội"}, headers={"X-CSRF-Token": token}
    )
    assert typed.status == 200, await typed.text()
    assert (await _user(demo, ORGANISER)).time_zone == "Asia/Ho_Chi_Minh"


async def test_a_user_who_never_chose_is_proposed_the_browsers_zone(
    client: Client, demo: Database
) -> None:
    await sign_in_english(client, ORGANISER)
    client.session.cookie_jar.update_cookies({"concord_browser_zone": "Asia%2FVientiane"})
    page = await (await client.get("/conferences/1")).text()
    start = page.index('id="zone-proposal"')
    banner = page[start : page.index("</section>", start)]
    assert "Your computer is set to (UTC+07:00) Vientiane · Laos Time" in banner
    assert re.search(r'name="next" value="/conferences/1"', banner)
    csrf = await csrf_of_page(client, "/conferences/1")
    used = await client.post(
        "/account/profile",
        data={"csrf_token": csrf, "time_zone": "Asia/Vientiane", "next": "/conferences/1"},
        allow_redirects=False,
    )
    assert used.status == 303 and used.headers["Location"] == "/conferences/1"
    again = await (await client.get("/conferences/1")).text()
    assert 'id="zone-proposal"' not in again  # chosen: never proposed again
    assert "Vientiane" in again  # "Your time" is in the chosen zone


async def test_keeping_utc_is_a_choice_too(client: Client, demo: Database) -> None:
    await sign_in_english(client, ORGANISER)
    client.session.cookie_jar.update_cookies({"concord_browser_zone": "Europe%2FParis"})
    assert 'id="zone-proposal"' in await (await client.get("/")).text()
    csrf = await csrf_of_page(client, "/")
    await client.post("/account/profile", data={"csrf_token": csrf, "time_zone": "UTC"})
    assert 'id="zone-proposal"' not in await (await client.get("/")).text()
    assert (await _user(demo, ORGANISER)).time_zone_chosen
