"""The decision document: HTML from the template, and its PDF read back by pypdf."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.permits.conftest import Client, People, application_body

TITLE = "Signing of the cooperation MoU between Quang Ngai province"


async def decided(client: Client, people: People, outcome: str, comment: str) -> int:
    made = await client.post(
        "/api/conferences/1/permits", json=application_body(), headers=people("organiser")
    )
    application_id = int((await made.json())["id"])
    one = f"/api/permits/{application_id}"
    assert (
        await client.get(f"/permits/{application_id}/decision", headers=people("organiser"))
    ).status == 409
    await client.post(one + "/submit", json={}, headers=people("organiser"))
    done = await client.post(
        one + "/decision", json={"outcome": outcome, "comment": comment}, headers=people("approver")
    )
    assert done.status == 200, await done.text()
    return application_id


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


async def test_approval_decision_as_html_and_pdf(client: Client, people: People) -> None:
    application_id = await decided(client, people, "approve", "Report the outcome within 15 days.")
    html_response = await client.get(f"/permits/{application_id}/decision", headers=people("admin"))
    assert html_response.status == 200
    assert html_response.content_type == "text/html"
    html = await html_response.text()
    number = f"{application_id:04d}/"
    assert number in html and TITLE in html
    assert "on permission to hold an international conference" in html
    assert "Champasak Department of Foreign Affairs" in html and "Laos" in html
    assert "₫45,000,000" in html and "Report the outcome within 15 days." in html
    assert "Văn phòng UBND tỉnh" in html  # the approver signs
    assert f"/permits/{application_id}/decision" in html
    # In the reader's language: the demo organiser reads Vietnamese.
    vietnamese = await (
        await client.get(f"/permits/{application_id}/decision", headers=people("organiser"))
    ).text()
    assert 'lang="vi"' in vietnamese and "Lào" in vietnamese and "45.000.000" in vietnamese

    for path in (
        f"/permits/{application_id}/decision.pdf",
        f"/api/permits/{application_id}/decision.pdf",
    ):
        for who in ("organiser", "approver"):
            response = await client.get(path, headers=people(who))
            assert response.status == 200, await response.text()
            assert response.content_type == "application/pdf"
            body = await response.read()
            assert body.startswith(b"%PDF-")
            text = pdf_text(body)
            english = who == "approver"  # the organiser reads Vietnamese
            assert ("DECISION" if english else "QUYẾT ĐỊNH") in text.upper()
            assert f"{'No.' if english else 'Số:'} {application_id:04d}/" in text
            assert "Quang Ngai" in text and "Champasak" in text
            assert "Report the outcome within 15 days." in text
            assert "Văn phòng UBND tỉnh" in text
    for who in ("technician", "delegate", "other_organiser"):
        refused = await client.get(
            f"/api/permits/{application_id}/decision.pdf", headers=people(who)
        )
        assert refused.status == 403


async def test_rejection_decision_gives_the_reasons(client: Client, people: People) -> None:
    application_id = await decided(client, people, "reject", "The programme is missing.")
    response = await client.get(
        f"/api/permits/{application_id}/decision.pdf", headers=people("approver")
    )
    text = pdf_text(await response.read())
    assert "refusing permission" in text and "is refused" in text
    assert "Reasons:" in text and "The programme is missing." in text
