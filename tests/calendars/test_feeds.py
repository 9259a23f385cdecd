"""Personal feeds: the token's lifecycle, every role in two conferences, ETag and the cache."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import insert, select

from server.db import Database
from server.ical.ics import parse
from server.keys import FEED_CACHE
from server.models import AgendaSession, CalendarFeed, Conference, ConferenceMember, User
from tests.calendars.helpers import plan, read_both, user_id
from tests.conferences.conftest import Personas
from tests.conferences.helpers import VN, Api, Client


async def new_feed(api: Api) -> str:
    made = await api.call("POST", "/api/me/calendar-feeds", {"name": "My phone"}, 201)
    assert made["url"].endswith(f"/calendar/{made['token']}.ics")
    assert made["token"].startswith("cal_")
    return str(made["url"].split("8080", 1)[1])


async def test_feed_token_lifecycle(client: Client, demo: Database, persona: Personas) -> None:
    api = await Api.signed_in(client, "organiser")
    made = await api.call("POST", "/api/me/calendar-feeds", {"name": "Phone"}, 201)
    path = f"/calendar/{made['token']}.ics"
    listed = await api.call("GET", "/api/me/calendar-feeds")
    assert [(f["id"], f["name"], f["revoked_at"]) for f in listed] == [(made["id"], "Phone", None)]
    assert "token" not in listed[0]
    async with demo.session() as db:  # only the digest is kept
        stored = await db.scalar(select(CalendarFeed.token_hash))
        assert stored is not None and made["token"] not in stored and len(stored) == 64
    anonymous = await client.get(path, headers={"Cookie": ""})
    assert anonymous.status == 200
    parse(await anonymous.read())
    # Another user cannot revoke it.
    other = await persona("secretary")
    await other.call("DELETE", f"/api/me/calendar-feeds/{made['id']}", expect=404)
    revoked = await api.call("DELETE", f"/api/me/calendar-feeds/{made['id']}")
    assert revoked["revoked_at"] is not None
    gone = await client.get(path)
    assert gone.status == 410
    assert (await client.get("/calendar/cal_nonsense.ics")).status == 404


async def test_feed_lists_every_session_of_every_role_across_conferences(
    client: Client, demo: Database, persona: Personas
) -> None:
    api = await Api.signed_in(client, "organiser")
    first = await plan(api, demo, title="MoU")
    second = await plan(api, demo, title="Aid review", weeks=5)
    # The approver is a member (secretary) of the second conference only.
    async with demo.session() as db, db.begin():
        approver = await user_id(demo, "approver")
        await db.execute(
            insert(ConferenceMember).values(
                conference_id=second.id, user_id=approver, role="secretary"
            )
        )

    def uids(planned: object, *titles: str) -> set[str]:
        return {planned.sessions[t]["uid"] for t in titles}  # type: ignore[attr-defined]

    every = ("Opening", "Donor call", "Pakse review")
    expected = {
        # organiser of both
        "organiser": uids(first, *every) | uids(second, *every),
        # chair of the two openings only
        "secretary": uids(first, "Opening") | uids(second, "Opening"),
        # delegation member in both
        "delegate": uids(first, *every) | uids(second, *every),
        # interpreter in both
        "interpreter.en": uids(first, *every) | uids(second, *every),
        # technician of the hall: the sessions held there (the openings: every site)
        "technician": uids(first, "Opening") | uids(second, "Opening"),
        # member of the second conference
        "approver": uids(second, *every),
    }
    for who, wanted in expected.items():
        data = await (await client.get(await new_feed(await persona(who)))).read()
        events, independent = read_both(data)
        ours = uids(first, *every) | uids(second, *every)  # the demo's sessions aside
        assert {e.uid for e in events} & ours == wanted, who
        assert {e.uid for e in independent.events} & ours == wanted, who
        if who == "technician":  # their site's room, not an invitation link
            assert {e.url for e in events if e.uid in ours} == {
                f"http://127.0.0.1:8080/conferences/{c.id}/room" for c in (first, second)
            }
        assert b"/join/" not in data


async def test_etag_304_and_a_change_renders_again(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    path = await new_feed(api)
    cache = client.app[FEED_CACHE]
    first = await client.get(path)
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    assert cache.renders == 1
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status == 304
    same = await client.get(path)
    assert (await same.read()) == (await first.read())
    assert cache.renders == 1  # served from the cache
    session = planned.sessions["Pakse review"]
    await api.call(
        "PATCH", f"/api/conferences/{planned.id}/sessions/{session['id']}", {"title": "Review"}
    )
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert cache.renders == 2
    titles = {e.summary for e in parse(await changed.read())}
    assert "Review" in titles and "Pakse review" not in titles


async def test_a_thousand_sessions_from_the_cache(client: Client, demo: Database) -> None:
    """The feed of 1,000 sessions: rendered once, then served from the cache fast."""
    async with demo.session() as db, db.begin():
        organiser = await db.scalar(
            select(User.id).where(User.email == "organiser@concord.example")
        )
        start = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
        conference = Conference(
            slug="thousand",
            title="A thousand sessions",
            time_zone=VN,
            starts_at=start,
            ends_at=start + dt.timedelta(days=1000),
            organiser_id=organiser,
        )
        db.add(conference)
        await db.flush()
        await db.execute(
            insert(AgendaSession),
            [
                {
                    "conference_id": conference.id,
                    "title": f"Session {n}",
                    "description": "",
                    "starts_at": start + dt.timedelta(days=n, hours=2),
                    "ends_at": start + dt.timedelta(days=n, hours=3),
                    "time_zone": VN,
                    "chair_id": organiser,
                    "uid": f"s{n}@test",
                    "speakers": [],
                    "interpreted_languages": [],
                    "exdates": [],
                }
                for n in range(1000)
            ],
        )
    api = await Api.signed_in(client, "organiser")
    path = await new_feed(api)
    first = await client.get(path)
    assert first.status == 200
    assert len(parse(await first.read())) >= 1000
    timings = []
    for _ in range(20):
        began = time.perf_counter()
        response = await client.get(path)
        await response.read()
        timings.append(time.perf_counter() - began)
    timings.sort()
    assert client.app[FEED_CACHE].renders == 1
    assert timings[18] < 0.2, timings
