"""The editor's other parts through their forms: delegations (added with their members, changed,
refused with the field named, removed), sites and interpreters changed in place (a double
booking shown as the conflict warning), and only the organiser may post any of them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp.test_utils import TestClient

from server.db import Database
from server.models import Delegation, DelegationMember, Site
from tests.conferences.helpers import count
from tests.conferences.test_pages_scheduling import (
    LA,
    PARIS,
    VN,
    add_site,
    new_conference,
    organiser,
    post,
)
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
LAO_DFA = "Champasak Department of Foreign Affairs"
HOST = "Quang Ngai Provincial Committee"


async def detail(client: Client, cid: int) -> dict[str, Any]:
    response = await client.get(f"/api/conferences/{cid}")
    assert response.status == 200, await response.text()
    body = await response.json()
    assert isinstance(body, dict)
    return body


def user_choice(page: str, name: str) -> int:
    """The id of the user ``name`` in the first member row's account select."""
    select = page.split('name="member_user_id_0"', 1)[1].split("</select>", 1)[0]
    found = re.search(rf'<option value="(\d+)"[^>]*>{re.escape(name)}</option>', select)
    assert found, f"{name} is not offered as a member's account"
    return int(found.group(1))


def members(*rows: dict[str, Any] | None, total: int = 6) -> dict[str, Any]:
    """Member rows as the form posts them (every row, blank ones too); ``None`` is a row left
    blank."""
    fields: dict[str, Any] = {"member_rows": total}
    for index in range(total):
        row = rows[index] if index < len(rows) else None
        fields |= {
            f"member_name_{index}": (row or {}).get("name", ""),
            f"member_position_{index}": (row or {}).get("position", ""),
            f"member_role_{index}": (row or {}).get("role", "member"),
            f"member_language_{index}": (row or {}).get("language", ""),
            f"member_user_id_{index}": (row or {}).get("user_id", ""),
        }
    return fields


async def rows_of(database: Database) -> tuple[int, int]:
    """How many delegations and delegation members the database holds (the demo's too)."""
    return await count(database, Delegation), await count(database, DelegationMember)


def section(page: str, name: str) -> str:
    return page.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def delegation_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r"edit\?delegation=(\d+)", section(page, "delegations"))]


