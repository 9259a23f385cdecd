"""A signing ceremony end to end: a real server, the chair on the console, two sites with
real aiortc peers, a failed re-authentication that appends nothing, a signing by password,
one by a one-time code received through a real SMTP server, and the certificate."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import subprocess
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from server.agreements.evidence import commitment
from server.db import Database
from server.keys import LEDGER_SIGNER
from server.ledger import operations as ledger
from server.live.simulate import SimulatedSite
from server.models import AuditEntry, LedgerEntry, OneTimeCode, Recording, Signing
from tests.agreements.conftest import (
    CHAMPASAK,
    HALL,
    MOU,
    SIGNATORIES,
    Mailbox,
    browser,
    register_mou,
    tiny_pdf,
)
from tests.conftest import hold_conference, sign_in_english
from tests.live.conftest import Chair, until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
Client = TestClient[Any, Any]
UA = {"A": "Mozilla/5.0 (Quang Ngai hall) Chromium/131", "B": "Mozilla/5.0 (Pakse) Firefox/133"}


async def guest_page(server_client: Client, join_path: str) -> tuple[Client, str]:
    """The site's browser: the invitation link opens a guest session; returns its CSRF token."""
    page = await browser(server_client)
    opened = await page.get(join_path, allow_redirects=False)
    assert opened.status == 303
    csrf = (await (await page.get("/api/session")).json())["csrf_token"]
    return page, csrf


