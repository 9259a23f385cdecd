"""The agreement register over HTTP: PDF versions checked by content, amounts per locale,
signatories, and the pages."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp.test_utils import TestClient

from server.config import Config
from server.db import Database
from tests.agreements.conftest import (
    SIGNATORIES,
    add_signatory_accounts,
    register_mou,
    tiny_pdf,
)
from tests.conftest import sign_in, sign_in_english

Client = TestClient[Any, Any]


async def test_register_an_aid_agreement_with_a_pdf_version(
    client: Client, demo: Database, config: Config
) -> None:
    csrf = await sign_in_english(client, "organiser@concord.example")
    made = await client.post(
        "/api/conferences/2/agreements",
        json={
            "title": "Aid agreement: safe water for Son Tay",
            "kind": "aid",
            "donor": "World Vision Viet Nam",
            "programme": "Area programme Son Tay",
            "amount": "25000000000",
            "currency": "VND",
            "parties": [{"name": "World Vision Viet Nam"}, {"name": "Quang Ngai PPC"}],
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status == 201, await made.text()
    agreement = await made.json()
    assert agreement["amount_minor"] == 25_000_000_000 and agreement["currency"] == "VND"
    assert agreement["status"] == "draft"
    base = f"/api/conferences/2/agreements/{agreement['id']}"

    pdf = tiny_pdf("Aid agreement")
    uploaded = await client.post(
        f"{base}/versions?language=vi&name=aid-vi.pdf",
        data=pdf,
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"},
    )
    assert uploaded.status == 201, await uploaded.text()
    versions = (await uploaded.json())["versions"]
    assert [(v["language"], v["sha256"], v["size"]) for v in versions] == [
        ("vi", hashlib.sha256(pdf).hexdigest(), len(pdf))
    ]
    stored = list((config.data_dir / "agreements" / str(agreement["id"])).iterdir())
    assert [p.read_bytes() for p in stored] == [pdf]
    download = await client.get(f"{base}/versions/{versions[0]['id']}/pdf")
    assert download.status == 200 and await download.read() == pdf
    assert download.headers["Content-Type"] == "application/pdf"

    # A Word file named .pdf, and a text file: refused by content, nothing stored.
    for name, content in (("fake.pdf", b"PK\x03\x04 not a pdf at all"), ("notes.pdf", b"hello")):
        refused = await client.post(
            f"{base}/versions?language=lo&name={name}",
            data=content,
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"},
        )
        assert refused.status == 415, await refused.text()
        problem = await refused.json()
        assert name in problem["detail"] and "PDF" in problem["detail"]
    assert len(list((config.data_dir / "agreements" / str(agreement["id"])).iterdir())) == 1
    again = await (await client.get(base)).json()
    assert [v["language"] for v in again["versions"]] == ["vi"]

    # The register shows the amount as each locale writes it.
    listing = await client.get("/conferences/2/agreements")
    assert "Aid agreement: safe water for Son Tay" in await listing.text()
    vietnamese = await client.get(base, headers={"Accept-Language": "vi"})
    assert (await vietnamese.json())["amount_shown"] in ("₫25,000,000,000", "25.000.000.000 ₫")
    await client.patch("/api/me", json={"locale": "vi"}, headers={"X-CSRF-Token": csrf})
    shown = await (await client.get(base)).json()
    assert shown["amount_shown"] == "25.000.000.000\xa0₫"


async def test_bad_input_is_refused_naming_the_problem(client: Client, demo: Database) -> None:
    csrf = await sign_in(client, "organiser@concord.example")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": "x", "parties": []}, "parties"),
        ({"title": "x", "parties": [{"name": "A"}], "amount": "10"}, "currency"),
        ({"title": "x", "parties": [{"name": "A"}], "amount": "1.5", "currency": "VND"}, "VND"),
        ({"title": "x", "parties": [{"name": "A"}], "amount": "1", "currency": "XYZ"}, "XYZ"),
        ({"title": "x", "parties": [{"name": "A"}, {"name": "a"}]}, "twice"),
        (
            {
                "title": "x",
                "parties": [{"name": "A"}],
                "period_starts_on": "2025-01-02",
                "period_ends_on": "2025-01-01",
            },
            "period",
        ),
    ]
    for body, named in cases:
        refused = await client.post(
            "/api/conferences/1/agreements", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert refused.status == 422, (body, await refused.text())
        assert named in (await refused.json())["detail"], body
    listed = await (await client.get("/api/conferences/1/agreements")).json()
    assert listed == []


async def test_signatories_and_the_agreement_page(
    client: Client, demo: Database, config: Config
) -> None:
    await add_signatory_accounts(demo, config)
    csrf = await sign_in_english(client, "organiser@concord.example")
    agreement = await register_mou(client, demo, csrf)
    assert [s["name"] for s in agreement["signatories"]] == [
        SIGNATORIES["chairman"][1],
        SIGNATORIES["governor"][1],
    ]
    base = f"/api/conferences/1/agreements/{agreement['id']}"
    twice = await client.post(
        f"{base}/signatories",
        json={"party_id": agreement["parties"][0]["id"], "email": SIGNATORIES["chairman"][0]},
        headers={"X-CSRF-Token": csrf},
    )
    assert twice.status == 409
    outsider = await client.post(
        f"{base}/signatories",
        json={"party_id": agreement["parties"][0]["id"], "email": "delegate@concord.example"},
        headers={"X-CSRF-Token": csrf},
    )
    assert outsider.status == 422 and "no part" in (await outsider.json())["detail"]
    page = await (await client.get(f"/conferences/1/agreements/{agreement['id']}")).text()
    for version in agreement["versions"]:
        assert version["sha256"] in page
    assert "Champasak Province Administration" in page and "Governor of Champasak" in page
    # Not open yet: signing is refused.
    early = await client.post(
        f"{base}/signatories/{agreement['signatories'][0]['id']}/sign",
        json={"method": "password", "secret": SIGNATORIES["chairman"][2]},
        headers={"X-CSRF-Token": csrf},
    )
    assert early.status == 409 and (await early.json())["code"] == "signing_not_open"


async def test_room_pages_carry_the_signing_panel(client: Client, demo: Database) -> None:
    await sign_in_english(client, "organiser@concord.example")
    console = await client.get("/conferences/1/console")
    assert console.status == 200
    assert 'id="signing"' in (html := await console.text()) and 'data-role="console"' in html
    site = await client.get("/conferences/1/room?site=2")
    assert site.status == 200
    assert 'data-role="site"' in (html := await site.text()) and "Send me a code" in html
    conference = await (await client.get("/conferences/1")).text()
    assert 'href="/conferences/1/agreements"' in conference
