"""A conference's ``.ics``: every session, read back by Concord and by an independent parser."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from server.app import create_app
from server.config import Config
from server.db import Database
from server.ical.ics import AttendeeRole, PartStat, Status
from server.keys import RENDERED_EVENTS
from server.models import CalendarRender
from tests.calendars.helpers import plan, read_both
from tests.conferences.helpers import PARIS, Api, Client
from tests.conftest import ClientFactory, sign_in

UTC = dt.UTC


async def test_conference_calendar_has_every_session_with_people_place_and_zones(
    client: Client, demo: Database
) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    response = await client.get(f"/api/conferences/{planned.id}/calendar.ics")
    assert response.status == 200
    assert response.content_type == "text/calendar"
    data = await response.read()
    events, independent = read_both(data)
    by_title = {e.summary: e for e in events}
    assert sorted(by_title) == ["Donor call", "Opening", "Pakse review"]
    sessions = planned.sessions
    for title, event in by_title.items():
        assert event.uid == sessions[title]["uid"]
        assert event.start == dt.datetime.fromisoformat(sessions[title]["starts_at"])
        assert event.organizer is not None
        assert event.organizer.email == "organiser@concord.example"
        assert event.alarms == (1440, 15)
        assert event.url == f"http://127.0.0.1:8080/conferences/{planned.id}"
    opening = by_title["Opening"]
    roles = {a.email: a.role for a in opening.attendees}
    assert roles == {
        "secretary@concord.example": AttendeeRole.CHAIR,
        "delegate@concord.example": AttendeeRole.REQ_PARTICIPANT,
        f"hall.{planned.id}@example.org": AttendeeRole.REQ_PARTICIPANT,
        "technician@concord.example": AttendeeRole.REQ_PARTICIPANT,
        "interpreter.en@concord.example": AttendeeRole.REQ_PARTICIPANT,
    }
    assert {a.partstat for a in opening.attendees} == {PartStat.NEEDS_ACTION}
    assert "Quang Ngai hall MoU (Quang Ngai)" in opening.location
    assert "Champasak hall MoU (Pakse)" in opening.location
    assert "Welcome by both provinces" in opening.description
    assert "Asia/Vientiane" in opening.description  # the local time at the Lao site
    # The Pakse-only series: the hall's people are not invited; the delegation sitting
    # in Pakse is.
    series = by_title["Donor call"]
    emails = {a.email for a in series.attendees}
    assert "delegate@concord.example" in emails
    assert f"hall.{planned.id}@example.org" not in emails
    assert series.recurrence is not None and series.time_zone == PARIS
    assert series.recurrence.exdates == (dt.datetime(2030, 3, 26, 9, tzinfo=UTC),)
    [moved] = series.overrides
    assert moved.recurrence_id == dt.datetime(2030, 4, 2, 8, tzinfo=UTC)
    assert moved.start == dt.datetime(2030, 4, 2, 12, tzinfo=UTC)  # 14:00 summer time
    # The independent reader: same UIDs and instants, and Paris with both offsets.
    assert len(independent.events) == 4
    read_starts = {(e.uid, e.recurrence_id): e.start for e in independent.events}
    assert read_starts[(series.uid, None)] == series.start
    assert read_starts[(series.uid, moved.recurrence_id)] == moved.start
    paris = independent.zones[PARIS]
    assert paris.utcoffset(dt.datetime(2030, 3, 19, 10)) == dt.timedelta(hours=1)
    assert paris.utcoffset(dt.datetime(2030, 4, 2, 14)) == dt.timedelta(hours=2)
    assert "Asia/Ho_Chi_Minh" in independent.zones
    assert data.count(b"BEGIN:VALARM") == 2 * 4


async def test_cancelled_sessions_stay_in_the_calendar_as_cancelled(
    client: Client, demo: Database
) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    cid = planned.id
    await api.call("POST", f"/api/conferences/{cid}/status", {"status": "awaiting_approval"})
    await api.call("DELETE", f"/api/conferences/{cid}/sessions/{planned.sessions['Opening']['id']}")
    data = await (await client.get(f"/api/conferences/{cid}/calendar.ics")).read()
    events, _ = read_both(data)
    opening = next(e for e in events if e.summary == "Opening")
    assert (opening.status, opening.sequence) == (Status.CANCELLED, 1)


async def test_a_changed_session_or_site_shows_at_once_while_the_rest_is_reused(
    client: Client, demo: Database
) -> None:
    """The served ``.ics`` reuses the bytes of unchanged events (``RENDERED_EVENTS``), and a
    change anywhere in what an event shows (a session's title, a site's name) is never stale."""
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    cid, path = planned.id, f"/api/conferences/{planned.id}/calendar.ics"
    rendered = client.app[RENDERED_EVENTS]
    first = await (await client.get(path)).read()
    hits = rendered.hits
    assert await (await client.get(path)).read() == first
    assert rendered.hits == hits + 3  # the session, the series (with its moved one), Pakse
    opening = planned.sessions["Opening"]["id"]
    await api.call("PATCH", f"/api/conferences/{cid}/sessions/{opening}", {"title": "Welcome"})
    misses = rendered.misses
    events, _ = read_both(await (await client.get(path)).read())
    assert rendered.misses == misses + 1
    assert sorted(e.summary for e in events) == ["Donor call", "Pakse review", "Welcome"]
    site = f"/api/conferences/{cid}/sites/{planned.pakse['id']}"
    await api.call("PATCH", site, {"name": "Champasak provincial hall"})
    events, _ = read_both(await (await client.get(path)).read())
    for event in events:
        assert "Champasak provincial hall (Pakse)" in event.location, event.summary


async def test_a_restarted_server_serves_stored_renderings(
    client: Client, demo: Database, config: Config, aiohttp_client: ClientFactory
) -> None:
    """What one process serialised, another (after a restart: an empty cache) reads back from
    ``calendar_renders`` instead of serialising it again, and serves the same bytes."""
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    path = f"/api/conferences/{planned.id}/calendar.ics"
    first = await (await client.get(path)).read()
    async with demo.session() as db:
        stored = await db.scalar(select(func.count()).select_from(CalendarRender))
    assert stored == 3  # the session, the series with its moved occurrence, Pakse
    restarted = await aiohttp_client(create_app(config))
    await sign_in(restarted, "organiser@concord.example")
    again = await (await restarted.get(path)).read()
    cache = restarted.app[RENDERED_EVENTS]
    assert (cache.hits, cache.misses) == (3, 0), "every event came from the database"
    assert again == first
    # A change is serialised once and stored; the others are not stored twice.
    opening = planned.sessions["Opening"]["id"]
    await api.call("PATCH", f"/api/conferences/{planned.id}/sessions/{opening}", {"title": "Hi"})
    await (await restarted.get(path)).read()
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(CalendarRender)) == 4
