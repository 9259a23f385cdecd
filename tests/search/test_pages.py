"""The search page and the header's search box, on both databases."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from server.db import Database
from server.models import Conference
from tests.conftest import sign_in, sign_in_english

Client = TestClient[Any, Any]


async def _page(client: Client, status: int = 200, **params: str) -> str:
    response = await client.get("/search", params=params)
    text = await response.text()
    assert response.status == status, text
    return text


async def test_hop_tac_finds_hop_tac_through_the_page(client: Client) -> None:
    await sign_in_english(client, "organiser@concord.example")
    page = await _page(client, q="hop tac")
    assert 'id="results-conference"' in page
    # The words are found without their marks, and highlighted as written.
    assert "<mark>hợp</mark> <mark>tác</mark>" in page
    assert 'href="/conferences/1"' in page
    assert "Signing of the cooperation MoU" in page  # the conference's title on each hit


async def test_results_are_grouped_by_kind_and_filtered(client: Client) -> None:
    await sign_in_english(client, "admin@concord.example")
    page = await _page(client, q="champasak")
    groups = re.findall(r'id="results-(\w+)"', page)
    assert groups[:3] == ["conference", "session", "delegation"], groups
    only = await _page(client, q="champasak", kind="delegation")
    assert re.findall(r'id="results-(\w+)"', only) == ["delegation"]
    assert 'value="delegation" selected' in only
    none = await _page(client, q="champasak", year="1999")
    assert 'id="search-none"' in none and "Nothing found" in none
    assert 'id="search-none"' in await _page(client, q="champasak", party="no such party")


async def test_empty_and_bad_forms(client: Client) -> None:
    await sign_in_english(client, "admin@concord.example")
    assert 'id="search-empty"' in await _page(client)
    bad = await _page(client, 422, q="hop", year="soon")
    assert "year: a whole number" in bad
    assert "kind: one of" in await _page(client, 422, q="hop", kind="films")
    assert "at most 200 characters" in await _page(client, 422, q="x" * 201)


async def test_what_a_reader_may_not_see_is_not_shown(client: Client) -> None:
    await sign_in_english(client, "delegate@concord.example")  # conference 2 only
    page = await _page(client, q="champasak")
    assert 'href="/conferences/1"' not in page


async def test_titles_and_snippets_are_escaped(client: Client, demo: Database) -> None:
    async with demo.session() as db, db.begin():
        found = await db.get(Conference, 1)
        assert found is not None
        found.title = '<script>alert("x")</script> Hợp tác <b>đặc biệt</b>'
    await sign_in_english(client, "organiser@concord.example")
    page = await _page(client, q="dac biet")
    assert "<script>alert" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page
    assert "<mark>đặc</mark> <mark>biệt</mark>" in page


async def test_the_header_has_a_search_box_for_people_signed_in(
    client: Client, other_client: Client
) -> None:
    assert 'action="/search"' not in await (await other_client.get("/login")).text()
    await sign_in(client, "organiser@concord.example")
    home = await (await client.get("/")).text()
    assert 'action="/search"' in home and 'name="q"' in home


async def test_the_page_speaks_the_readers_language(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    page = await _page(client, q="hop tac")
    assert '<html lang="vi">' in page
