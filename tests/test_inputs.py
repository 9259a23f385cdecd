"""Hostile input found by probing (issue 13): none of it may cause a 500 or write a row.

Each test sends what the attacker sent: a body that is not UTF-8, a path number too large for
any column, a method the path does not have. Out-of-range numbers are answered 404 (no record
can have that number), the same as a number that names nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.db import Database
from tests.conftest import sign_in
from tests.test_errors import rows

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"
HUGE = "99999999999999999999"  # past 2**63: SQLite raised OverflowError on it
BIG = int(HUGE)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not logged, [r.getMessage() for r in logged]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_a_body_that_is_not_utf8_is_refused_by_name(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture, content_type: str
) -> None:
    before = await rows(demo)
    response = await client.post(
        "/api/session", data=b'{"email": "\xff"}', headers={"Content-Type": content_type}
    )
    assert response.status == 400, await response.text()
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["code"] == "bad_encoding"
    assert problem["detail"] == (
        "the body is not valid UTF-8 text: byte 0xff at offset 11 is not UTF-8"
    )
    assert await rows(demo) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_form_that_is_not_utf8_is_refused_by_name(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture
) -> None:
    before = await rows(demo)
    response = await client.post(
        "/login",
        data=b"email=\xff&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400, await response.text()
    assert "the form is not valid UTF-8 text: byte 0xff at offset 6" in await response.text()
    assert await rows(demo) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "path",
    [
        f"/api/ledger/entries/{HUGE}",
        "/api/ledger/entries/2147483648",
        f"/api/conferences/{HUGE}",
        f"/api/conferences/1/sessions/{HUGE}",
        f"/api/permits/{HUGE}",
    ],
)
async def test_huge_path_numbers_on_the_api_are_404(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get(path)
    assert response.status == 404, await response.text()
    assert response.content_type == PROBLEM
    assert "must be a number from 0 to 2147483647" in (await response.json())["detail"]
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "path", [f"/ledger/{HUGE}", f"/conferences/{HUGE}", f"/permits/{HUGE}/decision"]
)
async def test_huge_path_numbers_on_pages_are_404_pages(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get(path)
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "must be a number from 0 to 2147483647" in await response.text()
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_huge_number_in_a_write_writes_nothing(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    before = await rows(demo)
    response = await client.delete(
        f"/api/conferences/1/sessions/{HUGE}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 404
    assert await rows(demo) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/conferences/1/sessions/import", "OPTIONS, POST"),
        ("PATCH", "/api/conferences/1/sessions/import", "OPTIONS, POST"),
        ("PATCH", "/api/permits/report", "GET, OPTIONS"),
        ("PATCH", "/api/conferences/1/occurrences", "GET, OPTIONS"),
        ("PUT", "/api/conferences/1", "DELETE, GET, OPTIONS, PATCH"),
        ("DELETE", "/permits/report", "GET, OPTIONS"),
        ("POST", "/ledger/1", "GET, OPTIONS"),
    ],
)
async def test_a_wrong_method_is_405_with_the_paths_own_methods(
    client: Client, demo: Database, method: str, path: str, allow: str
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    before = await rows(demo)
    response = await client.request(
        method, path, json={}, headers={"X-CSRF-Token": csrf, "Accept": "application/json"}
    )
    assert response.status == 405, await response.text()
    assert response.headers["Allow"] == allow
    assert response.content_type == PROBLEM
    assert allow in (await response.json())["detail"]
    assert await rows(demo) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_options_lists_the_paths_own_methods(client: Client, demo: Database) -> None:
    imported = await client.options("/api/conferences/1/sessions/import")
    assert imported.status == 204
    assert imported.headers["Allow"] == "OPTIONS, POST"
    session = await client.options("/api/conferences/1/sessions/5")
    assert session.headers["Allow"] == "DELETE, GET, OPTIONS, PATCH"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_words_where_numbers_belong_find_nothing(client: Client, demo: Database) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get("/api/conferences/1/sessions/abc")
    assert response.status == 404
    assert response.content_type == PROBLEM


def _schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_document_states_what_the_server_enforces(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    paths = document["paths"]
    entry = paths["/api/ledger/entries/{position}"]["get"]["parameters"][0]["schema"]
    assert entry == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    feed = paths["/api/me/calendar-feeds/{feed_id}"]["delete"]["parameters"][0]["schema"]
    assert feed["maximum"] == 2**31 - 1
    zones = _schema(document, "TimeZone")["enum"]
    assert "Asia/Vientiane" in zones and "Mars/Olympus" not in zones
    site = _schema(document, "SiteIn")["properties"]
    assert site["time_zone"]["$ref"] == "#/components/schemas/TimeZone"
    assert "@" in site["contact_email"]["pattern"]
    assert "pattern" in _schema(document, "UserCreate")["properties"]["email"]
    assert (
        "after starts_at"
        in _schema(document, "ConferenceCreate")["properties"]["ends_at"]["description"]
    )
    money = _schema(document, "ApplicationFields")["properties"]["funding_amount"]["anyOf"]
    assert money[0]["maximum"] == 99999999999999
    assert money[1]["pattern"] == r"^[0-9]{1,14}(\.[0-9]{1,2})?$"
    code = paths[
        "/api/conferences/{conference_id}/agreements/{agreement_id}/signatories/{signatory_id}/code"
    ]["post"]["responses"]
    assert code["503"]["$ref"] == "#/components/responses/Error503"
    assert "mail_unavailable" in document["components"]["responses"]["Error503"]["description"]
    login = paths["/api/session"]["post"]["responses"]
    assert {"400", "405", "413", "415", "422", "429"} <= set(login)
    assert "401" not in login  # public
    users = paths["/api/users"]["post"]["responses"]
    assert {"401", "403", "409", "422"} <= set(users)
    permits = paths["/api/permits"]["get"]["parameters"]
    assert {"name": "conference_id", "in": "query", "required": False, "schema": entry} in permits
    search = {p["name"]: p for p in paths["/api/search"]["get"]["parameters"]}
    assert search["q"]["required"] and search["offset"]["schema"]["maximum"] == 100_000
    upload = paths["/api/permits/{application_id}/attachments"]["post"]["requestBody"]
    assert upload["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    problem = document["components"]["responses"]["Error404"]["content"]
    assert problem["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_amount_too_large_for_minor_units_is_refused(
    client: Client, demo: Database
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    before = await rows(demo)
    response = await client.post(
        "/api/conferences/1/agreements",
        json={
            "title": "Too rich",
            "parties": [{"name": "A"}],
            "amount": "99999999999999999999",
            "currency": "VND",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 422, await response.text()
    assert "amount" in (await response.json())["detail"]
    assert await rows(demo) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [  # each of these was a 500 (SQLite's OverflowError) before record numbers were bounded
        ("/sites", {"name": "x", "time_zone": "UTC", "technician_id": BIG}, "technician_id"),
        ("/sites", {"name": "x", "time_zone": "UTC", "venue_id": BIG}, "venue_id"),
        ("/delegations", {"country": "VN", "organisation": "x", "site_id": BIG}, "site_id"),
        (
            "/delegations",
            {"country": "VN", "organisation": "x", "members": [{"name": "a", "user_id": BIG}]},
            "members.0.user_id",
        ),
        ("/interpreters", {"target_language": "en", "user_id": BIG}, "user_id"),
        ("/invitations", {"site_id": BIG, "role": "delegate"}, "site_id"),
        ("/calendar-invitations", {"session_ids": [BIG]}, "session_ids.0"),
    ],
)
async def test_huge_record_numbers_in_bodies_are_422(
    client: Client,
    demo: Database,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    before = await rows(demo)
    response = await client.post(
        f"/api/conferences/2{path}", json=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 422, await response.text()
    problem = await response.json()
    assert problem["errors"][0]["field"] == field
    assert "less than or equal to 2147483647" in problem["errors"][0]["message"]
    assert await rows(demo) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("query", "says"),
    [  # each of these was a 500 (OverflowError, or int("²") after "²".isdigit())
        (f"/api/permits?conference_id={HUGE}", "conference_id must be a whole number from 0"),
        ("/api/permits?conference_id=%C2%B2", "conference_id must be a whole number from 0"),
        (f"/api/search?q=mou&offset={HUGE}", "offset must be a whole number from 0 to 100000"),
        (f"/api/search?q=mou&limit={HUGE}", "limit must be a whole number from 1 to 100"),
        ("/api/conferences?limit=%C2%B2", "limit must be a whole number from 1 to 200"),
        (f"/api/conferences?offset={HUGE}", "offset must be a whole number from 0 to"),
    ],
)
async def test_huge_or_odd_numbers_in_queries_are_422(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture, query: str, says: str
) -> None:
    await sign_in(client, "admin@concord.example")
    response = await client.get(query)
    assert response.status == 422, await response.text()
    assert says in (await response.json())["detail"]
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [  # found by schemathesis: OverflowError in astimezone, then in the bookings' arithmetic
        ("0001-01-01T00:00:30Z", "0001-01-01T00:00:30+01:30", "starts_at"),
        ("9999-12-31T10:00:00", "9999-12-31T23:00:00", "starts_at"),
        ("1850-01-01T10:00:00Z", "1850-01-01T12:00:00Z", "starts_at"),
    ],
)
async def test_times_outside_the_planned_years_are_422(
    client: Client,
    demo: Database,
    caplog: pytest.LogCaptureFixture,
    starts_at: str,
    ends_at: str,
    field: str,
) -> None:
    csrf = await sign_in(client, "admin@concord.example")
    before = await rows(demo)
    response = await client.post(
        "/api/conferences",
        json={"title": "t", "time_zone": "Asia/Tokyo", "starts_at": starts_at, "ends_at": ends_at},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 422, await response.text()
    problem = await response.json()
    assert problem["code"] == "out_of_range"
    assert problem["errors"][0]["field"] == field
    assert "outside the years 1900 to 2200" in problem["detail"]
    assert await rows(demo) == before
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "query", ["from=0001-01-01&to=0001-03-01", "from=9999-11-01&to=9999-12-31&period=month"]
)
async def test_a_report_at_the_ends_of_the_calendar_is_422(
    client: Client, demo: Database, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    await sign_in(client, "approver@concord.example")
    response = await client.get(f"/api/permits/report?{query}")
    assert response.status == 422, await response.text()
    assert "outside the years 1900 to 2200" in (await response.json())["detail"]
    no_tracebacks(caplog)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_only_record_numbers_are_range_checked(client: Client, demo: Database) -> None:
    response = await client.get(f"/static/{HUGE}", headers={"Accept": "application/json"})
    assert response.status == 404
    assert "must be a number" not in await response.text()  # a file name, not a record