async def test_a_delegation_is_added_changed_and_removed(
    client: Client, database: Database
) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    hall = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    await add_site(client, cid, csrf, "Champasak hall", LA)
    editor = await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    assert "No delegations yet." in editor and 'id="delegation-form"' in editor
    english = user_choice(editor, "English booth interpreter")
    accounts = editor.split('name="member_user_id_0"', 1)[1].split("</select>", 1)[0]
    for staff in ("Concord Administrator", "Kỹ thuật viên", "Văn phòng UBND"):  # staff, not members
        assert staff not in accounts, accounts
    delegations, people = await rows_of(database)

    status, location, page = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation=LAO_DFA,
        precedence="0",
        **members(
            {"name": "Khamphoui Sayavong", "role": "head", "position": "Director"},
            None,  # a blank row between two members is dropped
            {"name": "Bounmy Phommachanh", "role": "interpreter", "language": "lo"}
            | {"user_id": english},
        ),
    )
    assert (
        status == 303 and location == f"/conferences/{cid}/edit?step=delegations&saved=delegation"
    ), page
    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="VN",
        organisation=HOST,
        is_host="on",
        site_id=hall,
        **members({"name": "Nguyen Van An", "role": "head", "position": "Vice-chairman"}),
    )
    assert status == 303, page
    assert await rows_of(database) == (delegations + 2, people + 3)

    editor = await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    listed = section(editor, "delegations").split("</tbody>", 1)[0].split("<tr>")[2:]
    assert len(listed) == 2
    lao_row, host_row = listed  # precedence 0, then 1 (after the others)
    assert LAO_DFA in lao_row and "Laos" in lao_row
    assert "Khamphoui Sayavong, Director" in lao_row and "head of delegation" in lao_row
    assert "Bounmy Phommachanh" in lao_row and "(interpreter)" in lao_row
    assert HOST in host_row and "Viet" in host_row and ">host<" in host_row
    assert "Quang Ngai hall" in host_row and "Nguyen Van An" in host_row
    lao_id, host_id = delegation_ids(editor)

    body = await detail(client, cid)
    shown = {d["organisation"]: d for d in body["delegations"]}
    lao = shown[LAO_DFA]
    assert lao["country"] == "LA" and lao["precedence"] == 0 and lao["site_id"] is None
    assert [(m["name"], m["role"], m["user_id"]) for m in lao["members"]] == [
        ("Khamphoui Sayavong", "head", None),
        ("Bounmy Phommachanh", "interpreter", english),
    ]
    assert lao["members"][1]["language"] == "lo"
    host = shown[HOST]
    assert host["is_host"] and host["precedence"] == 1 and host["site_id"] == hall

    form = await (await client.get(f"/conferences/{cid}/edit?delegation={lao_id}")).text()
    form = section(form, "delegations")
    assert f"Edit delegation: {LAO_DFA}" in form
    assert f'action="/conferences/{cid}/delegations/{lao_id}"' in form
    assert 'name="member_name_1" value="Bounmy Phommachanh"' in form
    assert re.search(rf'name="member_user_id_1".*?<option value="{english}" selected>', form, re.S)
    assert 'value="LA" selected' in form

    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations/{lao_id}",
        csrf,
        delegation_id=lao_id,
        country="LA",
        organisation="Champasak Provincial Office",
        precedence="3",
        # the interpreter's row cleared: only the head remains
        **members({"name": "Khamphoui Sayavong", "role": "head", "position": "Director"}),
    )
    assert status == 303, page
    body = await detail(client, cid)
    lao = next(d for d in body["delegations"] if d["id"] == lao_id)
    assert lao["organisation"] == "Champasak Provincial Office" and lao["precedence"] == 3
    assert [m["name"] for m in lao["members"]] == ["Khamphoui Sayavong"]
    editor = await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    assert delegation_ids(editor) == [host_id, lao_id]  # the host (1) now before them (3)
    assert await rows_of(database) == (delegations + 2, people + 2)

    status, location, page = await post(
        client, f"/conferences/{cid}/delegations/{lao_id}/remove", csrf
    )
    assert status == 303 and location.endswith("?step=delegations&saved=delegation"), page
    body = await detail(client, cid)
    assert [d["id"] for d in body["delegations"]] == [host_id]
    assert await rows_of(database) == (delegations + 1, people + 1)


async def test_refused_delegations_name_the_field_and_write_nothing(
    client: Client, database: Database
) -> None:
    await organiser(client)
    other, csrf = await new_conference(client, title="Another conference")
    elsewhere = await add_site(client, other, csrf, "Vientiane office", LA)
    cid, csrf = await new_conference(client)
    await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    head = {"name": "Khamphoui Sayavong", "role": "head"}
    before = await rows_of(database)

    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation="  ",
        **members(head),
    )
    assert status == 422
    form = section(page, "delegations")
    assert 'id="delegation-problem"' in form and 'id="delegation-organisation-error"' in form
    assert 'name="member_name_0" value="Khamphoui Sayavong"' in form  # as it was typed
    assert 'value="LA" selected' in form

    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation=LAO_DFA,
        **members(head, None, {"name": "Nobody", "user_id": 999999}),
    )
    assert status == 422
    form = section(page, "delegations")
    # The blank row is dropped, so the second member is the form's second row.
    error = form.split('id="delegation-members.1.user_id-error">', 1)[1].split("<", 1)[0]
    assert "there is no active user 999999" in error
    assert 'name="member_name_1" value="Nobody"' in form
    assert f'value="{LAO_DFA}"' in form

    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation=LAO_DFA,
        site_id=elsewhere,
        **members(head),
    )
    assert status == 422
    error = page.split('id="delegation-site_id-error">', 1)[1].split("<", 1)[0]
    assert f"conference {cid} has no site {elsewhere}" in error

    status, _, page = await post(
        client, f"/conferences/{cid}/delegations", csrf, country="Laos", organisation=LAO_DFA
    )
    assert status == 422 and 'id="delegation-country-error"' in page
    assert await rows_of(database) == before

    made = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation=LAO_DFA,
        **members(head),
    )
    assert made[0] == 303, made[2]
    (lao_id,) = delegation_ids(
        await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    )
    status, _, page = await post(
        client,
        f"/conferences/{cid}/delegations/{lao_id}",
        csrf,
        delegation_id=lao_id,
        country="LA",
        organisation=LAO_DFA,
        precedence="-1",
        **members({"name": "Someone else"}),
    )
    assert status == 422 and 'id="delegation-precedence-error"' in page
    form = section(page, "delegations")
    assert f'action="/conferences/{cid}/delegations/{lao_id}"' in form  # still the change
    lao = (await detail(client, cid))["delegations"][0]
    assert lao["precedence"] == 0 and [m["name"] for m in lao["members"]] == [head["name"]]
    assert await rows_of(database) == (before[0] + 1, before[1] + 1)


