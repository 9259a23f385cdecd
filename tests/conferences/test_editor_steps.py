"""The conference editor in steps (basics → sites → sessions → interpreters → delegations →
permit), the defaults that spare a new organiser typing, and the sites step's links for every
site at once (issue 17)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from server.db import Database
from server.models import Invitation
from tests.calendars.conftest import Mailbox, mail_client, mailbox  # noqa: F401 (fixtures)
from tests.conferences.test_pages_scheduling import (
    LA,
    VN,
    Client,
    add_site,
    new_conference,
    organiser,
    post,
)

FORMS = {
    "basics": 'id="conference-form"',
    "sites": 'id="site-form"',
    "sessions": 'id="session-form"',
    "interpreters": 'id="interpreter-form"',
    "delegations": 'id="delegation-form"',
}


def forms_on(page: str) -> set[str]:
    return {step for step, marker in FORMS.items() if marker in page}


def current_step(page: str) -> str:
    found = re.search(r'edit\?step=(\w+)" aria-current="step"', page)
    assert found, "no step is marked as the current one"
    return found.group(1)


async def invitations(database: Database) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(Invitation)) or 0)


async def test_each_step_shows_its_own_form_in_the_order_a_conference_is_prepared(
    client: Client,
) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client)
    site = await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    plain = await (await client.get(f"/conferences/{cid}/edit")).text()
    assert forms_on(plain) == {"basics"} and current_step(plain) == "basics"
    assert "Move to: awaiting approval" in plain  # the lifecycle sits with the basics
    bar = plain.split('class="steps"', 1)[1].split("</nav>", 1)[0]
    order = re.findall(r"edit\?step=(\w+)", bar)
    assert order == ["basics", "sites", "sessions", "interpreters", "delegations"]
    assert f'href="/conferences/{cid}/permit"' in bar  # then the permit
    for step in FORMS:
        page = await (await client.get(f"/conferences/{cid}/edit?step={step}")).text()
        assert forms_on(page) == {step}, step
        assert current_step(page) == step
    # Editing a row opens its step; an unknown step is the first.
    editing = await (await client.get(f"/conferences/{cid}/edit?site={site}")).text()
    assert forms_on(editing) == {"sites"} and "Edit site: Quang Ngai hall" in editing
    unknown = await (await client.get(f"/conferences/{cid}/edit?step=nothing")).text()
    assert current_step(unknown) == "basics"
    # Each step leads to the next, the last to the permit.
    sites = await (await client.get(f"/conferences/{cid}/edit?step=sites")).text()
    assert f'href="/conferences/{cid}/edit?step=sessions">Next: Sessions →' in sites
    last = await (await client.get(f"/conferences/{cid}/edit?step=delegations")).text()
    assert f'href="/conferences/{cid}/permit">Next: Permit →' in last
    # A refused form comes back on its own step, with what was typed.
    status, _, refused = await post(
        client, f"/conferences/{cid}/sites", csrf, name="", time_zone=VN, location="Lyon"
    )
    assert status == 422 and forms_on(refused) == {"sites"} and 'value="Lyon"' in refused


async def test_a_new_conference_starts_from_the_organiser_s_zone_and_language(
    client: Client,
) -> None:
    await organiser(client)
    client.session.cookie_jar.update_cookies({"concord_browser_zone": "Asia/Vientiane"})
    page = await (await client.get("/conferences/new")).text()
    zone = page.split('id="c-zone"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="Asia/Vientiane" selected>', zone)
    assert 'name="language_0" value="en"' in page  # the organiser reads English


async def test_the_first_session_proposes_the_whole_conference(client: Client) -> None:
    await organiser(client)
    cid, csrf = await new_conference(client, title="Signing ceremony")
    first = await (await client.get(f"/conferences/{cid}/edit?step=sessions")).text()
    form = first.split('id="session-form"', 1)[1]
    assert 'name="title" value="Signing ceremony"' in form
    assert 'name="starts_at" value="2026-10-19T00:00"' in form
    assert 'name="ends_at" value="2026-11-06T23:00"' in form
    made = await post(
        client,
        f"/conferences/{cid}/sessions",
        csrf,
        title="Signing ceremony",
        starts_at="2026-10-19T09:00",
        ends_at="2026-10-19T10:00",
        time_zone=VN,
    )
    assert made[0] == 303, made[2]
    second = await (await client.get(f"/conferences/{cid}/edit?step=sessions")).text()
    assert 'name="title" value=""' in second.split('id="session-form"', 1)[1]


async def test_links_for_every_site_in_one_press_are_shown_once_and_e_mailed(
    mail_client: Client,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    demo: Database,
) -> None:
    await organiser(mail_client)
    cid, csrf = await new_conference(mail_client)
    bare = await (await mail_client.get(f"/conferences/{cid}/edit?step=sites")).text()
    assert "every-site" not in bare  # no sites: nothing to invite yet
    status, _, refused = await post(mail_client, f"/conferences/{cid}/invitations/every-site", csrf)
    assert status == 422 and "add a site first" in refused
    made = await post(
        mail_client,
        f"/conferences/{cid}/sites",
        csrf,
        name="Champasak hall",
        time_zone=LA,
        contact_name="Bounmy S.",
        contact_email="bounmy@champasak.example",
    )
    assert made[0] == 303, made[2]
    await add_site(mail_client, cid, csrf, "Quang Ngai hall", VN)
    before = await invitations(demo)

    status, _, page = await post(
        mail_client, f"/conferences/{cid}/invitations/every-site", csrf, email_contact="on"
    )
    assert status == 201, page
    assert forms_on(page) == {"sites"}  # still on the sites step
    shown = page.split('id="made-links"', 1)[1].split("</table>", 1)[0]
    rows = shown.split("<tr>")[2:]
    assert [re.search(r"<td>([^<]+)</td>", r).group(1) for r in rows] == [  # type: ignore[union-attr]
        "Champasak hall",
        "Quang Ngai hall",
    ]
    links = re.findall(r"<code>([^<]+/join/[^<]+)</code>", shown)
    assert len(links) == 2 and all(f'data-copy="{link}"' in shown for link in links)
    assert "E-mailed to Bounmy S. &lt;bounmy@champasak.example&gt;." in rows[0]
    assert "Not e-mailed: the site has no contact e-mail" in rows[1]
    [(recipients, letter)] = mailbox.take()
    assert recipients == ["bounmy@champasak.example"] and links[0] in letter.get_content()
    assert await invitations(demo) == before + 2

    # Pressed again: every site has a working link, so none is made or sent.
    status, _, again = await post(mail_client, f"/conferences/{cid}/invitations/every-site", csrf)
    assert status == 201 and "Every site already has a link that works" in again
    assert await invitations(demo) == before + 2 and mailbox.take() == []
    # The links stand on the conference page, told apart by their sites.
    conference = await (await mail_client.get(f"/conferences/{cid}")).text()
    assert "Champasak hall" in conference.split('id="invitations"', 1)[1]


async def test_the_permit_starts_from_the_sites_abroad_and_is_submitted_in_one_press(
    client: Client, demo: Database
) -> None:
    await organiser(client)
    cid, csrf = await new_conference(
        client, starts_at="2027-03-01T08:00", ends_at="2027-03-01T17:00"
    )
    await add_site(client, cid, csrf, "Quang Ngai hall", VN)
    await add_site(client, cid, csrf, "Champasak hall", LA)
    page = await (await client.get(f"/conferences/{cid}/permit")).text()
    # The site in Laos is proposed as foreign participants; how many is left to the organiser.
    assert 'name="organisation_0" value="Champasak hall"' in page
    assert re.search(r'name="country_0".*?<option value="LA" selected>', page, re.S)
    assert 'name="number_0" value=""' in page
    assert 'name="organisation_1" value=""' in page  # the site at home is not foreign

    fields: dict[str, Any] = {
        "purpose": "Sign the cooperation memorandum",
        "format": "online",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-01",
        "content": "Signing",
        "funding_source": "Provincial budget",
        "funding_amount": "50,000,000",
        "funding_currency": "VND",
        "then": "submit",
    }
    # Refused at submission (no foreign participants): nothing is left behind, not even a draft.
    status, _, refused = await post(client, f"/conferences/{cid}/permit", csrf, **fields)
    assert status == 422 and "foreign participants" in refused
    listed = await (await client.get(f"/api/permits?conference_id={cid}")).json()
    assert listed == [] or all(a["conference_id"] != cid for a in listed)

    rows = {"country_0": "LA", "organisation_0": "Champasak hall", "number_0": "4"}
    status, location, done = await post(
        client, f"/conferences/{cid}/permit", csrf, **fields, **rows
    )
    assert status == 303, done
    application = await (await client.get(f"/api{location}")).json()
    assert application["status"] == "submitted"
    assert application["participants"] == [
        {"country": "LA", "organisation": "Champasak hall", "number": 4}
    ]