async def count(database: Database, model: Any) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_two_signatories_at_two_sites_sign_the_mou(
    mail_app: Client, demo: Database, mailbox: Mailbox
) -> None:
    client = mail_app
    await hold_conference(demo)  # the ceremony is held on the day: the conference is live
    organiser = await browser(client)
    csrf = await sign_in_english(organiser, "organiser@concord.example")
    agreement = await register_mou(organiser, demo, csrf)
    agreement_id = agreement["id"]
    base = f"/api/conferences/{MOU}/agreements/{agreement_id}"
    chairman, governor = agreement["signatories"]
    hashes = {v["language"]: v["sha256"] for v in agreement["versions"]}

    # The chair on the console, two sites joined through their invitations (real aiortc).
    chair = Chair(await browser(client))
    assert (await chair.start(MOU))["ok"]
    seen: dict[str, list[dict[str, Any]]] = {"chair": [], "A": [], "B": []}
    chair.sio.on("signing.state", seen["chair"].append, namespace="/room")
    sites: dict[str, SimulatedSite] = {}
    for key, site_id, tone in (("A", HALL, 440.0), ("B", CHAMPASAK, 880.0)):
        invited = await organiser.post(
            f"/api/conferences/{MOU}/invitations",
            json={"site_id": site_id, "role": "delegate"},
            headers={"X-CSRF-Token": csrf},
        )
        url = (await invited.json())["url"]
        site = SimulatedSite(
            str(client.make_url("")), url[url.index("/join/") :], name=key, tone_hz=tone
        )
        site.sio.on("signing.state", seen[key].append, namespace="/room")
        sites[key] = site
    pages: dict[str, tuple[Client, str]] = {}
    try:
        for key, site in sites.items():
            assert await site.start() == "lobby"
            assert (await chair.call("admit", {"site_id": site.site_id}))["ok"]
            await until(site.admitted.is_set, 5, f"site {key} admitted")
            await site.connect_media()
            pages[key] = await guest_page(client, site.join_path)
        await until(
            lambda: (
                chair.states and all(s["link"] == "connected" for s in chair.states[-1]["sites"])
            ),
            15,
            "both sites connected",
        )
        # A recording runs: each signing notes its offset into it.
        async with demo.session() as db, db.begin():
            db.add(
                Recording(
                    conference_id=MOU,
                    started_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=90),
                    started_by="test",
                    status="recording",
                    directory="recordings/1/test",
                )
            )

        # A site may not open the signing; the chair does, from the console.
        refused = await sites["A"].sio.call(
            "signing.open", {"agreement_id": agreement_id}, namespace="/room"
        )
        assert refused["ok"] is False and refused["code"] == "forbidden"
        opened = await chair.call("signing.open", {"agreement_id": agreement_id})
        assert opened["ok"], opened
        for key in ("chair", "A", "B"):
            await until(lambda k=key: seen[k], 5, f"{key} to receive signing.state")  # type: ignore[misc]
            state = seen[key][-1]
            assert state["agreement_id"] == agreement_id and state["status"] == "open"
            assert {v["language"]: v["sha256"] for v in state["versions"]} == hashes
            assert [(s["name"], s["site_id"], s["signed"]) for s in state["signatories"]] == [
                (SIGNATORIES["chairman"][1], HALL, False),
                (SIGNATORIES["governor"][1], CHAMPASAK, False),
            ]
            assert (state["signed"], state["total"], state["complete"]) == (0, 2, False)
        status = await sites["B"].call("signing.status")
        assert [s["agreement_id"] for s in status["agreements"]] == [agreement_id]

        # Once open, the versions are frozen.
        frozen = await organiser.post(
            f"{base}/versions?language=en&name=mou-en.pdf",
            data=tiny_pdf("English"),
            headers={"X-CSRF-Token": csrf, "Content-Type": "application/pdf"},
        )
        assert frozen.status == 409

        # Site A: a wrong password appends nothing and writes nothing but the audit.
        page_a, csrf_a = pages["A"]
        before = (await count(demo, LedgerEntry), await count(demo, Signing))
        wrong = await page_a.post(
            f"{base}/signatories/{chairman['id']}/sign",
            json={"method": "password", "secret": "not-the-password"},
            headers={"X-CSRF-Token": csrf_a, "User-Agent": UA["A"]},
        )
        assert wrong.status == 403, await wrong.text()
        assert (await wrong.json())["code"] == "reauthentication_failed"
        assert (await count(demo, LedgerEntry), await count(demo, Signing)) == before
        async with demo.session() as db:
            refusals = list(
                await db.scalars(
                    select(AuditEntry).where(AuditEntry.action == "agreement.signing_refused")
                )
            )
        assert [r.detail["reason"] for r in refusals] == ["the password is wrong"]
        # The wrong site may not sign for the governor.
        elsewhere = await page_a.post(
            f"{base}/signatories/{governor['id']}/sign",
            json={"method": "password", "secret": SIGNATORIES["governor"][2]},
            headers={"X-CSRF-Token": csrf_a},
        )
        assert elsewhere.status == 403 and (await elsewhere.json())["code"] == "not_the_signatory"

        # Site A signs with the chairman's password.
        signed_a = await page_a.post(
            f"{base}/signatories/{chairman['id']}/sign",
            json={"method": "password", "secret": SIGNATORIES["chairman"][2]},
            headers={"X-CSRF-Token": csrf_a, "User-Agent": UA["A"]},
        )
        assert signed_a.status == 201, await signed_a.text()
        for key in ("chair", "A", "B"):
            await until(lambda k=key: seen[k][-1]["signed"] == 1, 5, f"{key} sees 1 of 2")  # type: ignore[misc]
        assert seen["B"][-1]["complete"] is False

        # Site B asks for a code; it arrives through the SMTP server; B signs with it.
        page_b, csrf_b = pages["B"]
        asked = await page_b.post(
            f"{base}/signatories/{governor['id']}/code",
            json={},
            headers={"X-CSRF-Token": csrf_b},
        )
        assert asked.status == 200, await asked.text()
        await until(lambda: mailbox.received, 5, "the code to be mailed")
        (recipients, letter), *_ = mailbox.take()
        assert recipients == [SIGNATORIES["governor"][0]]
        found = re.search(r"\b(\d{6})\b", letter.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert found, letter
        async with demo.session() as db:
            stored = await db.scalar(select(OneTimeCode.code_hash))
        assert stored is not None and found.group(1) not in stored
        signed_b = await page_b.post(
            f"{base}/signatories/{governor['id']}/sign",
            json={"method": "code", "secret": found.group(1)},
            headers={"X-CSRF-Token": csrf_b, "User-Agent": UA["B"]},
        )
        assert signed_b.status == 201, await signed_b.text()
        assert (await signed_b.json())["complete"] is True

        # Everyone in the room sees it complete.
        for key in ("chair", "A", "B"):
            await until(lambda k=key: seen[k][-1]["complete"], 5, f"{key} sees completion")  # type: ignore[misc]
            final = seen[key][-1]
            assert (final["signed"], final["total"], final["status"]) == (2, 2, "signed")
            assert all(s["signed"] for s in final["signatories"])

        # The ledger: two signing entries carrying hashes, offsets and commitments.
        async with demo.session() as db:
            entries = list(
                await db.scalars(
                    select(LedgerEntry)
                    .where(LedgerEntry.ref == f"agreement:{agreement_id}")
                    .order_by(LedgerEntry.position)
                )
            )
            signings = {s.ledger_position: s for s in await db.scalars(select(Signing))}
            loaded = await ledger.load_log(db)
        assert [e.kind for e in entries] == ["signing", "signing"]
        first, last = (e.payload for e in entries)
        assert first["signatory"] == SIGNATORIES["chairman"][1]
        assert first["party"] == "Quang Ngai Provincial People's Committee"
        assert first["site"] == "Quang Ngai hall" and last["site"] == "Champasak hall"
        assert (first["auth_method"], last["auth_method"]) == ("password", "one-time code")
        assert {v["language"]: v["sha256"] for v in first["versions"]} == hashes
        assert last["versions"] == first["versions"]
        assert 90 <= first["recording_offset"] <= last["recording_offset"] < 400
        assert (first["complete"], last["complete"]) == (False, True)
        for entry in entries:
            row = signings[entry.position]
            assert entry.payload["client_commitment"] == commitment(
                row.ip, row.user_agent, row.nonce
            )
            assert "ip" not in entry.payload and row.ip in ("127.0.0.1", "::1")
        assert signings[entries[0].position].user_agent == UA["A"]
        pem = client.app[LEDGER_SIGNER].public_key_pem()
        assert ledger.verify(loaded, pem) == []

        # The certificate: HTML for the organiser (with the evidence), and as PDF.
        certificate = f"/conferences/{MOU}/agreements/{agreement_id}/certificate"
        html = await (await organiser.get(certificate)).text()
        for name in (SIGNATORIES["chairman"][1], SIGNATORIES["governor"][1]):
            assert name in html
        assert UA["A"] in html and signings[entries[0].position].nonce in html
        assert "/.well-known/concord-ledger-key.pem" in html and "concord ledger verify" in html
        as_site = await (await page_b.get(certificate)).text()
        assert SIGNATORIES["chairman"][1] in as_site and UA["A"] not in as_site
        pdf = await organiser.get(certificate + ".pdf")
        assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
        text = await asyncio.to_thread(
            subprocess.run,
            ["pdftotext", "-", "-"],
            input=await pdf.read(),
            capture_output=True,
            check=True,
        )
        words = " ".join(text.stdout.decode().split())
        for name in (SIGNATORIES["chairman"][1], SIGNATORIES["governor"][1]):
            assert name in words
        assert hashlib.sha256(b"").hexdigest() not in words
    finally:
        for site in sites.values():
            await site.close()
        await chair.close()
        await chair.client.session.close()
        for page, _ in pages.values():
            await page.close()
        await organiser.close()
