"""The organiser's invitation links on the conference page: shown once with a copy button,
e-mailed to the site's contact on request, told apart, withdrawn only when confirmed
(issue 17)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update

from server.db import Database
from server.models import Invitation, Site, User
from tests.calendars.conftest import Mailbox, mail_client, mailbox  # noqa: F401 (fixtures)
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
ORGANISER = "organiser@concord.example"


async def _english(db: Database) -> None:
    async with db.session() as session, session.begin():
        await session.execute(update(User).values(locale="en"))


async def _invitations(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Invitation)) or 0)


async def test_a_new_link_is_shown_once_by_its_form_with_a_copy_button_and_e_mailed(
    mail_client: Client,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    demo: Database,
) -> None:
    await _english(demo)
    async with demo.session() as session, session.begin():
        await session.execute(
            update(Site)
            .where(Site.id == 2)
            .values(contact_name="Bounmy S.", contact_email="bounmy@champasak.example")
        )
    await sign_in(mail_client, ORGANISER)
    page = await (await mail_client.get("/conferences/1")).text()
    assert 'action="/conferences/1/invitations#new-invitation-notice"' in page
    csrf = await csrf_of_page(mail_client, "/conferences/1")
    form = {
        "csrf_token": csrf,
        "site_id": "2",
        "role": "interpreter",
        "valid_hours": "48",
        "label": "Lao booth laptop",
        "email_contact": "on",
    }
    made = await mail_client.post("/conferences/1/invitations", data=form)
    html = await made.text()
    assert made.status == 201, html
    link = re.search(r'<code id="new-invitation">([^<]+)</code>', html)
    assert link and f'data-copy="{link.group(1)}"' in html
    # The notice stands after the table, by the form the organiser just used.
    assert html.index('id="new-invitation-notice"') > html.index("Lao booth laptop")
    notice = html[html.index("new-invitation-notice") :][:900]
    assert "E-mailed to Bounmy S. &lt;bounmy@champasak.example&gt;." in notice, notice
    [(recipients, letter)] = mailbox.take()
    assert recipients == ["bounmy@champasak.example"]
    assert "join" in letter["Subject"] and link.group(1) in letter.get_content()

    # Without a contact address nothing is sent and the page says so.
    csrf = await csrf_of_page(mail_client, "/conferences/1")
    again = await mail_client.post(
        "/conferences/1/invitations", data={**form, "csrf_token": csrf, "site_id": "1"}
    )
    assert "Not e-mailed: the site has no contact e-mail" in await again.text()
    assert mailbox.take() == []


async def test_rows_are_told_apart_and_withdrawal_is_confirmed(
    client: Client, demo: Database
) -> None:
    await _english(demo)
    await sign_in(client, ORGANISER)
    for label in ("", "Second laptop"):
        csrf = await csrf_of_page(client, "/conferences/1")
        form = {"csrf_token": csrf, "site_id": "2", "role": "delegate", "label": label}
        assert (await client.post("/conferences/1/invitations", data=form)).status == 201
    page = await (await client.get("/conferences/1")).text()
    table = page[page.index('id="invitations"') :]
    assert "Second laptop" in table and "<th>Made</th>" in table
    assert table.count("return confirm(") >= 2 and "Withdraw the link for" in table
    before = await _invitations(demo)
    refused = await client.post(
        "/conferences/1/invitations",
        data={"csrf_token": csrf, "site_id": "2", "label": "x" * 201},
    )
    assert refused.status == 422 and await _invitations(demo) == before
