"""Sessions: time zones (DST included), the conference's bounds, SEQUENCE, and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from server.db import Database
from server.models import AgendaSession, AuditEntry, Booking
from tests.conferences.helpers import LA, PARIS, VN, Api, Client, Window, count, field_of


async def test_times_are_read_in_their_zone_and_stored_in_utc(client: Client) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    # A naive time is wall-clock in the given zone, else in the conference's (Viet Nam).
    in_vientiane = await api.session(
        cid, time_zone=LA, starts_at="2030-03-05T08:00:00", ends_at="2030-03-05T09:30:00"
    )
    assert in_vientiane["starts_at"] == "2030-03-05T01:00:00Z"
    assert in_vientiane["time_zone"] == LA
    default_zone = await api.session(cid)
    assert default_zone["starts_at"] == "2030-03-05T02:00:00Z"
    assert default_zone["time_zone"] == VN
    # An aware time is that instant, whatever the zone it is planned in.
    aware = await api.session(
        cid, time_zone=PARIS, starts_at="2030-03-06T10:00:00+01:00", ends_at="2030-03-06T11:00:00Z"
    )
    assert (aware["starts_at"], aware["ends_at"]) == (
        "2030-03-06T09:00:00Z",
        "2030-03-06T11:00:00Z",
    )
    assert aware["uid"].endswith("@concord") and aware["sequence"] == 0


async def test_a_european_session_across_the_march_dst_change(client: Client) -> None:
    """Paris goes from +01:00 to +02:00 at 02:00 on 31 March 2030: 01:30 to 03:30 local time
    is one hour, and 02:30 that night does not exist."""
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    night = await api.session(
        cid, time_zone=PARIS, starts_at="2030-03-31T01:30:00", ends_at="2030-03-31T03:30:00"
    )
    assert (night["starts_at"], night["ends_at"]) == (
        "2030-03-31T00:30:00Z",
        "2030-03-31T01:30:00Z",
    )
    window: Window = {"from": "2030-03-31", "to": "2030-04-01"}
    occurrences = await api.call("GET", f"/api/conferences/{cid}/occurrences", **window)
    assert [(o["local_starts_at"], o["local_ends_at"]) for o in occurrences] == [
        ("2030-03-31T01:30:00+01:00", "2030-03-31T03:30:00+02:00")
    ]
    gap = await api.session(
        cid,
        422,
        time_zone=PARIS,
        starts_at="2030-03-31T02:30:00",
        ends_at="2030-03-31T04:00:00",
    )
    assert gap["code"] == "nonexistent_local_time" and field_of(gap) == "starts_at"
    twice = await api.call(
        "POST",
        f"/api/conferences/{cid}/sessions",
        {
            "title": "Autumn",
            "time_zone": PARIS,
            "starts_at": "2030-10-27T02:30:00",
            "ends_at": "2030-10-27T04:00:00",
        },
        422,
    )
    # (October is outside this conference, but the time is refused before the span is checked.)
    assert twice["code"] == "ambiguous_local_time" and "+02:00" in twice["detail"]


BAD_SESSIONS: list[tuple[dict[str, Any], int, str, str]] = [
    ({"time_zone": "Mars/Olympus"}, 422, "time_zone", "bad_time_zone"),
    ({"time_zone": "asia/ho_chi_minh"}, 422, "time_zone", "bad_time_zone"),
    ({"ends_at": "2030-03-05T08:00:00"}, 422, "ends_at", "end_before_start"),
    ({"ends_at": "2030-03-05T09:00:00"}, 422, "ends_at", "end_before_start"),
    (
        {"starts_at": "2030-02-27T09:00:00", "ends_at": "2030-02-27T10:00:00"},
        422,
        "starts_at",
        "outside_conference",
    ),
    (
        {"starts_at": "2030-06-30T22:30:00", "ends_at": "2030-07-01T00:30:00"},
        422,
        "ends_at",
        "outside_conference",
    ),
    ({"ends_at": "2030-03-06T09:00:01"}, 422, "ends_at", "session_too_long"),
    ({"site_ids": [999999]}, 422, "site_ids.0", "unknown_site"),
    ({"site_ids": [1]}, 422, "site_ids.0", "unknown_site"),  # a site of another conference
    ({"interpreted_languages": ["en"]}, 422, "interpreted_languages.0", "unknown_language"),
    ({"chair_id": 999999}, 422, "chair_id", "unknown_user"),
    ({"starts_at": "next tuesday"}, 422, "starts_at", "invalid_input"),
    ({"title": ""}, 422, "title", "invalid_input"),
    ({"rrule": "FREQ=SECONDLY;COUNT=3"}, 422, "rrule", "bad_recurrence"),
    ({"surprise": 1}, 422, "surprise", "invalid_input"),
]


@pytest.mark.parametrize(("fields", "status", "field", "code"), BAD_SESSIONS)
async def test_bad_sessions_are_refused_naming_the_field_and_nothing_is_written(
    client: Client, demo: Database, fields: dict[str, Any], status: int, field: str, code: str
) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    before = [await count(demo, m) for m in (AgendaSession, AuditEntry, Booking)]
    problem = await api.session(cid, status, **fields)
    assert problem["code"] == code, problem
    assert field_of(problem) == field, problem
    assert field in problem["detail"]
    assert [await count(demo, m) for m in (AgendaSession, AuditEntry, Booking)] == before


async def test_sequence_goes_up_with_changes_that_matter_to_calendars(
    client: Client, demo: Database
) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    hall = await api.site(cid, "Quang Ngai hall")
    pakse = await api.site(cid, "Champasak hall", time_zone=LA)
    made = await api.session(cid, site_ids=[hall["id"]])
    path = f"/api/conferences/{cid}/sessions/{made['id']}"
    steps: list[tuple[dict[str, Any], int]] = [
        ({"description": "Agenda attached"}, 0),  # cosmetic
        ({"speakers": ["Director, DOFA"]}, 0),
        ({"title": "Coordination meeting"}, 1),
        ({"starts_at": "2030-03-05T10:00:00"}, 2),  # moved: keeps its hour
        ({"site_ids": [hall["id"], pakse["id"]]}, 3),
        ({"site_ids": [pakse["id"], hall["id"]]}, 3),  # the same place
        ({"time_zone": LA}, 4),
        ({}, 4),
    ]
    for change, sequence in steps:
        changed = await api.call("PATCH", path, change)
        assert changed["sequence"] == sequence, change
    assert (changed["starts_at"], changed["ends_at"]) == (
        "2030-03-05T03:00:00Z",
        "2030-03-05T04:00:00Z",
    )
    assert [s["name"] for s in changed["sites"]] == ["Quang Ngai hall", "Champasak hall"]
    # Renaming a site is a change of place for the sessions held there.
    await api.call("PATCH", f"/api/conferences/{cid}/sites/{pakse['id']}", {"name": "Pakse hall"})
    assert (await api.call("GET", path))["sequence"] == 5
    # In a conference past its draft, removing a session cancels it (SEQUENCE + 1).
    await api.call("POST", f"/api/conferences/{cid}/status", {"status": "awaiting_approval"})
    cancelled = await api.call("DELETE", path)
    assert (cancelled["status"], cancelled["sequence"]) == ("cancelled", 6)
    refused = await api.call("PATCH", path, {"title": "again"}, 422)
    assert refused["code"] == "session_cancelled"


async def test_a_draft_session_is_deleted_and_unknown_ones_are_404(
    client: Client, demo: Database
) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    made = await api.session(cid)
    before = await count(demo, AgendaSession)
    await api.call("DELETE", f"/api/conferences/{cid}/sessions/{made['id']}", expect=204)
    assert await count(demo, AgendaSession) == before - 1
    missing = await api.call("GET", f"/api/conferences/{cid}/sessions/{made['id']}", expect=404)
    assert missing["code"] == "session_not_found"
    # Conference 1's sessions are not reachable through this conference.
    await api.call("GET", f"/api/conferences/{cid}/sessions/1", expect=404)
    listed = await api.call("GET", "/api/conferences/1/sessions")
    assert len(listed) == 5 and all(s["uid"].endswith("@concord") for s in listed)
