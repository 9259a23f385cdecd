"""Each person's own links in the calendar entries only they receive: the e-mailed invitation
and the personal feed carry an interpreter's booth, the chair's console and the room of the
site a technician looks after; the shared ``.ics`` of the conference carries nobody's links,
and no calendar carries an invitation link (a secret)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from server.calendars.personal import HEADING
from server.db import Database
from server.ical.ics import parse_calendar
from server.models import ConferenceMember
from tests.calendars.conftest import Mailbox
from tests.calendars.helpers import plan, user_id
from tests.calendars.test_feeds import new_feed
from tests.calendars.test_invitations import ics_of
from tests.conferences.conftest import Personas
from tests.conferences.helpers import Api, Client

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
BASE = "http://127.0.0.1:8080"


async def technician_chairs(database: Database, conference_id: int) -> None:
    """The hall's technician is also one of the conference's technicians (the chair)."""
    async with database.session() as db, db.begin():
        await db.execute(
            insert(ConferenceMember).values(
                conference_id=conference_id,
                user_id=await user_id(database, "technician"),
                role="technician",
            )
        )


def descriptions(data: bytes) -> list[str]:
    events = parse_calendar(data).events
    return [e.description for e in events] + [o.description for e in events for o in e.overrides]


async def test_each_invitation_carries_its_recipients_own_links(
    mail_client: Client, demo: Database, mailbox: Mailbox
) -> None:
    api = await Api.signed_in(mail_client, "organiser")
    planned = await plan(api, demo, title="MoU")
    cid = planned.id
    await technician_chairs(demo, cid)
    summary = await api.call("POST", f"/api/conferences/{cid}/calendar-invitations")
    assert summary["failed"] == []
    root = f"{BASE}/conferences/{cid}"
    opening = planned.sessions["Opening"]["title"]
    seen = set()
    for recipients, message in mailbox.take():
        [recipient] = recipients
        data = ics_of(message)[1]
        text = "\n".join(descriptions(data))
        plain = message.get_body(("plain",))
        assert plain is not None
        assert "/join/" not in text and "/join/" not in plain.get_content()
        if recipient == "interpreter.en@concord.example":
            assert f"{root}/booth/fr" in text and f"{root}/booth/fr" in plain.get_content()
            assert "/console" not in text
        elif recipient == "technician@concord.example":
            assert f"{root}/console" in text and f"{root}/health" in text
            assert "/booth/" not in text
            if opening in str(message["Subject"]):  # a session at the hall they look after
                assert f"{root}/room?site={planned.hall['id']}" in text
        else:  # the chairing secretary, the delegate, the hall's contact (no account)
            assert HEADING not in text, recipient
        seen.add(recipient)
    assert {"interpreter.en@concord.example", "technician@concord.example"} <= seen


async def test_the_personal_feed_has_the_links_and_the_shared_calendar_none(
    client: Client, demo: Database, persona: Personas
) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    cid = planned.id
    await technician_chairs(demo, cid)
    root = f"{BASE}/conferences/{cid}"

    interpreter = await persona("interpreter.en")
    feed = await client.get(await new_feed(interpreter), headers={"Cookie": ""})
    text = "\n".join(descriptions(await feed.read()))
    assert f"{root}/booth/fr" in text and "/console" not in text

    technician = await persona("technician")
    feed = await client.get(await new_feed(technician), headers={"Cookie": ""})
    text = "\n".join(descriptions(await feed.read()))
    assert f"{root}/console" in text and "/booth/" not in text

    shared = await client.get(f"/api/conferences/{cid}/calendar.ics")
    assert shared.status == 200
    text = "\n".join(descriptions(await shared.read()))
    assert HEADING not in text and "/booth/" not in text and "/console" not in text
