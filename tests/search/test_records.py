"""Search over the minutes (the current text of each agenda item, every language) and the
agreements (title, kind, parties, donor, programme), on both databases."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, select

from server.db import Database
from server.identity import GuestScope, Identity
from server.models import (
    AgendaSession,
    Agreement,
    AgreementParty,
    Delegation,
    DelegationMember,
    MinutesDocument,
    MinutesRevision,
    Role,
    User,
)
from server.search.queries import search
from tests.conftest import sign_in, sign_in_english

Client = TestClient[Any, Any]


def _minutes_text(session_id: int, discussion: str) -> str:
    return json.dumps(
        {
            "format": 1,
            "conference_id": 1,
            "languages": ["vi", "lo"],
            "items": [
                {
                    "session_uid": "s1@concord",
                    "session_id": session_id,
                    "title": {"vi": "Khai mạc hội nghị", "lo": "ພິທີເປີດ"},
                    "discussion": {"vi": discussion, "lo": "ການຮ່ວມມືດ້ານກະສິກຳ"},
                    "decisions": [{"vi": "Thành lập tổ công tác chung", "lo": "ສ້າງຕັ້ງ"}],
                    "actions": [
                        {"what": {"vi": "Gửi báo cáo tiến độ"}, "owner": "Sở Ngoại vụ", "due": None}
                    ],
                }
            ],
        },
        ensure_ascii=False,
    )


async def _add_minutes(demo: Database) -> int:
    async with demo.session() as db, db.begin():
        session_id = await db.scalar(
            select(AgendaSession.id).where(AgendaSession.conference_id == 1).limit(1)
        )
        assert session_id is not None
        # The demo may hold the MoU's own minutes: these tests write their own in its place.
        await db.execute(delete(MinutesDocument).where(MinutesDocument.conference_id == 1))
        minutes = MinutesDocument(conference_id=1, state="draft", revision=2)
        db.add(minutes)
        await db.flush()
        for number, words in ((1, "Bản nháp Xoaicu bỏ đi"), (2, "Thúc đẩy hợp tác nông nghiệp")):
            text = _minutes_text(session_id, words)
            db.add(
                MinutesRevision(
                    minutes_id=minutes.id,
                    number=number,
                    document=text,
                    digest=hashlib.sha256(text.encode()).hexdigest(),
                )
            )
        return minutes.id


async def _add_agreement(demo: Database) -> None:
    async with demo.session() as db, db.begin():
        agreement = Agreement(
            conference_id=2,
            title="Hiệp định viện trợ xây dựng trường học",
            kind="aid",
            donor="Korea International Cooperation Agency",
            programme="Giáo dục vùng cao",
        )
        agreement.parties = [
            AgreementParty(name="Ủy ban nhân dân tỉnh Quảng Ngãi"),
            AgreementParty(name="Fondation Lumière"),
        ]
        db.add(agreement)


async def _api(client: Client, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/search", params=params)
    assert response.status == 200, await response.text()
    results: list[dict[str, Any]] = (await response.json())["results"]
    return results


async def test_minutes_are_found_by_their_current_text(client: Client, demo: Database) -> None:
    minutes_id = await _add_minutes(demo)
    await sign_in(client, "admin@concord.example")
    hits = await _api(client, q="nong nghiep", kind="minutes")
    assert [h["conference_id"] for h in hits] == [1], hits
    assert hits[0]["title"] == "Khai mạc hội nghị"
    # Lao, as written: no spaces between Lao words, so a run is a phrase; a word is found at
    # the start of the run and inside it ("agriculture" in "cooperation in agriculture").
    assert await _api(client, q="ການຮ່ວມມື", kind="minutes")
    assert await _api(client, q="ກະສິກຳ", kind="minutes")
    assert await _api(client, q="ດ້ານກະສິ", kind="minutes")
    assert await _api(client, q="ກະສິກຳດ້ານ", kind="minutes") == []  # not in that order
    assert await _api(client, q="to cong tac chung", kind="minutes")  # a decision
    assert await _api(client, q="bao cao tien do", kind="minutes")  # an action item
    assert await _api(client, q="xoaicu") == []  # only in an earlier revision
    assert await _api(client, q="nong nghiep", kind="minutes", party="champasak")

    # A new revision replaces the indexed text in the same transaction.
    async with demo.session() as db, db.begin():
        minutes = await db.get(MinutesDocument, minutes_id)
        assert minutes is not None
        session_id = await db.scalar(
            select(AgendaSession.id).where(AgendaSession.conference_id == 1).limit(1)
        )
        assert session_id is not None
        text = _minutes_text(session_id, "Phát triển du lịch biên giới")
        db.add(MinutesRevision(minutes_id=minutes_id, number=3, document=text, digest="0" * 64))
        minutes.revision = 3
    assert await _api(client, q="nong nghiep", kind="minutes") == []
    assert await _api(client, q="du lich bien gioi", kind="minutes")


async def test_agreements_are_found_by_title_donor_programme_and_party(
    client: Client, demo: Database
) -> None:
    await _add_agreement(demo)
    await sign_in(client, "admin@concord.example")
    hits = await _api(client, q="vien tro truong hoc", kind="agreement")
    assert len(hits) == 1 and hits[0]["conference_id"] == 2
    assert await _api(client, q="giao duc vung cao", kind="agreement")
    assert await _api(client, q="aid agreement", kind="agreement")
    # The party filter finds an agreement by its parties and donor...
    assert await _api(client, q="vien tro", kind="agreement", party="Fondation Lumiere")
    assert await _api(client, q="vien tro", kind="agreement", party="korea international")
    # ...and not by a delegation of its conference that is no party to it.
    async with demo.session() as db:
        organisations = list(
            await db.scalars(select(Delegation.organisation).where(Delegation.conference_id == 2))
        )
    others = [o for o in organisations if "Quảng Ngãi" not in o and "Korea" not in o]
    assert others, organisations
    found = await _api(client, q="vien tro truong hoc", kind="agreement", party=others[0])
    assert found == []


async def test_records_follow_visibility_and_show_on_the_page(
    client: Client, demo: Database
) -> None:
    await _add_minutes(demo)
    await _add_agreement(demo)
    await sign_in_english(client, "delegate@concord.example")  # conference 2 only
    assert await _api(client, q="nong nghiep") == []
    page = await (await client.get("/search", params={"q": "vien tro"})).text()
    assert 'id="results-agreement"' in page
    assert "<mark>viện</mark> <mark>trợ</mark>" in page


async def _minutes_hits(client: Client, email: str) -> list[int]:
    await sign_in(client, email)
    hits = await _api(client, q="nong nghiep", kind="minutes")
    await client.delete("/api/session", headers={"X-CSRF-Token": await _csrf(client)})
    return [h["conference_id"] for h in hits]


async def _csrf(client: Client) -> str:
    token: str = (await (await client.get("/api/session")).json())["csrf_token"]
    return token


async def test_minutes_are_found_only_by_who_may_read_them(client: Client, demo: Database) -> None:
    await _add_minutes(demo)  # conference 1, still a draft
    guest = Identity(
        via="guest",
        guest=GuestScope(invitation_id=1, conference_id=1, site_id=1, role=Role.DELEGATE),
    )
    async with demo.session() as db:
        assert await search(db, guest, "nong nghiep", kind="minutes") == []
        assert await search(db, guest, "champasak")
    for reader in ("secretary@concord.example", "organiser@concord.example"):
        assert await _minutes_hits(client, reader) == [1], reader
    # Conference 1's technician and interpreters, approvers: no minutes (the rest they see).
    for other in (
        "technician@concord.example",
        "interpreter.lo@concord.example",
        "approver@concord.example",
    ):
        assert await _minutes_hits(client, other) == [], other
        await sign_in(client, other)
        assert await _api(client, q="champasak")
        await client.delete("/api/session", headers={"X-CSRF-Token": await _csrf(client)})

    # A delegation's member reads them once they leave their draft.
    async with demo.session() as db, db.begin():
        user_id = await db.scalar(select(User.id).where(User.email == "technician@concord.example"))
        member = await db.scalar(
            select(DelegationMember)
            .join(Delegation, Delegation.id == DelegationMember.delegation_id)
            .where(Delegation.conference_id == 1)
            .limit(1)
        )
        assert member is not None
        member.user_id = user_id
    assert await _minutes_hits(client, "technician@concord.example") == []
    async with demo.session() as db, db.begin():
        minutes = await db.scalar(select(MinutesDocument).where(MinutesDocument.conference_id == 1))
        assert minutes is not None
        minutes.state = "circulated"
    assert await _minutes_hits(client, "technician@concord.example") == [1]
