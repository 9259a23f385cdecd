"""The scheduling pages through their forms: the editor (conference, sites, sessions, series,
lifecycle), refused input shown again with the problem named, conflicts listed, the timetable
in every site's zone across a DST change, the filtered list and the month calendar."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
VN, LA, PARIS = "Asia/Ho_Chi_Minh", "Asia/Vientiane", "Europe/Paris"


async def post(client: Client, path: str, csrf: str, **fields: Any) -> tuple[int, str, str]:
    """POST a form as a browser does; (status, Location, page)."""
    data: list[tuple[str, str]] = [("csrf_token", csrf)]
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            data.append((name, str(item)))
    response = await client.post(path, data=data, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


async def organiser(client: Client) -> None:
    """Sign in as the demo organiser, reading English (the demo user reads Vietnamese)."""
    token = await sign_in(client, "organiser@concord.example")
    changed = await client.patch("/api/me", json={"locale": "en"}, headers={"X-CSRF-Token": token})
    assert changed.status == 200


async def new_conference(client: Client, **fields: Any) -> tuple[int, str]:
    """Create a conference through the form (signed in as the organiser); (id, csrf)."""
    csrf = await csrf_of_page(client, "/conferences/new")
    body = {
        "title": "Quang Ngai - Champasak - Lyon coordination",
        "title_vi": "Phối hợp Quảng Ngãi - Champasak - Lyon",
        "kind": "hybrid",
        "time_zone": VN,
        "starts_at": "2026-10-19T00:00",
        "ends_at": "2026-11-06T23:00",
        "language_rows": "3",
        "language_0": "vi",
        "floor_0": "on",
        "booth_0": "on",
        "language_1": "lo",
        "floor_1": "on",
        "booth_1": "on",
        "language_2": "fr",
        "booth_2": "on",
        **fields,
    }
    status, location, page = await post(client, "/conferences/new", csrf, **body)
    assert status == 303, page
    # Created: on to the next step, its sites.
    found = re.fullmatch(r"/conferences/(\d+)/edit\?step=sites&saved=created", location)
    assert found, location
    return int(found.group(1)), csrf


async def add_site(client: Client, cid: int, csrf: str, name: str, zone: str) -> int:
    status, _, page = await post(
        client, f"/conferences/{cid}/sites", csrf, name=name, time_zone=zone
    )
    assert status == 303, page
    html = await (await client.get(f"/conferences/{cid}/edit?step=sessions")).text()
    found = re.search(rf'name="site_ids" value="(\d+)"> {re.escape(name)} ', html)
    assert found, f"site {name} not offered in the session form"
    return int(found.group(1))


async def test_editor_creates_a_conference_with_sessions_in_two_zones(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    editor = await (await client.get(f"/conferences/{cid}/edit")).text()
    assert "Quang Ngai - Champasak - Lyon coordination" in editor
    assert 'value="Phối hợp Quảng Ngãi - Champasak - Lyon"' in editor
    assert "Move to: awaiting approval" in editor  # the lifecycle's next steps
    hall = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    lyon = await add_site(client, cid, csrf, "Lyon office", PARIS)
    made = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Opening",
        starts_at="2026-10-20T09:00",
        ends_at="2026-10-20T10:30",
        time_zone=VN,
        site_ids=[hall, lyon],
        speakers="Chair of the People's Committee\nGovernor of Champasak",
    )
    assert made[0] == 303, made[2]
    made = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Donor briefing",
        starts_at="2026-10-21T09:00",
        ends_at="2026-10-21T10:00",
        time_zone=PARIS,
        site_ids=[hall, lyon],
    )
    assert made[0] == 303, made[2]

    timetable = await (await client.get(f"/conferences/{cid}/timetable")).text()
    opening = timetable.split("Opening", 1)[1].split("</tr>", 1)[0]
    # 09:00 in Viet Nam is 02:00 UTC and 04:00 in Lyon (still summer time, UTC+02:00).
    assert "09:00–10:30" in opening and "UTC+07:00" in opening
    assert "04:00–05:30" in opening and "CEST · UTC+02:00" in opening
    briefing = timetable.split("Donor briefing", 1)[1].split("</tr>", 1)[0]
    assert "09:00–10:00" in briefing and "14:00–15:00" in briefing

    page = await (await client.get(f"/conferences/{cid}")).text()
    assert "Send calendar invitations" in page
    assert f"/api/conferences/{cid}/calendar.ics" in page
    assert f'href="/conferences/{cid}/timetable"' in page


async def test_refused_input_comes_back_with_the_problem_named(client: Client) -> None:
    await organiser(client)
    csrf = await csrf_of_page(client, "/conferences/new")
    status, _, page = await post(
        client,
        "/conferences/new",
        csrf,
        title="Backwards",
        time_zone=VN,
        starts_at="2026-11-02T09:00",
        ends_at="2026-11-01T09:00",
        language_rows="0",
    )
    assert status == 422
    assert 'role="alert"' in page and "the conference must end after it starts" in page
    assert 'value="Backwards"' in page and 'value="2026-11-02T09:00"' in page

    cid, csrf = await new_conference(client)
    status, _, page = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Too early",
        starts_at="2026-10-01T09:00",
        ends_at="2026-10-01T10:00",
        time_zone=PARIS,
    )
    assert status == 422
    assert "is before the conference" in page and 'value="Too early"' in page
    status, _, page = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Skipped hour",
        starts_at="2027-03-28T02:30",
        ends_at="2027-03-28T03:30",
        time_zone="Mars/Olympus",
    )
    assert status == 422 and "is not an IANA time zone" in page


async def test_a_conflict_is_shown_with_the_colliding_session(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    hall = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    first = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Plenary",
        starts_at="2026-10-22T09:00",
        ends_at="2026-10-22T11:00",
        time_zone=VN,
        site_ids=[hall],
    )
    assert first[0] == 303
    status, _, page = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Press conference",
        starts_at="2026-10-22T05:00",
        ends_at="2026-10-22T06:00",
        time_zone=PARIS,  # 10:00 in Viet Nam: inside the plenary
        site_ids=[hall],
    )
    assert status == 409
    alert = page.split('id="session-problem"', 1)[1].split("</div>", 1)[0]
    assert "Plenary" in alert and "Quang Ngai hall" in alert
    assert 'value="Press conference"' in page  # the refused form, shown again


async def test_weekly_series_across_the_dst_change(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    lyon = await add_site(client, cid, csrf, "Lyon office", PARIS)
    await add_site(client, cid, csrf, "Champasak hall", LA)
    status, _, page = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Weekly donors' call",
        starts_at="2026-10-19T10:00",
        ends_at="2026-10-19T11:00",
        time_zone=PARIS,
        site_ids=[lyon],
        repeat_weekly="on",
        repeat_until="2026-11-02",
    )
    assert status == 303, page
    timetable = await (await client.get(f"/conferences/{cid}/timetable")).text()
    rows = [r for r in timetable.split("<tr") if "Weekly donors" in r]
    assert len(rows) == 3
    # Paris leaves summer time on 25 October 2026: 10:00 Paris is 15:00, then 16:00 in Laos.
    assert "CEST · UTC+02:00" in rows[0] and "15:00–16:00" in rows[0]
    assert "CET · UTC+01:00" in rows[1] and "16:00–17:00" in rows[1]
    assert "not taking part" in rows[0]  # the Lao site is not in the call

    editor = await (await client.get(f"/conferences/{cid}/edit?step=sessions")).text()
    sid = int(re.findall(r"edit\?session=(\d+)", editor)[0])
    form = await (await client.get(f"/conferences/{cid}/edit?session={sid}")).text()
    choices = re.findall(r'<option value="(2026-[^"]+)"', form)
    assert len(choices) == 3 and 'value="2026-11-02"' in form  # its end date
    status, _, page = await post(
        client,
        f"/conferences/{cid}/sessions/{sid}",
        csrf,
        session_id=sid,
        scope="occurrence",
        occurrence=choices[1],
        title="Weekly donors' call (moved)",
        starts_at="2026-10-26T14:00",
        ends_at="2026-10-26T15:00",
        time_zone=PARIS,
        site_ids=[lyon],
    )
    assert status == 303, page
    removed = await post(
        client, f"/conferences/{cid}/sessions/{sid}/remove", csrf, occurrence=choices[2]
    )
    assert removed[0] == 303, removed[2]
    timetable = await (await client.get(f"/conferences/{cid}/timetable")).text()
    assert "Weekly donors&#39; call (moved)" in timetable and ">moved<" in timetable
    cancelled = [r for r in timetable.split("<tr") if 'class="cancelled"' in r]
    assert len(cancelled) == 1 and "<del>" in cancelled[0]
    assert 'class="cancelled"' in timetable.split("Monday, November 2, 2026", 1)[1]


async def test_lifecycle_button_list_filter_and_month_calendar(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Opening",
        starts_at="2026-10-20T09:00",
        ends_at="2026-10-20T10:00",
        time_zone=VN,
    )
    status, location, _ = await post(
        client,
        f"/conferences/{cid}/status",
        csrf,
        status="awaiting_approval",
        next=f"/conferences/{cid}/edit",
    )
    assert status == 303 and location == f"/conferences/{cid}/edit"
    refused = await post(client, f"/conferences/{cid}/status", csrf, status="live")
    assert refused[0] == 409 and "cannot become live" in refused[2]

    waiting = await (await client.get("/?status=awaiting_approval")).text()
    assert "Quang Ngai - Champasak - Lyon coordination" in waiting
    drafts = await (await client.get("/?status=draft&from=2026-10-01&to=2026-12-01")).text()
    assert "Quang Ngai - Champasak - Lyon coordination" not in drafts
    bad = await client.get("/?from=someday")
    assert bad.status == 422 and "is not an ISO 8601 date" in await bad.text()

    month = await (await client.get("/calendar?month=2026-10")).text()
    assert "October 2026" in month
    # The organiser's zone is UTC: 09:00 in Viet Nam is 02:00 UTC.
    assert re.search(r">02:00</time> Opening", month)
    assert 'href="/calendar?month=2026-11"' in month
    assert (await client.get("/calendar?month=2026-13")).status == 422
    week = await (await client.get("/calendar/week?week=2026-10-22")).text()
    assert "Week of 19 October 2026" in week
    assert re.search(r">02:00–03:00</time> Opening", week)
    assert 'href="/calendar/week?week=2026-10-26"' in week
    assert (await client.get("/calendar/week?week=soon")).status == 422


async def test_interpreters_are_assigned_and_a_double_booking_is_shown(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    hall = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    lyon = await add_site(client, cid, csrf, "Lyon office", PARIS)
    for title, start, end, site, booth in (
        ("Opening", "2026-10-20T09:00", "2026-10-20T10:00", hall, "lo"),
        ("Side meeting", "2026-10-20T09:30", "2026-10-20T10:30", lyon, "fr"),
    ):
        made = await post(
            client,
            f"/conferences/{cid}/sessions",
            csrf,
            title=title,
            starts_at=start,
            ends_at=end,
            time_zone=VN,
            site_ids=[site],
            interpreted_languages=[booth],
        )
        assert made[0] == 303, made[2]
    editor = await (await client.get(f"/conferences/{cid}/edit?step=interpreters")).text()
    form = editor.split('id="interpreter-form"', 1)[1]
    user = re.search(r'<option value="(\d+)"[^>]*>([^<]+)</option>', form)
    assert user, "no interpreter offered"
    status, _, page = await post(
        client,
        f"/conferences/{cid}/interpreters",
        csrf,
        user_id=user.group(1),
        target_language="lo",
        source_languages=["vi"],
    )
    assert status == 303, page
    editor = await (await client.get(f"/conferences/{cid}/edit?step=interpreters")).text()
    assert user.group(2) in editor.split('id="interpreters"', 1)[1]
    status, _, page = await post(
        client,
        f"/conferences/{cid}/interpreters",
        csrf,
        user_id=user.group(1),
        target_language="fr",
        source_languages=["vi"],
    )
    assert status == 409
    alert = page.split('id="interpreter-problem"', 1)[1].split("</div>", 1)[0]
    assert "Opening" in alert and user.group(2) in alert
    status, _, page = await post(
        client, f"/conferences/{cid}/interpreters", csrf, target_language="xx"
    )
    assert status == 422 and "has no booth in this conference" in page


async def test_the_timetable_links_each_occurrence_to_its_form(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    made = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Weekly call",
        starts_at="2026-10-19T10:00",
        ends_at="2026-10-19T11:00",
        time_zone=PARIS,
        repeat_weekly="on",
        repeat_until="2026-11-02",
    )
    assert made[0] == 303, made[2]
    timetable = await (await client.get(f"/conferences/{cid}/timetable")).text()
    links = re.findall(
        r'href="(/conferences/\d+/edit\?session=\d+&amp;occurrence=[^"#]+)', timetable
    )
    assert len(links) == 3
    form = await (await client.get(links[1].replace("&amp;", "&"))).text()
    assert 'value="occurrence" checked' in form
    assert 'value="2026-10-26T10:00"' in form  # after the DST change, still 10:00 in Paris
    assert re.search(r'<option value="2026-10-26T09:00:00\+00:00" selected>', form)
    open_ended = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Endless",
        starts_at="2026-10-20T10:00",
        ends_at="2026-10-20T11:00",
        time_zone=PARIS,
        repeat_weekly="on",
    )
    assert open_ended[0] == 422 and "a series needs COUNT or UNTIL" in open_ended[2]


async def test_languages_are_offered_by_name(client: Client) -> None:
    await organiser(client)
    page = await (await client.get("/conferences/new")).text()
    choices = page[page.index('<datalist id="language-choices">') :].split("</datalist>")[0]
    assert '<option value="lo">Lao · ລາວ</option>' in choices
    assert '<option value="vi">Vietnamese · Tiếng Việt</option>' in choices
    assert 'list="language-choices"' in page


async def test_the_editor_confirms_what_was_saved(client: Client) -> None:
    await organiser(client)
    cid, _ = await new_conference(client)
    created = await (await client.get(f"/conferences/{cid}/edit?saved=created")).text()
    assert 'id="saved-note"' in created and "Conference created. Next: its sites" in created
    saved = await (await client.get(f"/conferences/{cid}/edit?saved=site")).text()
    assert '<p class="toast" role="status" id="saved-note">Saved.</p>' in saved
    plain = await (await client.get(f"/conferences/{cid}/edit")).text()
    assert 'id="saved-note"' not in plain
