"""Opening the signing and re-authenticating: what is refused, throttled and counted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.agreements import ceremony
from server.db import Database
from server.errors import Conflict, Forbidden
from server.identity import Identity
from server.models import LedgerEntry, OneTimeCode, Role, Signing, User
from tests.agreements.conftest import MOU, SIGNATORIES, Browsers, Mailbox, register_mou
from tests.conftest import sign_in
from tests.live.conftest import until

Client = TestClient[Any, Any]


async def organiser(database: Database) -> Identity:
    async with database.session() as db:
        user_id = await db.scalar(select(User.id).where(User.email == "organiser@concord.example"))
    return Identity(via="cookie", user_id=user_id, roles=frozenset({Role.ORGANISER}))


async def open_it(database: Database, agreement_id: int, *, live: bool = True) -> None:
    async with database.session() as db, db.begin():
        await ceremony.open_signing(
            db, await organiser(database), MOU, agreement_id, room_live=live
        )


async def test_opening_needs_the_live_room_versions_and_every_party_signed_for(
    mail_app: Client, demo: Database
) -> None:
    csrf = await sign_in(mail_app, "organiser@concord.example")
    made = await mail_app.post(
        "/api/conferences/1/agreements",
        json={"title": "Bare", "parties": [{"name": "A"}, {"name": "B"}]},
        headers={"X-CSRF-Token": csrf},
    )
    bare = (await made.json())["id"]
    with pytest.raises(Conflict, match="language version"):
        await open_it(demo, bare)
    agreement = await register_mou(mail_app, demo, csrf)
    with pytest.raises(Conflict, match="room is not open"):
        await open_it(demo, agreement["id"], live=False)
    async with demo.session() as db:
        user_id = await db.scalar(select(User.id).where(User.email == "technician@concord.example"))
        technician = Identity(via="cookie", user_id=user_id)
        with pytest.raises(Forbidden):  # the chair who opens is an organiser
            await ceremony.open_signing(db, technician, MOU, agreement["id"], room_live=True)
    await open_it(demo, agreement["id"])
    with pytest.raises(Conflict, match="already opened"):
        await open_it(demo, agreement["id"])


async def test_wrong_passwords_are_throttled_and_codes_spend_attempts(
    mail_app: Client, demo: Database, mailbox: Mailbox, browsers: Browsers
) -> None:
    csrf = await sign_in(mail_app, "organiser@concord.example")
    agreement = await register_mou(mail_app, demo, csrf)
    await open_it(demo, agreement["id"])
    base = f"/api/conferences/{MOU}/agreements/{agreement['id']}"
    chairman, governor = agreement["signatories"]

    # The chairman, signed in as himself, mistypes five times: then even the right password
    # waits (re-authentication's own strict limit, per signatory).
    email, _, password = SIGNATORIES["chairman"]
    chairman_browser = await browsers(mail_app)
    own = await sign_in(chairman_browser, email, password)
    for _ in range(5):
        wrong = await chairman_browser.post(
            f"{base}/signatories/{chairman['id']}/sign",
            json={"method": "password", "secret": "guess"},
            headers={"X-CSRF-Token": own},
        )
        assert wrong.status == 403
    throttled = await chairman_browser.post(
        f"{base}/signatories/{chairman['id']}/sign",
        json={"method": "password", "secret": password},
        headers={"X-CSRF-Token": own},
    )
    assert throttled.status == 429 and "Retry-After" in throttled.headers

    # The chairman may not sign for the governor, nor ask a code in his name.
    other = await chairman_browser.post(
        f"{base}/signatories/{governor['id']}/code", json={}, headers={"X-CSRF-Token": own}
    )
    assert other.status == 403

    # The governor: no code yet, then wrong codes spend attempts, an expired code is refused.
    email, _, password = SIGNATORIES["governor"]
    governor_browser = await browsers(mail_app)
    own = await sign_in(governor_browser, email, password)
    sign = f"{base}/signatories/{governor['id']}/sign"
    none_yet = await governor_browser.post(
        sign, json={"method": "code", "secret": "123456"}, headers={"X-CSRF-Token": own}
    )
    assert none_yet.status == 403 and "ask for one" in (await none_yet.json())["detail"]
    asked = await governor_browser.post(
        f"{base}/signatories/{governor['id']}/code", json={}, headers={"X-CSRF-Token": own}
    )
    assert asked.status == 200
    again = await governor_browser.post(
        f"{base}/signatories/{governor['id']}/code", json={}, headers={"X-CSRF-Token": own}
    )
    assert again.status == 409  # one code at a time
    await until(lambda: mailbox.received, 5, "the code")
    (_, letter), *_ = mailbox.take()
    found = re.search(r"\b(\d{6})\b", letter.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert found
    code = found.group(1)
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3):
        wrong = await governor_browser.post(
            sign, json={"method": "code", "secret": wrong_code}, headers={"X-CSRF-Token": own}
        )
        assert wrong.status == 403
        assert f"{left} attempts left" in (await wrong.json())["detail"]
    async with demo.session() as db, db.begin():
        row = await db.scalar(select(OneTimeCode))
        assert row is not None and row.attempts == 2
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    expired = await governor_browser.post(
        sign, json={"method": "code", "secret": code}, headers={"X-CSRF-Token": own}
    )
    assert expired.status == 403 and "expired" in (await expired.json())["detail"]
    async with demo.session() as db:
        assert await db.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert await db.scalar(select(func.count()).select_from(Signing)) == 0
    # The governor's own password still works (his failures were code failures: 3 < 5).
    signed = await governor_browser.post(
        sign, json={"method": "password", "secret": password}, headers={"X-CSRF-Token": own}
    )
    assert signed.status == 201, await signed.text()
    assert (await signed.json())["signed"] == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # limits live in memory
async def test_signing_and_signing_in_are_limited_apart(
    mail_app: Client, demo: Database, browsers: Browsers
) -> None:
    csrf = await sign_in(mail_app, "organiser@concord.example")
    agreement = await register_mou(mail_app, demo, csrf)
    await open_it(demo, agreement["id"])
    base = f"/api/conferences/{MOU}/agreements/{agreement['id']}/signatories"
    chairman, governor = agreement["signatories"]

    async def new_browser() -> Client:
        return await browsers(mail_app)

    # The chairman uses up re-authentication: five wrong passwords, then a hard stop ...
    email, _, password = SIGNATORIES["chairman"]
    chairman_browser = await new_browser()
    own = await sign_in(chairman_browser, email, password)
    for _ in range(5):
        wrong = await chairman_browser.post(
            f"{base}/{chairman['id']}/sign",
            json={"method": "password", "secret": "guess"},
            headers={"X-CSRF-Token": own},
        )
        assert wrong.status == 403
    stopped = await chairman_browser.post(
        f"{base}/{chairman['id']}/sign",
        json={"method": "password", "secret": password},
        headers={"X-CSRF-Token": own},
    )
    assert stopped.status == 429 and "re-authentications" in (await stopped.json())["detail"]
    # ... which does not slow signing in, even from a browser he never used.
    await sign_in(await new_browser(), email, password)

    # Someone guesses the governor's password at sign-in until made to wait ...
    email, _, password = SIGNATORIES["governor"]
    governor_browser = await new_browser()
    own = await sign_in(governor_browser, email, password)
    guesser = await new_browser()
    for n in range(5):
        guess = {"email": email, "password": f"guess-{n}"}
        assert (await guesser.post("/api/session", json=guess)).status == 401
    waiting = await guesser.post("/api/session", json={"email": email, "password": password})
    assert waiting.status == 429
    # ... which does not stop the governor, signed in already, from signing.
    signed = await governor_browser.post(
        f"{base}/{governor['id']}/sign",
        json={"method": "password", "secret": password},
        headers={"X-CSRF-Token": own},
    )
    assert signed.status == 201, await signed.text()


def test_the_code_letter_speaks_the_signatorys_language() -> None:
    from server.agreements.mail import code_letter
    from server.i18n import Catalogues

    catalogues = Catalogues()
    lao = code_letter(
        "c@concord.example", "g@x.la", "Governor", "MoU", "042917", catalogues.get("lo").gettext
    )
    assert lao["Subject"] == "ລະຫັດລົງນາມ Concord: 042917"
    body = lao.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "“MoU”" in body and "042917" in body and "10 ນາທີ" in body
    english = code_letter("c@concord.example", "g@x.la", "Governor", "MoU", "042917")
    assert english["Subject"] == "Concord signing code: 042917"
