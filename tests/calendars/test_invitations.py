"""Invitations by e-mail to a real SMTP server: REQUEST, update, CANCEL, and failures."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from server.app import create_app
from server.calendars.send_locks import STALE, SendLocks
from server.config import Config
from server.db import Database
from server.errors import Conflict
from server.ical.ics import parse_calendar
from server.models import CalendarDispatch, CalendarSendLock
from tests.calendars.conftest import Mailbox, free_port, with_smtp
from tests.calendars.helpers import plan, user_id
from tests.conferences.helpers import Api, Client
from tests.conftest import ClientFactory
from tests.ical.independent import read


def calendar_parts(message: EmailMessage) -> tuple[EmailMessage, EmailMessage]:
    """The inline ``text/calendar`` part and the ``.ics`` attachment, after checking the
    message's structure."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert isinstance(alternative, EmailMessage) and isinstance(attachment, EmailMessage)
    assert alternative.get_content_type() == "multipart/alternative"
    types = [p.get_content_type() for p in alternative.iter_parts()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    inline = list(alternative.iter_parts())[2]
    assert isinstance(inline, EmailMessage)
    assert inline.get_param("charset") in ("UTF-8", "utf-8")
    assert attachment.get_filename() in ("invite.ics", "cancel.ics")
    assert attachment.get_content_type() == "application/ics"
    return inline, attachment


def ics_of(message: EmailMessage) -> tuple[str, bytes]:
    inline, attachment = calendar_parts(message)
    data = inline.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert attachment.get_payload(decode=True) == data
    method = inline.get_param("method")
    assert isinstance(method, str)
    return method, data


async def dispatches(database: Database) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(CalendarDispatch)) or 0)


async def test_request_update_and_cancel_reach_the_smtp_server(
    mail_client: Client, demo: Database, mailbox: Mailbox
) -> None:
    api = await Api.signed_in(mail_client, "organiser")
    planned = await plan(api, demo, title="MoU")
    cid = planned.id
    path = f"/api/conferences/{cid}/calendar-invitations"
    summary = await api.call("POST", path)
    assert summary["failed"] == [] and summary["skipped"] == []
    received = mailbox.take()
    assert len(received) == len(summary["sent"])
    opening = planned.sessions["Opening"]
    to_opening = {s["recipient"] for s in summary["sent"] if s["session_id"] == opening["id"]}
    assert to_opening == {
        "secretary@concord.example",
        "delegate@concord.example",
        f"hall.{cid}@example.org",
        "technician@concord.example",
        "interpreter.en@concord.example",
    }
    for recipients, message in received:
        assert message["From"] == "Concord <concord@concord.example>"
        method, data = ics_of(message)
        assert method == "REQUEST"
        parsed = parse_calendar(data)
        assert parsed.method == "REQUEST"
        [event] = parsed.events
        assert read(data).method == "REQUEST"
        assert [a.email for a in event.attendees if a.email in recipients] == recipients
        plain = message.get_body(("plain",))
        assert plain is not None and event.summary in plain.get_content()
    series_mail = [m for _, m in received if "Donor call" in str(m["Subject"])]
    [series_event] = parse_calendar(ics_of(series_mail[0])[1]).events
    assert series_event.recurrence is not None and len(series_event.overrides) == 1
    assert await dispatches(demo) == len(received)

    # Nothing changed: nothing is sent.
    again = await api.call("POST", path)
    assert again["sent"] == [] and len(again["skipped"]) == len(summary["sent"])
    assert {s["reason"] for s in again["skipped"]} == {"unchanged"}
    assert mailbox.take() == []

    # A change of time: the same UID with SEQUENCE 1, to that session's attendees only.
    await api.call(
        "PATCH",
        f"/api/conferences/{cid}/sessions/{opening['id']}",
        {"starts_at": "2030-03-05T13:00:00", "ends_at": "2030-03-05T14:00:00"},
    )
    changed = await api.call("POST", path)
    assert {(s["session_id"], s["sequence"]) for s in changed["sent"]} == {(opening["id"], 1)}
    updates = mailbox.take()
    assert len(updates) == 5
    prefix: dict[str, str] = {}
    for recipients, message in updates:
        prefix[recipients[0]] = str(message["Subject"]).split(": ")[0]
        [event] = parse_calendar(ics_of(message)[1]).events
        assert (event.uid, event.sequence) == (opening["uid"], 1)
    # Each letter is in its recipient's language (no account: English).
    assert prefix["interpreter.en@concord.example"] == "Updated"
    assert prefix[f"hall.{cid}@example.org"] == "Updated"
    assert prefix["secretary@concord.example"] == "Cập nhật"

    # Changing one occurrence of the series re-sends the series.
    series = planned.sessions["Donor call"]
    await api.call(
        "PATCH",
        f"/api/conferences/{cid}/sessions/{series['id']}",
        {"title": "Donor call (extended)"},
        occurrence="2030-04-09T08:00:00Z",
    )
    resent = await api.call("POST", path)
    assert {s["session_id"] for s in resent["sent"]} == {series["id"]}
    mailbox.take()

    # Cancelled (past its draft): CANCEL with the SEQUENCE the conferences code raised.
    await api.call("POST", f"/api/conferences/{cid}/status", {"status": "awaiting_approval"})
    await api.call("DELETE", f"/api/conferences/{cid}/sessions/{opening['id']}")
    cancelled = await api.call("POST", path)
    assert {(s["method"], s["sequence"]) for s in cancelled["sent"]} == {("CANCEL", 2)}
    cancels = mailbox.take()
    assert len(cancels) == 5
    for _, message in cancels:
        method, data = ics_of(message)
        assert method == "CANCEL"
        independent = read(data)
        assert independent.method == "CANCEL"
        assert [(e.uid, e.sequence, e.status) for e in independent.events] == [
            (opening["uid"], 2, "CANCELLED")
        ]
    # Once cancelled, never again.
    assert (await api.call("POST", path))["sent"] == []


