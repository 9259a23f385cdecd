"""Recurring sessions: expansion across DST with EXDATEs and a moved occurrence, editing one
occurrence or the whole series, removing one occurrence."""

from __future__ import annotations

from typing import Any, Unpack

from server.db import Database
from server.models import AgendaSession
from tests.conferences.helpers import PARIS, Api, Client, Window, count, field_of

WEEKLY = "FREQ=WEEKLY;COUNT=6;BYDAY=TU"  # as icalendar writes it (canonical)


async def weekly(api: Api, cid: int, **fields: Any) -> dict[str, Any]:
    """A weekly Tuesday 09:00 Paris meeting from 19 March 2030: DST starts on 31 March."""
    made = await api.session(
        cid,
        title="Weekly coordination",
        time_zone=PARIS,
        starts_at="2030-03-19T09:00:00",
        ends_at="2030-03-19T10:00:00",
        rrule=WEEKLY,
        **fields,
    )
    assert isinstance(made, dict)
    return made


async def occurrences(api: Api, cid: int, **window: Unpack[Window]) -> list[dict[str, Any]]:
    found = await api.call("GET", f"/api/conferences/{cid}/occurrences", **window)
    assert isinstance(found, list)
    return found


async def test_a_series_expands_across_dst_with_exdates_and_a_moved_occurrence(
    client: Client,
) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    series = await weekly(api, cid, exdates=["2030-04-09T09:00:00"])
    assert series["rrule"] == WEEKLY
    assert series["exdates"] == ["2030-04-09T07:00:00Z"]
    listed = await occurrences(api, cid)
    # 09:00 in Paris all along: 08:00 UTC before 31 March, 07:00 UTC after; 9 April removed.
    assert [o["starts_at"] for o in listed] == [
        "2030-03-19T08:00:00Z",
        "2030-03-26T08:00:00Z",
        "2030-04-02T07:00:00Z",
        "2030-04-16T07:00:00Z",
        "2030-04-23T07:00:00Z",
    ]
    assert {o["local_starts_at"][11:] for o in listed} == {"09:00:00+01:00", "09:00:00+02:00"}
    assert {o["uid"] for o in listed} == {series["uid"]}

    # Move the 2 April meeting to Thursday 4 April, 14:00 Paris.
    path = f"/api/conferences/{cid}/sessions/{series['id']}"
    moved = await api.call(
        "PATCH",
        path,
        {"starts_at": "2030-04-04T14:00:00", "ends_at": "2030-04-04T15:30:00"},
        occurrence="2030-04-02T07:00:00Z",
    )
    assert moved["series_id"] == series["id"] and moved["uid"] == series["uid"]
    assert moved["recurrence_id"] == "2030-04-02T07:00:00Z"
    assert moved["sequence"] == 1
    listed = await occurrences(api, cid, **{"from": "2030-03-30", "to": "2030-04-10"})
    assert [(o["starts_at"], o["moved"], o["recurrence_id"]) for o in listed] == [
        ("2030-04-04T12:00:00Z", True, "2030-04-02T07:00:00Z")
    ]
    # The moved occurrence is changed again through the same occurrence: the same row.
    again = await api.call(
        "PATCH", path, {"title": "Coordination (moved)"}, occurrence="2030-04-02T07:00:00Z"
    )
    assert again["id"] == moved["id"] and again["sequence"] == 2
    unknown = await api.call("PATCH", path, {"title": "x"}, 404, occurrence="2030-04-03T07:00:00Z")
    assert unknown["code"] == "occurrence_not_found"
    removed = await api.call("PATCH", path, {"title": "x"}, 404, occurrence="2030-04-09T07:00:00Z")
    assert removed["code"] == "occurrence_not_found"
    rule = await api.call(
        "PATCH", path, {"rrule": "FREQ=DAILY;COUNT=2"}, 422, occurrence="2030-03-26T08:00:00Z"
    )
    assert field_of(rule) == "rrule"


