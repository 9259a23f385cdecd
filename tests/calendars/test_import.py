"""Importing ``.ics`` files: a round trip, and broken files that change nothing."""

from __future__ import annotations

import io
from typing import Any

from server.db import Database
from server.models import AgendaSession
from tests.calendars.helpers import plan
from tests.conferences.helpers import Api, Client, count

ICS = {"Content-Type": "text/calendar"}


def comparable(sessions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    by_id = {s["id"]: s for s in sessions}
    return sorted(
        (
            s["title"],
            s["description"],
            s["starts_at"],
            s["ends_at"],
            s["time_zone"],
            s["rrule"],
            tuple(s["exdates"]),
            s["recurrence_id"],
            by_id[s["series_id"]]["title"] if s["series_id"] else None,
            s["status"],
        )
        for s in sessions
    )


async def post_ics(api: Api, conference_id: int, data: bytes, expect: int) -> Any:
    response = await api.client.post(
        f"/api/conferences/{conference_id}/sessions/import",
        data=data,
        headers={**ICS, "X-CSRF-Token": api.csrf},
    )
    assert response.status == expect, await response.text()
    return await response.json()


async def test_export_then_import_gives_the_same_sessions(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    data = await (await client.get(f"/api/conferences/{planned.id}/calendar.ics")).read()
    other = (await api.conference(title="Copy"))["id"]
    made = await post_ics(api, other, data, 201)
    assert len(made) == 4  # three sessions and the moved occurrence
    original = await api.call("GET", f"/api/conferences/{planned.id}/sessions")
    copied = await api.call("GET", f"/api/conferences/{other}/sessions")
    assert comparable(copied) == comparable(original)
    assert not {s["uid"] for s in copied} & {s["uid"] for s in original}  # UIDs of their own
    # The occurrences are the same instants too.
    assert [
        (o["title"], o["starts_at"], o["ends_at"])
        for o in await api.call("GET", f"/api/conferences/{other}/occurrences")
    ] == [
        (o["title"], o["starts_at"], o["ends_at"])
        for o in await api.call("GET", f"/api/conferences/{planned.id}/occurrences")
    ]


def event(uid: str, start: str, end: str, tzid: str = "Asia/Ho_Chi_Minh") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20300101T000000Z\r\n"
        f"DTSTART;TZID={tzid}:{start}\r\nDTEND;TZID={tzid}:{end}\r\n"
        f"SUMMARY:Session {uid}\r\nEND:VEVENT\r\n"
    )


def wrap(*events: str) -> bytes:
    body = "".join(events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + body + "END:VCALENDAR\r\n"
    ).encode()


async def test_broken_files_are_refused_naming_line_and_property(
    client: Client, demo: Database
) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference(title="Target"))["id"]
    before = await count(demo, AgendaSession)
    good = event("a", "20300305T090000", "20300305T100000")
    bad_line = wrap(good, "BEGIN:VEVENT\r\nthis is not a content line\r\nEND:VEVENT\r\n")
    refused = await post_ics(api, cid, bad_line, 422)
    assert refused["code"] == "bad_ics" and refused["line"] == 12
    unknown_zone = wrap(good, event("b", "20300306T090000", "20300306T100000", "Mars/Olympus"))
    refused = await post_ics(api, cid, unknown_zone, 422)
    assert refused["property"] == "DTSTART" and isinstance(refused["line"], int)
    assert "Mars/Olympus" in refused["detail"]
    # Valid iCalendar, but outside the conference: named by its event, nothing written.
    outside = wrap(good, event("c", "20350305T090000", "20350305T100000"))
    refused = await post_ics(api, cid, outside, 422)
    assert "'c'" in refused["detail"] and refused["code"] == "outside_conference"
    not_ics = await api.client.post(
        f"/api/conferences/{cid}/sessions/import",
        data=b"{}",
        headers={"Content-Type": "application/json", "X-CSRF-Token": api.csrf},
    )
    assert not_ics.status == 415
    # A stream, not bytes: aiohttp warns (ResourceWarning) of a raw body over 1 MiB.
    huge = io.BytesIO(wrap(good) + b" " * (2 * 1024 * 1024))
    too_big = await api.client.post(
        f"/api/conferences/{cid}/sessions/import",
        data=huge,
        headers={**ICS, "X-CSRF-Token": api.csrf},
    )
    assert too_big.status == 413
    assert await count(demo, AgendaSession) == before


async def test_a_conflict_refuses_the_whole_import(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    cid = (await api.conference(title="Target"))["id"]
    await api.site(cid, "The only hall")  # every session takes place there
    before = await count(demo, AgendaSession)
    overlapping = wrap(
        event("first", "20300305T090000", "20300305T100000"),
        event("second", "20300305T093000", "20300305T103000"),
    )
    refused = await post_ics(api, cid, overlapping, 409)
    assert refused["code"] == "schedule_conflict"
    assert {c["session"]["session_title"] for c in refused["conflicts"]} <= {
        "Session first",
        "Session second",
    }
    assert refused["conflicts"]
    assert await count(demo, AgendaSession) == before