async def test_without_smtp_invitations_are_downloads(client: Client, demo: Database) -> None:
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    refused = await api.call(
        "POST", f"/api/conferences/{planned.id}/calendar-invitations", expect=409
    )
    assert refused["code"] == "no_smtp" and "CONCORD_SMTP_HOST" in refused["detail"]
    opening = planned.sessions["Opening"]
    response = await client.get(
        f"/api/conferences/{planned.id}/sessions/{opening['id']}/invitation.ics"
    )
    assert response.status == 200 and response.content_type == "text/calendar"
    data = await response.read()
    assert read(data).method == "REQUEST"
    [event] = parse_calendar(data).events
    assert (event.uid, event.sequence) == (opening["uid"], 0)
    assert await dispatches(demo) == 0


async def test_smtp_down_records_nothing(
    aiohttp_client: ClientFactory, config: Config, demo: Database
) -> None:
    down = with_smtp(config, free_port())  # nobody listens there
    client = await aiohttp_client(create_app(down))
    api = await Api.signed_in(client, "organiser")
    planned = await plan(api, demo, title="MoU")
    failed: dict[str, Any] = await api.call(
        "POST", f"/api/conferences/{planned.id}/calendar-invitations", expect=502
    )
    assert failed["code"] == "smtp_failed"
    assert "127.0.0.1" in failed["detail"] and "nothing was sent" in failed["detail"]
    assert await dispatches(demo) == 0


async def test_a_refused_recipient_is_reported_and_not_recorded(
    aiohttp_client: ClientFactory, config: Config, demo: Database
) -> None:
    class Picky(Mailbox):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("hall."):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    from aiosmtpd.controller import Controller

    picky = Picky()
    controller = Controller(picky, hostname="127.0.0.1", port=picky.port)
    controller.start()
    try:
        client = await aiohttp_client(create_app(with_smtp(config, picky.port)))
        api = await Api.signed_in(client, "organiser")
        planned = await plan(api, demo, title="MoU")
        summary = await api.call("POST", f"/api/conferences/{planned.id}/calendar-invitations")
    finally:
        controller.stop()
    [failed] = summary["failed"]
    assert failed["recipient"] == f"hall.{planned.id}@example.org"
    assert "no such mailbox" in failed["error"]
    assert await dispatches(demo) == len(summary["sent"]) == len(picky.received)