async def test_a_site_is_changed_in_place(client: Client, database: Database) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    lyon = await add_site(client, cid, csrf, "Lyon office", PARIS)
    sites = await count(database, Site)
    editor = await (await client.get(f"/conferences/{cid}/edit?step=sites")).text()
    assert f'href="/conferences/{cid}/edit?site={lyon}#site-form"' in editor
    form = section(await (await client.get(f"/conferences/{cid}/edit?site={lyon}")).text(), "sites")
    assert "Edit site: Lyon office" in form and 'value="Lyon office"' in form
    assert f'action="/conferences/{cid}/sites/{lyon}"' in form
    assert f'<option value="{PARIS}" selected>' in form

    status, location, page = await post(
        client,
        f"/conferences/{cid}/sites/{lyon}",
        csrf,
        site_id=lyon,
        name="Vientiane office",
        location="Lane Xang Avenue",
        time_zone=LA,
        contact_name="Somchai",
    )
    assert status == 303 and location == f"/conferences/{cid}/edit?step=sites&saved=site", page
    site = next(s for s in (await detail(client, cid))["sites"] if s["id"] == lyon)
    assert (site["name"], site["time_zone"], site["location"]) == (
        "Vientiane office",
        LA,
        "Lane Xang Avenue",
    )
    assert await count(database, Site) == sites

    status, _, page = await post(
        client,
        f"/conferences/{cid}/sites/{lyon}",
        csrf,
        site_id=lyon,
        name="Quang Ngai hall",
        time_zone=VN,
    )
    assert status == 422
    form = section(page, "sites")
    assert "already has a site named" in form and 'id="site-name-error"' in form
    assert f'action="/conferences/{cid}/sites/{lyon}"' in form  # still the change
    site = next(s for s in (await detail(client, cid))["sites"] if s["id"] == lyon)
    assert (site["name"], site["time_zone"]) == ("Vientiane office", LA)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


