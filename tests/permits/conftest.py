"""Fixtures for the permit tests: people with API tokens, files of each kind."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from server.accounts import operations as accounts
from server.accounts.passwords import Passwords
from server.config import Config
from server.db import Database
from server.identity import Identity
from server.models import ConferenceMember, Role, User

Client = TestClient[Any, Any]
DEMO = {
    "admin": "admin@concord.example",
    "organiser": "organiser@concord.example",
    "approver": "approver@concord.example",
    "technician": "technician@concord.example",
    "delegate": "delegate@concord.example",
}
# Besides the demo: an organiser of no demo conference, and a co-organiser of conference 1
# who is also an approver (and so must not decide its permit).
EXTRA = {
    "other_organiser": ("organiser2@concord.example", [Role.ORGANISER]),
    "co_organiser_approver": ("coorg@concord.example", [Role.ORGANISER, Role.APPROVER]),
}


class People:
    """Bearer-token headers per person (no cookies, so no CSRF token needed)."""

    def __init__(self, headers: dict[str, dict[str, str]], ids: dict[str, int]) -> None:
        self.headers, self.ids = headers, ids

    def __call__(self, who: str) -> dict[str, str]:
        return self.headers[who]


@pytest.fixture
async def people(demo: Database, config: Config) -> People:
    headers: dict[str, dict[str, str]] = {}
    ids: dict[str, int] = {}
    async with demo.session() as db, db.begin():
        for name, (email, roles) in EXTRA.items():
            user = await accounts.create_user(
                db,
                Passwords.from_config(config),
                None,
                email=email,
                roles=roles,
                password=None,
                display_name=name,
            )
            await db.flush()
            ids[name] = user.id
        db.add(
            ConferenceMember(
                conference_id=1, user_id=ids["co_organiser_approver"], role=Role.ORGANISER.value
            )
        )
        for name, email in DEMO.items():
            ids[name] = (await db.scalar(select(User.id).where(User.email == email))) or 0
        # The demo's people read Vietnamese or Lao; these tests read the pages in English
        # (tests/test_translations.py checks the catalogues), except the organiser's.
        english = [user_id for name, user_id in ids.items() if name != "organiser"]
        await db.execute(update(User).where(User.id.in_(english)).values(locale="en"))
        for name, user_id in ids.items():
            made = await accounts.create_api_token(db, Identity(via="bearer", user_id=user_id), "t")
            headers[name] = {"Authorization": f"Bearer {made.token}"}
    return People(headers, ids)


def application_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": "Sign the 2027–2031 cooperation memorandum with Champasak province",
        "format": "online",
        "starts_on": "2027-10-20",
        "ends_on": "2027-10-21",
        "participants": [
            {
                "country": "LA",
                "organisation": "Champasak Department of Foreign Affairs",
                "number": 12,
            }
        ],
        "content": "Opening speeches\nSigning of the memorandum\nPress briefing",
        "funding_source": "Provincial budget",
        "funding_amount": "45000000.00",
        "funding_currency": "VND",
    }
    body.update(changes)
    return body


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (
            ("[Content_Types].xml", "<Types/>"),
            ("_rels/.rels", "<Relationships/>"),
            ("word/document.xml", "<w:document/>"),
        ):  # fixed times: the same bytes on every call
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