async def test_someone_no_longer_invited_gets_a_cancel(
    mail_client: Client, demo: Database, mailbox: Mailbox
) -> None:
    api = await Api.signed_in(mail_client, "organiser")
    planned = await plan(api, demo, title="MoU")
    path = f"/api/conferences/{planned.id}/calendar-invitations"
    opening = planned.sessions["Opening"]
    await api.call("POST", path, {"session_ids": [opening["id"]]})
    assert len(mailbox.take()) == 5
    # The chair is taken off the session (a change that keeps its SEQUENCE).
    await api.call(
        "PATCH", f"/api/conferences/{planned.id}/sessions/{opening['id']}", {"chair_id": None}
    )
    summary = await api.call("POST", path, {"session_ids": [opening["id"]]})
    assert [(s["recipient"], s["method"], s["sequence"]) for s in summary["sent"]] == [
        ("secretary@concord.example", "CANCEL", 1)
    ]
    [(recipients, message)] = mailbox.take()
    assert recipients == ["secretary@concord.example"]
    method, data = ics_of(message)
    [event] = parse_calendar(data).events
    assert method == "CANCEL" and [a.email for a in event.attendees] == recipients
    assert (await api.call("POST", path))["sent"] != []  # the other sessions, never sent yet
    assert (await api.call("POST", path))["sent"] == []
    mailbox.take()

    # Made chair again: the REQUEST's SEQUENCE is above the CANCEL's, or their calendar would
    # keep the session cancelled; the others, who got nothing new, are not written to.
    secretary = await user_id(demo, "secretary")
    await api.call(
        "PATCH", f"/api/conferences/{planned.id}/sessions/{opening['id']}", {"chair_id": secretary}
    )
    summary = await api.call("POST", path, {"session_ids": [opening["id"]]})
    reinvited = [(s["recipient"], s["method"], s["sequence"]) for s in summary["sent"]]
    assert ("secretary@concord.example", "REQUEST", 2) in reinvited, reinvited
    letters = {tuple(r): m for r, m in mailbox.take()}
    method, data = ics_of(letters[("secretary@concord.example",)])
    [event] = parse_calendar(data).events
    assert method == "REQUEST" and event.sequence == 2
    assert [e.sequence for e in read(data).events] == [2]


async def test_two_sends_at_once_mail_each_invitation_once(
    mail_client: Client, demo: Database, mailbox: Mailbox
) -> None:
    """Two organisers press "Send" together: the second send waits for the first and finds
    nothing new, so nobody gets the same invitation twice."""
    api = await Api.signed_in(mail_client, "organiser")
    planned = await plan(api, demo, title="MoU")
    path = f"/api/conferences/{planned.id}/calendar-invitations"
    first, second = await asyncio.gather(api.call("POST", path), api.call("POST", path))
    sent = len(first["sent"]) + len(second["sent"])
    assert sent == len(mailbox.take()) == await dispatches(demo)
    assert min(len(first["sent"]), len(second["sent"])) == 0
    assert {s["reason"] for s in (first["skipped"] or second["skipped"])} == {"unchanged"}


async def test_two_nodes_sending_at_once_mail_each_invitation_once(
    aiohttp_client: ClientFactory, config: Config, demo: Database, mailbox: Mailbox, tmp_path: Path
) -> None:
    """Two nodes on one database (each its own app and data directory): an organiser on each
    presses "Send" together. The database's lock row makes one wait for the other, so nobody
    gets an invitation twice, and the lock is gone afterwards."""
    apis = []
    for name in ("a", "b"):
        node = dataclasses.replace(with_smtp(config, mailbox.port), data_dir=tmp_path / name)
        apis.append(await Api.signed_in(await aiohttp_client(create_app(node)), "organiser"))
    planned = await plan(apis[0], demo, title="MoU")
    path = f"/api/conferences/{planned.id}/calendar-invitations"
    first, second = await asyncio.gather(*(api.call("POST", path) for api in apis))
    sent = len(first["sent"]) + len(second["sent"])
    assert sent > 0 and sent == len(mailbox.take()) == await dispatches(demo)
    assert min(len(first["sent"]), len(second["sent"])) == 0
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(CalendarSendLock)) == 0


async def test_a_send_is_refused_while_another_holds_the_lock_and_a_stale_lock_is_taken_over(
    demo: Database,
) -> None:
    """A lock another node holds makes a send wait, then refuses it (409, send_in_progress);
    a lock left by a process that died mid-send (older than STALE) is taken over, even by a
    send whose wait is over by the time it finds the stale lock (a loaded machine)."""
    waiting = SendLocks(lambda: demo, wait=0.5)
    async with demo.session() as db, db.begin():
        db.add(CalendarSendLock(conference_id=1, holder="another node"))
    with pytest.raises(Conflict) as refused:
        async with waiting.holding(1):
            pass
    assert refused.value.code == "send_in_progress"
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=STALE + 1)
    async with demo.session() as db, db.begin():
        await db.execute(update(CalendarSendLock).values(taken_at=long_ago))
    impatient = SendLocks(lambda: demo, wait=0)
    async with impatient.holding(1):
        async with demo.session() as db:
            holder = await db.scalar(select(CalendarSendLock.holder))
        assert holder == impatient.holder
