"""The minutes' pages in English: reading, the editor, the diff, the conference page's link,
who sees what; and circulation telling the delegation's members by e-mail (real SMTP)."""

from __future__ import annotations

import copy
import html
import json
import re

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.db import Database
from server.models import Delegation, DelegationMember, User
from tests.conftest import sign_in_english
from tests.minutes.conftest import API, MOU, Client, Mailbox, Person, make_delegation_member

PAGE = f"/conferences/{MOU}/minutes"


async def english(client: Client, email: str) -> Person:
    own: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await own.start_server()
    return Person(own, await sign_in_english(own, email))


async def text_of(person: Person, path: str, status: int = 200) -> str:
    response = await person.client.get(path)
    body = await response.text()
    assert response.status == status, body[:500]
    return body


async def test_the_secretary_starts_edits_and_reads_the_minutes(client: Client) -> None:
    secretary = await english(client, "secretary@concord.example")
    try:
        conference = await text_of(secretary, f"/conferences/{MOU}")
        assert f'href="{PAGE}"' in conference
        empty = await text_of(secretary, PAGE)
        assert "Start the minutes from the agenda" in empty
        status, made = await secretary.call("POST", API, {})
        assert status == 201

        editor = await text_of(secretary, PAGE + "/edit")
        config = json.loads(
            re.search(r'id="concord-config">(.*?)</script>', editor, re.S).group(1)  # type: ignore[union-attr]
        )
        assert config["revision"] == 1 and config["state"] == "draft"
        assert config["document"]["languages"] == ["vi", "lo"]
        assert "js/minutes_edit.js" in editor and "Refresh from the room" in editor

        document = copy.deepcopy(made["document"])
        document["items"][0]["decisions"] = [{"vi": "Thông qua chương trình", "lo": "ຮັບຮອງ"}]
        status, _ = await secretary.call("PUT", API, {"base_revision": 1, "document": document})
        assert status == 200

        reading = await text_of(secretary, PAGE)
        assert 'id="minutes-state"' in reading and "Draft" in reading
        assert "Revision 2" in reading
        assert f"{PAGE}/revisions/1/diff/2" in reading
        diff = await text_of(secretary, f"{PAGE}/revisions/1/diff/2")
        assert "items[0].decisions[0]" in diff and "Thông qua chương trình" in diff
        await text_of(secretary, f"{PAGE}/revisions/1/diff/7", 404)
    finally:
        await secretary.client.session.close()


async def test_who_sees_the_minutes_pages(client: Client, demo: Database) -> None:
    await make_delegation_member(demo, "delegate@concord.example")
    secretary = await english(client, "secretary@concord.example")
    delegate = await english(client, "delegate@concord.example")
    technician = await english(client, "technician@concord.example")
    try:
        await secretary.call("POST", API, {})
        await text_of(technician, PAGE, 403)
        await text_of(technician, PAGE + "/edit", 403)
        await text_of(delegate, PAGE, 403)  # a draft is not theirs to read yet
        await text_of(delegate, PAGE + "/edit", 403)
        await secretary.call("POST", API + "/circulate", {})
        reading = await text_of(delegate, PAGE)
        assert "Circulated for comments" in reading and 'id="minutes-comment"' in reading
        assert "Edit the minutes" not in reading
        await text_of(delegate, f"/conferences/{MOU}/minutes.html")
        await text_of(technician, f"/conferences/{MOU}/minutes.html", 403)
        # The editor page of circulated minutes opens, but the text cannot be saved.
        editor = await text_of(secretary, PAGE + "/edit")
        assert '"state": "circulated"' in editor
    finally:
        for person in (secretary, delegate, technician):
            await person.client.session.close()


async def test_circulation_tells_the_delegations_members_by_mail(
    mail_client: Client, demo: Database, mailbox: Mailbox
) -> None:
    await make_delegation_member(demo, "delegate@concord.example")
    secretary = await english(mail_client, "secretary@concord.example")
    try:
        await secretary.call("POST", API, {})
        status, circulated = await secretary.call("POST", API + "/circulate", {})
        assert status == 200 and circulated["notified"] == 1
        received = mailbox.take()
        assert [to for to, _ in received] == [["delegate@concord.example"]]
        letter = received[0][1]
        assert "Minutes circulated" in letter["Subject"]
        body = letter.get_content()
        assert f"/conferences/{MOU}/minutes" in body and "Champasak" in body
    finally:
        await secretary.client.session.close()


async def test_comments_are_read_under_each_delegation_in_order_of_precedence(
    client: Client, demo: Database
) -> None:
    """Quang Ngai's delegation comes first in the MoU and Champasak's second: their comments
    are shown under their names in that order, whatever order they came in."""
    champasak = await make_delegation_member(demo, "delegate@concord.example")
    async with demo.session() as db, db.begin():
        quang_ngai = await db.scalar(
            select(Delegation).where(Delegation.conference_id == MOU, Delegation.id != champasak)
        )
        user = await db.scalar(
            select(User.id).where(User.email == "interpreter.vi@concord.example")
        )
        assert quang_ngai is not None and user is not None
        member = await db.scalar(
            select(DelegationMember).where(DelegationMember.delegation_id == quang_ngai.id)
        )
        assert member is not None
        member.user_id = user
        first_name = quang_ngai.organisation
    secretary = await english(client, "secretary@concord.example")
    lao = await english(client, "delegate@concord.example")
    vietnamese = await english(client, "interpreter.vi@concord.example")
    try:
        await secretary.call("POST", API, {})
        await secretary.call("POST", API + "/circulate", {})
        for person, text in ((lao, "ຂໍ້ຄິດເຫັນທີໜຶ່ງ"), (vietnamese, "Ý kiến"), (lao, "ຂໍ້ທີສອງ")):
            status, made = await person.call("POST", API + "/comments", {"text": text})
            assert status == 201, made
        reading = await text_of(secretary, PAGE)
        groups = re.findall(r'<section class="comment-group".*?</section>', reading, re.S)
        assert len(groups) == 2, reading
        assert (
            first_name in html.unescape(groups[0])
            and "Ý kiến" in groups[0]
            and "ຂໍ້" not in groups[0]
        )
        assert "ຂໍ້ຄິດເຫັນທີໜຶ່ງ" in groups[1] and "ຂໍ້ທີສອງ" in groups[1] and "(2)" in groups[1]
    finally:
        for person in (secretary, lao, vietnamese):
            await person.client.session.close()