async def test_this_occurrence_versus_the_whole_series(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    hall = await api.site(cid, "Quang Ngai hall")
    series = await weekly(api, cid)
    path = f"/api/conferences/{cid}/sessions/{series['id']}"
    one = await api.call(
        "PATCH",
        path,
        {"title": "Budget review", "site_ids": [hall["id"]]},
        occurrence="2030-03-26T08:00:00Z",
    )
    assert one["title"] == "Budget review"
    whole = await api.call("PATCH", path, {"title": "Weekly coordination meeting"})
    assert whole["sequence"] == 1 and whole["title"] == "Weekly coordination meeting"
    titles = [o["title"] for o in await occurrences(api, cid)]
    assert (
        titles
        == ["Weekly coordination meeting", "Budget review"] + ["Weekly coordination meeting"] * 4
    )

    # Moving the whole series to 10:00 leaves no occurrence at the old times: the exception
    # (named by its 09:00 start) goes, as in calendar programs.
    later = await api.call("PATCH", path, {"starts_at": "2030-03-19T10:00:00"})
    assert later["sequence"] == 2
    listed = await occurrences(api, cid)
    assert [o["title"] for o in listed] == ["Weekly coordination meeting"] * 6
    assert listed[0]["local_starts_at"] == "2030-03-19T10:00:00+01:00"
    rows = await api.call("GET", f"/api/conferences/{cid}/sessions")
    assert [r["id"] for r in rows] == [series["id"]]

    # Removing one occurrence adds an EXDATE; removing it twice is 404.
    after = await api.call("DELETE", path, occurrence="2030-04-16T08:00:00Z")
    assert after["exdates"] == ["2030-04-16T08:00:00Z"] and after["sequence"] == 3
    assert len(await occurrences(api, cid)) == 5
    await api.call("DELETE", path, expect=404, occurrence="2030-04-16T08:00:00Z")
    # Removing a moved occurrence by its own row removes that occurrence.
    moved = await api.call(
        "PATCH", path, {"starts_at": "2030-03-21T10:00:00"}, occurrence="2030-03-19T09:00:00Z"
    )
    before = await count(demo, AgendaSession)
    series_now = await api.call("DELETE", f"/api/conferences/{cid}/sessions/{moved['id']}")
    assert series_now["id"] == series["id"]
    assert "2030-03-19T09:00:00Z" in series_now["exdates"]
    assert await count(demo, AgendaSession) == before - 1
    assert len(await occurrences(api, cid)) == 4


async def test_series_must_end_inside_their_conference(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference())["id"]
    before = await count(demo, AgendaSession)
    cases = [
        ("FREQ=WEEKLY;BYDAY=TU", "open_ended_series"),
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=30", "outside_conference"),
        ("FREQ=WEEKLY;BYDAY=WE;COUNT=3", "bad_recurrence"),  # 19 March is a Tuesday
        ("FREQ=DAILY;COUNT=2000", "outside_conference"),
    ]
    for rule, code in cases:
        refused = await api.session(
            cid,
            422,
            time_zone=PARIS,
            starts_at="2030-03-19T09:00:00",
            ends_at="2030-03-19T10:00:00",
            rrule=rule,
        )
        assert (refused["code"], field_of(refused)) == (code, "rrule"), refused
    not_one = await api.session(
        cid,
        422,
        time_zone=PARIS,
        starts_at="2030-03-19T09:00:00",
        ends_at="2030-03-19T10:00:00",
        rrule=WEEKLY,
        exdates=["2030-03-20T09:00:00"],
    )
    assert (not_one["code"], field_of(not_one)) == ("not_an_occurrence", "exdates.0")
    single = await api.session(cid, 422, exdates=["2030-03-05T09:00:00"])
    assert single["code"] == "not_a_series"
    assert await count(demo, AgendaSession) == before
    # Shrinking the conference under a series is refused too.
    await weekly(api, cid)
    shrink = await api.call(
        "PATCH", f"/api/conferences/{cid}", {"ends_at": "2030-04-01T00:00:00"}, 422
    )
    assert shrink["code"] in ("session_outside_conference", "outside_conference")
