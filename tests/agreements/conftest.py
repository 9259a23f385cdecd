"""Fixtures of the agreement tests: small real PDFs, signatory accounts, a registered MoU,
and an app that mails through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from server.accounts.passwords import Passwords
from server.app import create_app
from server.config import Config
from server.db import Database
from server.models import ConferenceMember, Delegation, User, UserRole
from tests.calendars.conftest import Mailbox, mailbox, with_smtp  # noqa: F401 (a fixture)
from tests.conftest import ClientFactory

Client = TestClient[Any, Any]
MOU, HALL, CHAMPASAK = 1, 1, 2
SIGNATORIES = {
    "chairman": ("chairman@quangngai.example", "Chairman of Quang Ngai PPC", "quang-ngai-2021!"),
    "governor": ("governor@champasak.example", "Governor of Champasak", "champasak-2021!"),
}


def tiny_pdf(text: str) -> bytes:
    """A real one-page PDF (valid cross-reference table) showing ``text`` (ASCII)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


async def add_signatory_accounts(database: Database, config: Config) -> None:
    """Two people who sign for their provinces, with a part (delegate) in the MoU."""
    passwords = Passwords.from_config(config)
    async with database.session() as db, db.begin():
        for email, name, password in SIGNATORIES.values():
            user = User(email=email, display_name=name, password_hash=passwords.hash(password))
            user.roles = [UserRole(role="delegate")]
            db.add(user)
            await db.flush()
            db.add(ConferenceMember(conference_id=MOU, user_id=user.id, role="delegate"))


async def delegations(database: Database) -> dict[str, int]:
    async with database.session() as db:
        rows = await db.scalars(select(Delegation).where(Delegation.conference_id == MOU))
        return {d.country: d.id for d in rows}


@pytest.fixture
async def mail_app(
    aiohttp_client: ClientFactory,
    config: Config,
    demo: Database,
    mailbox: Mailbox,  # noqa: F811 (the fixture imported above)
) -> Client:
    """A live server (real TCP) that mails through ``mailbox``, with the signatories."""
    await add_signatory_accounts(demo, config)
    return await aiohttp_client(create_app(with_smtp(config, mailbox.port)))


async def register_mou(client: Client, database: Database, csrf: str) -> dict[str, Any]:
    """The MoU with both provinces as parties, its Vietnamese and Lao versions, and a
    signatory for each party at its own site; returns the agreement as the API shows it."""
    found = await delegations(database)
    made = await client.post(
        "/api/conferences/1/agreements",
        json={
            "title": "Memorandum of Understanding on cooperation 2021–2025",
            "kind": "mou",
            "parties": [
                {"name": "Quang Ngai Provincial People's Committee", "delegation_id": found["VN"]},
                {"name": "Champasak Province Administration", "delegation_id": found["LA"]},
            ],
            "period_starts_on": "2021-10-29",
            "period_ends_on": "2025-12-31",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201, await made.text()
    agreement = await made.json()
    base = f"/api/conferences/1/agreements/{agreement['id']}"
    for language, text in (("vi", "Bien ban ghi nho"), ("lo", "Memorandum (Lao)")):
        uploaded = await client.post(
            f"{base}/versions?language={language}&name=mou-{language}.pdf",
            data=tiny_pdf(text),
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"},
        )
        assert uploaded.status == 201, await uploaded.text()
    party = {p["name"][:5]: p["id"] for p in agreement["parties"]}
    for key, party_id, site in (
        ("chairman", party["Quang"], HALL),
        ("governor", party["Champ"], CHAMPASAK),
    ):
        designated = await client.post(
            f"{base}/signatories",
            json={"party_id": party_id, "email": SIGNATORIES[key][0], "site_id": site},
            headers={"X-CSRF-Token": csrf},
        )
        assert designated.status == 201, await designated.text()
    return dict(await designated.json())


async def browser(server_client: Client) -> Client:
    """Another browser (its own cookies) on the same server; the caller closes it."""
    made: Client = TestClient(server_client.server, cookie_jar=CookieJar(unsafe=True))
    await made.start_server()
    return made


Browsers = Callable[[Client], Awaitable[Client]]


@pytest.fixture
async def browsers() -> AsyncIterator[Browsers]:
    """``await browsers(server_client)``: ``browser``, closed after the test, pass or fail."""
    opened: list[Client] = []

    async def open_one(server_client: Client) -> Client:
        opened.append(await browser(server_client))
        return opened[-1]

    yield open_one
    for made in opened:
        await made.session.close()  # not .close(): that would stop the shared server
