"""The rest of the plan through the API: conferences' own fields, sites, delegations,
interpreters; each validated, audited, and documented in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from server.db import Database
from server.models import AuditEntry, Conference, ConferenceMember, Delegation, Site
from tests.conferences.helpers import LA, VN, Api, Client, count, field_of


async def test_a_conference_with_languages_and_translations(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    made = await api.conference(
        kind="hybrid",
        translations={"vi": {"title": "Giao ban hằng tuần"}, "lo": {"title": "ກອງປະຊຸມ"}},
    )
    assert made["kind"] == "hybrid" and made["organiser_id"]
    assert made["translations"]["vi"] == {"title": "Giao ban hằng tuần"}
    assert [(lang["code"], lang["is_sign_language"]) for lang in made["languages"]] == [
        ("vi", False),
        ("lo", False),
        ("fr", False),
        ("vsl", True),
    ]
    path = f"/api/conferences/{made['id']}"
    changed = await api.call(
        "PATCH",
        path,
        {"languages": [{"code": "vi"}, {"code": "lo"}], "description": "Weekly", "time_zone": LA},
    )
    assert [lang["code"] for lang in changed["languages"]] == ["vi", "lo"]
    assert changed["time_zone"] == LA and changed["description"] == "Weekly"
    async with demo.session() as db:
        actions = list(
            await db.scalars(
                select(AuditEntry.action).where(AuditEntry.conference_id == made["id"])
            )
        )
    assert actions == ["conference.created", "conference.updated"]


BAD_CONFERENCES: list[tuple[dict[str, Any], str, str]] = [
    ({"time_zone": "Indochina Time"}, "time_zone", "bad_time_zone"),
    ({"ends_at": "2030-02-01T00:00:00"}, "ends_at", "end_before_start"),
    ({"ends_at": "2045-01-01T00:00:00"}, "ends_at", "span_too_long"),
    ({"languages": [{"code": "vi"}, {"code": "vi"}]}, "languages.1.code", "duplicate_language"),
    ({"languages": [{"code": "Vietnamese"}]}, "languages.0.code", "invalid_input"),
    ({"translations": {"vi": {"summary": "x"}}}, "translations.vi.summary", "invalid_input"),
    ({"kind": "in person"}, "kind", "invalid_input"),
    ({"title": "   "}, "title", "invalid_input"),
]


@pytest.mark.parametrize(("fields", "field", "code"), BAD_CONFERENCES)
async def test_bad_conferences_are_refused_and_nothing_is_written(
    client: Client, demo: Database, fields: dict[str, Any], field: str, code: str
) -> None:
    api = await Api.signed_in(client, "organiser")
    before = (await count(demo, Conference), await count(demo, AuditEntry))
    body = {
        "title": "T",
        "time_zone": VN,
        "starts_at": "2030-03-01T00:00:00",
        "ends_at": "2030-06-30T00:00:00",
        **fields,
    }
    problem = await api.call("POST", "/api/conferences", body, 422)
    assert (problem["code"], field_of(problem)) == (code, field)
    assert (await count(demo, Conference), await count(demo, AuditEntry)) == before


async def test_sites_delegations_and_interpreters(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    base = f"/api/conferences/{cid}"
    hall = await api.site(
        cid, "Quang Ngai hall", is_main_hall=True, contact_email="dofa@example.vn"
    )
    pakse = await api.site(cid, "Champasak hall", time_zone=LA)
    assert hall["venue_id"] != pakse["venue_id"]
    bad_zone = await api.call("POST", f"{base}/sites", {"name": "X", "time_zone": "Laos"}, 422)
    assert field_of(bad_zone) == "time_zone"
    taken = await api.call(
        "POST", f"{base}/sites", {"name": "Champasak hall", "time_zone": LA}, 422
    )
    assert field_of(taken) == "name"
    unknown_venue = await api.call(
        "POST", f"{base}/sites", {"name": "Y", "time_zone": LA, "venue_id": 999999}, 422
    )
    assert field_of(unknown_venue) == "venue_id"
    renamed = await api.call("PATCH", f"{base}/sites/{pakse['id']}", {"location": "Pakse"})
    assert renamed["location"] == "Pakse"

    made = await api.call(
        "POST",
        f"{base}/delegations",
        {
            "country": "LA",
            "organisation": "Champasak Province Administration",
            "site_id": pakse["id"],
            "members": [
                {"name": "Governor", "position": "Governor", "role": "head", "language": "lo"},
                {"name": "Adviser", "role": "adviser", "language": "lo"},
            ],
        },
        201,
    )
    assert made["precedence"] == 0 and [m["precedence"] for m in made["members"]] == [0, 1]
    host = await api.call(
        "POST",
        f"{base}/delegations",
        {"country": "VN", "organisation": "Quang Ngai PPC", "is_host": True},
        201,
    )
    assert host["precedence"] == 1
    swapped = await api.call(
        "PATCH",
        f"{base}/delegations/{host['id']}",
        {"precedence": 0, "members": [{"name": "Chairman", "role": "head"}]},
    )
    assert swapped["precedence"] == 0 and [m["name"] for m in swapped["members"]] == ["Chairman"]
    body: dict[str, Any]  # (the request bodies of both loops below)
    for body, field in (
        ({"country": "Laos", "organisation": "x"}, "country"),
        ({"country": "LA", "organisation": "x", "site_id": 1}, "site_id"),
        (
            {"country": "LA", "organisation": "x", "members": [{"name": "A", "user_id": 999999}]},
            "members.0.user_id",
        ),
    ):
        problem = await api.call(
            "POST", f"{base}/delegations", body, 422 if field != "site_id" else 404
        )
        if field != "site_id":
            assert field_of(problem) == field
    await api.call("DELETE", f"{base}/delegations/{made['id']}", expect=204)
    async with demo.session() as db:
        assert await db.scalar(select(Delegation).where(Delegation.id == made["id"])) is None

    interpreters = f"{base}/interpreters"
    named = await api.call(
        "POST", interpreters, {"interpreter_name": "Freelance", "target_language": "fr"}, 201
    )
    assert named["user_id"] is None and named["shift_starts_at"] is None
    for body, field in (
        ({"interpreter_name": "A", "target_language": "en"}, "target_language"),
        (
            {"interpreter_name": "A", "target_language": "lo", "source_languages": ["th"]},
            "source_languages.0",
        ),
        ({"target_language": "lo"}, "interpreter_name"),
        ({"interpreter_name": "A", "target_language": "lo", "time_zone": "Lao"}, "time_zone"),
        (
            {
                "interpreter_name": "A",
                "target_language": "lo",
                "shift_starts_at": "2030-03-05T10:00:00",
                "shift_ends_at": "2030-03-05T09:00:00",
            },
            "shift_ends_at",
        ),
        (
            {
                "interpreter_name": "A",
                "target_language": "lo",
                "shift_starts_at": "2030-03-05T10:00:00",
            },
            "shift_ends_at",
        ),
        ({"user_id": 999999, "target_language": "lo"}, "user_id"),
    ):
        problem = await api.call("POST", interpreters, body, 422)
        assert field_of(problem) == field, problem
    signer = await api.call(
        "POST",
        interpreters,
        {"user_id": 5, "target_language": "vsl", "source_languages": ["vi"]},
        201,
    )
    async with demo.session() as db:
        member = await db.scalar(
            select(ConferenceMember.role).where(
                ConferenceMember.conference_id == cid, ConferenceMember.user_id == 5
            )
        )
    assert member == "interpreter", "an assigned interpreter gets a part in the conference"
    await api.call("DELETE", f"{interpreters}/{signer['id']}", expect=204)
    used = await api.call("PATCH", base, {"languages": [{"code": "vi"}]}, 409)
    assert used["code"] == "language_in_use"

    session = await api.session(cid, site_ids=[pakse["id"]])
    only_site = await api.call("DELETE", f"{base}/sites/{pakse['id']}", expect=409)
    assert only_site["code"] == "site_in_use"
    await api.call("PATCH", f"{base}/sessions/{session['id']}", {"site_ids": []})
    await api.call("DELETE", f"{base}/sites/{pakse['id']}", expect=204)
    async with demo.session() as db:
        assert await db.get(Site, pakse["id"]) is None


async def test_the_scheduling_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    paths = document["paths"]
    for path, methods in {
        "/api/conferences": {"get", "post"},
        "/api/conferences/{conference_id}": {"get", "patch", "delete"},
        "/api/conferences/{conference_id}/status": {"post"},
        "/api/conferences/{conference_id}/sessions": {"get", "post"},
        "/api/conferences/{conference_id}/sessions/{session_id}": {"get", "patch", "delete"},
        "/api/conferences/{conference_id}/occurrences": {"get"},
        "/api/conferences/{conference_id}/sites/{site_id}": {"patch", "delete"},
        "/api/conferences/{conference_id}/interpreters": {"post"},
        "/api/conferences/{conference_id}/delegations/{delegation_id}": {"patch", "delete"},
        "/api/venues": {"get"},
    }.items():
        assert methods <= set(paths[path]), path
    assert "SessionCreate" in document["components"]["schemas"]
    assert paths["/api/conferences/{conference_id}/status"]["post"]["x-access"] == (
        "conference[approver,organiser,secretary,technician]"
    )
