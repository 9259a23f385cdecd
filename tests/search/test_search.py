"""Search over the demo, on both backends, through the API."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.db import Database
from server.identity import GuestScope, Identity
from server.models import Conference, Role, SearchDocument
from server.search.index import _note_changes, keep_index, reindex_all
from server.search.queries import search
from tests.conftest import sign_in

Client = TestClient[Any, Any]
ADMIN = Identity(via="bearer", user_id=1, roles=frozenset({Role.ADMIN}))


def _guest(conference_id: int) -> Identity:
    scope = GuestScope(invitation_id=1, conference_id=conference_id, site_id=1, role=Role.DELEGATE)
    return Identity(via="guest", guest=scope)


async def _search(client: Client, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/search", params=params)
    assert response.status == 200, await response.text()
    results: list[dict[str, Any]] = (await response.json())["results"]
    return results


async def test_diacritic_free_query_finds_the_mou(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    hits = await _search(client, q="hop tac")
    assert any(h["kind"] == "conference" and h["conference_id"] == 1 for h in hits), hits


async def test_champasak_finds_conference_and_delegation(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    hits = await _search(client, q="Champasak")
    kinds = {h["kind"] for h in hits if h["conference_id"] == 1}
    assert {"conference", "delegation", "session"} <= kinds, hits
    only = await _search(client, q="champa", kind="delegation")
    assert only and {h["kind"] for h in only} == {"delegation"}


async def test_year_and_party_filters(client: Client) -> None:
    await sign_in(client, "admin@concord.example")
    hits = await _search(client, q="champasak")
    year = hits[0]["year"]
    assert await _search(client, q="champasak", year=str(year))
    assert await _search(client, q="champasak", year="1999") == []
    assert await _search(client, q="champasak", party="Champasak Province")
    assert await _search(client, q="champasak", party="no such party") == []


async def test_who_may_not_see_a_conference_does_not_find_it(client: Client) -> None:
    await sign_in(client, "delegate@concord.example")  # conference 2 only
    hits = await _search(client, q="champasak")
    assert all(h["conference_id"] != 1 for h in hits), hits


async def test_anonymous_is_refused(client: Client) -> None:
    response = await client.get("/api/search", params={"q": "hop tac"})
    assert response.status == 401


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"hop',
        "*",
        "hop*",
        "NEAR(hop tac)",
        "(",
        ")",
        "-tac",
        "hop:tac",
        "AND OR NOT",
        "^",
        "'",
        "a & b | !c",
        "\\",
        "%_",
        "ຈຳປາສັກ",
    ],
)
async def test_hostile_queries_never_fail(client: Client, q: str) -> None:
    await sign_in(client, "admin@concord.example")
    await _search(client, q=q)


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 201},
        {"q": "a", "year": "abc"},
        {"q": "a", "year": "12"},
        {"q": "a", "kind": "recordings"},
    ],
)
async def test_bad_input_is_422(client: Client, params: dict[str, str]) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get("/api/search", params=params)
    assert response.status == 422, await response.text()


async def test_renamed_conference_is_found_by_its_new_title(client: Client) -> None:
    token = await sign_in(client, "admin@concord.example")
    conferences = await (await client.get("/api/conferences")).json()
    items = conferences["items"] if isinstance(conferences, dict) else conferences
    for item in items:
        changed = await client.patch(
            f"/api/conferences/{item['id']}",
            json={"title": "Hội nghị Xoàixanh đặc biệt"},
            headers={"X-CSRF-Token": token},
        )
        if changed.status == 200:
            break
    else:
        pytest.skip("no demo conference is editable")
    hits = await _search(client, q="xoaixanh dac")
    assert any(h["conference_id"] == item["id"] and h["kind"] == "conference" for h in hits)


async def test_reindex_all_rebuilds_the_same_documents(demo: Database) -> None:
    async with demo.session() as db:
        before = await db.scalar(select(func.count()).select_from(SearchDocument))
    async with demo.session() as db, db.begin():
        assert await reindex_all(db) >= 2
    async with demo.session() as db:
        after = await db.scalar(select(func.count()).select_from(SearchDocument))
    assert before and before == after


async def test_a_guest_finds_only_their_conference(demo: Database) -> None:
    async with demo.session() as db:
        hits = await search(db, _guest(2), "champasak")
        assert all(h.conference_id == 2 for h in hits)
        assert await search(db, _guest(1), "champasak")
        assert await search(db, _guest(1), "hợp tác") == await search(db, _guest(1), "HOP TAC")


async def test_only_a_database_given_to_keep_index_keeps_its_index(demo: Database) -> None:
    """The index's listeners belong to one database's sessions, not to every session in the
    process: a second handle on the same database, not given to ``keep_index``, writes
    without indexing; the kept one indexes in the writer's transaction."""
    plain = Database(demo.url)
    try:
        async with plain.session() as db, db.begin():
            conference = await db.get(Conference, 1)
            assert conference is not None
            conference.title = "Hội nghị Mãngcầu"
        async with plain.session() as db:
            assert await search(db, ADMIN, "mangcau") == []
    finally:
        await plain.close()
    async with demo.session() as db, db.begin():
        conference = await db.get(Conference, 1)
        assert conference is not None
        conference.title = "Hội nghị Mãngcầu Chômchôm"
    async with demo.session() as db:
        hits = await search(db, ADMIN, "chomchom")
    assert [h.conference_id for h in hits if h.kind == "conference"] == [1]


async def test_a_new_database_keeps_its_index_when_its_session_class_reuses_an_address() -> None:
    """SQLAlchemy's event registry keys a class's listeners by ``id(class)`` and keeps the key
    when the class is collected; CPython soon gives a new session class the same address.
    Each new database given to ``keep_index`` still gets its listeners (CI once lost the
    index of a test's database this way)."""
    for _ in range(20):
        database = keep_index(Database("sqlite+aiosqlite:///:memory:"))
        listeners = list(database.session_class().dispatch.before_flush)
        assert _note_changes in listeners
        await database.close()
        del database
        gc.collect()