async def test_an_interpreter_is_changed_and_a_double_booking_refused(
    client: Client, database: Database
) -> None:
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
    user = re.search(
        r'<option value="(\d+)"[^>]*>([^<]+)</option>', section(editor, "interpreters")
    )
    assert user, "no interpreter offered"
    for booth, shift in (("lo", ("", "")), ("fr", ("2026-10-20T10:15", "2026-10-20T11:00"))):
        status, _, page = await post(
            client,
            f"/conferences/{cid}/interpreters",
            csrf,
            user_id=user.group(1),
            target_language=booth,
            source_languages=["vi"],
            shift_starts_at=shift[0],
            shift_ends_at=shift[1],
            time_zone=VN,
        )
        assert status == 303, page
    french = next(
        i for i in (await detail(client, cid))["interpreters"] if i["target_language"] == "fr"
    )
    fid = french["id"]

    form = await (await client.get(f"/conferences/{cid}/edit?interpreter={fid}")).text()
    form = section(form, "interpreters")
    assert f'action="/conferences/{cid}/interpreters/{fid}"' in form
    assert 'value="2026-10-20T10:15"' in form and 'value="2026-10-20T11:00"' in form
    assert 'value="vi" checked' in form and 'value="fr" selected' in form

    def changed(start: str, end: str) -> dict[str, Any]:
        return {
            "assignment_id": fid,
            "user_id": user.group(1) if user else "",
            "target_language": "fr",
            "source_languages": ["vi", "lo"],
            "shift_starts_at": start,
            "shift_ends_at": end,
            "time_zone": VN,
        }

    shifted = changed("2026-10-20T10:05", "2026-10-20T10:45")
    status, location, page = await post(
        client, f"/conferences/{cid}/interpreters/{fid}", csrf, **shifted
    )
    assert (
        status == 303 and location == f"/conferences/{cid}/edit?step=interpreters&saved=interpreter"
    ), page
    french = next(i for i in (await detail(client, cid))["interpreters"] if i["id"] == fid)
    assert utc(french["shift_starts_at"]) == dt.datetime(2026, 10, 20, 3, 5, tzinfo=dt.UTC)
    assert utc(french["shift_ends_at"]) == dt.datetime(2026, 10, 20, 3, 45, tzinfo=dt.UTC)
    assert sorted(french["source_languages"]) == ["lo", "vi"]

    # From 09:00 the French shift covers the side meeting from 09:30, while the same person
    # is in the Lao booth for the opening until 10:00.
    clash = changed("2026-10-20T09:00", "2026-10-20T10:30")
    status, _, page = await post(client, f"/conferences/{cid}/interpreters/{fid}", csrf, **clash)
    assert status == 409
    alert = page.split('id="interpreter-problem"', 1)[1].split("</div>", 1)[0]
    assert "Opening" in alert and "Side meeting" in alert and user.group(2) in alert
    form = section(page, "interpreters")
    assert f'action="/conferences/{cid}/interpreters/{fid}"' in form
    assert 'value="2026-10-20T09:00"' in form  # the refused change, shown again
    after = next(i for i in (await detail(client, cid))["interpreters"] if i["id"] == fid)
    assert after == french
    assert len((await detail(client, cid))["interpreters"]) == 2


async def test_only_the_organiser_may_post_the_new_forms(
    client: Client, other_client: Client, database: Database
) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    site = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    made = await post(
        client,
        f"/conferences/{cid}/delegations",
        csrf,
        country="LA",
        organisation=LAO_DFA,
        **members({"name": "Khamphoui Sayavong"}),
    )
    assert made[0] == 303, made[2]
    (delegation,) = delegation_ids(
        await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    )
    made = await post(
        client,
        f"/conferences/{cid}/interpreters",
        csrf,
        interpreter_name="Lan",
        target_language="lo",
    )
    assert made[0] == 303, made[2]
    (assignment,) = [i["id"] for i in (await detail(client, cid))["interpreters"]]
    before = await rows_of(database)

    await sign_in(other_client, "technician@concord.example")
    token = await csrf_of_page(other_client, "/")
    # Their own conferences (the demo's, where they are the technician) and this one.
    listed = await (await other_client.get("/api/conferences")).json()
    targets = [cid, *[c["id"] for c in listed][:1]]
    for conference_id in targets:
        base = f"/conferences/{conference_id}"
        for path, fields in (
            (f"{base}/delegations", {"country": "LA", "organisation": "Intruders"}),
            (f"{base}/delegations/{delegation}", {"country": "LA", "organisation": "Intruders"}),
            (f"{base}/delegations/{delegation}/remove", {}),
            (f"{base}/sites/{site}", {"name": "Taken over", "time_zone": VN}),
            (f"{base}/interpreters/{assignment}", {"target_language": "fr"}),
        ):
            status, _, page = await post(other_client, path, token, **fields)
            assert status == 403, f"{path}: {status}"
            # Told in the technician's language (Vietnamese).
            refusals = ("bạn không tham gia hội nghị số", "việc này cần một trong các vai trò")
            assert any(words in page for words in refusals), page
    assert len(targets) == 2, "the technician has no conference of their own"
    body = await detail(client, cid)
    assert [d["organisation"] for d in body["delegations"]] == [LAO_DFA]
    assert [s["name"] for s in body["sites"]] == ["Quang Ngai hall"]
    assert [i["target_language"] for i in body["interpreters"]] == ["lo"]
    assert await rows_of(database) == before
