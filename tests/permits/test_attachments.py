"""Attachments: only PDF, DOCX and images by their content, size limits, safe names, and who
may download them. Every refusal leaves nothing behind: no row, no file."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

from server.app import create_app
from server.config import Config
from server.db import Database
from server.models import PermitAttachment
from tests.conftest import ClientFactory
from tests.permits.conftest import (
    Client,
    People,
    application_body,
    docx_bytes,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
)

LIMIT = 4096


@pytest.fixture
async def small(aiohttp_client: ClientFactory, config: Config, demo: Database) -> Client:
    """The app with a 4 KiB attachment limit and a 16 KiB request limit."""
    tight = replace(config, permit_attachment_max_bytes=LIMIT, max_body_bytes=16 * 1024)
    return await aiohttp_client(create_app(tight))


async def draft(client: Client, people: People) -> str:
    response = await client.post(
        "/api/conferences/1/permits", json=application_body(), headers=people("organiser")
    )
    assert response.status == 201, await response.text()
    return f"/api/permits/{(await response.json())['id']}"


async def upload(
    client: Client, people: People, one: str, name: str, content: bytes, who: str = "organiser"
) -> Any:
    return await client.post(
        one + "/attachments",
        params={"name": name},
        data=io.BytesIO(content),  # not bytes: aiohttp warns of a raw body over 1 MiB
        headers={**people(who), "Content-Type": "application/octet-stream"},
    )


def stored_files(config: Config) -> list[Path]:
    root = config.data_dir / "permits"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def attachment_rows(database: Database) -> int:
    async with database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(PermitAttachment)) or 0)


async def test_accepted_kinds_are_stored_under_random_names(
    small: Client, people: People, config: Config, demo: Database
) -> None:
    one = await draft(small, people)
    for name, content, kind in (
        ("Công văn đề nghị.pdf", pdf_bytes(), "application/pdf"),
        (
            "programme.docx",
            docx_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("venue.PNG", png_bytes(), "image/png"),
        ("signing table.jpeg", jpeg_bytes(), "image/jpeg"),
    ):
        response = await upload(small, people, one, name, content)
        assert response.status == 201, await response.text()
        made = await response.json()
        assert (made["file_name"], made["content_type"], made["size"]) == (name, kind, len(content))
    files = stored_files(config)
    assert len(files) == 4
    assert all(re.fullmatch(r"[0-9a-f]{32}\.(pdf|docx|png|jpeg)", f.name) for f in files)
    assert {f.read_bytes() for f in files} == {pdf_bytes(), docx_bytes(), png_bytes(), jpeg_bytes()}

    detail = await (await small.get(one, headers=people("organiser"))).json()
    first = detail["attachments"][0]
    download = await small.get(f"{one}/attachments/{first['id']}", headers=people("organiser"))
    assert download.status == 200 and await download.read() == pdf_bytes()
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "filename*=UTF-8''C%C3%B4ng%20v%C4%83n" in download.headers["Content-Disposition"]

    # Approvers see drafts' files only once submitted; others never.
    path = f"{one}/attachments/{first['id']}"
    assert (await small.get(path, headers=people("approver"))).status == 403
    await small.post(one + "/submit", json={}, headers=people("organiser"))
    assert (await small.get(path, headers=people("approver"))).status == 200
    for who in ("other_organiser", "technician", "delegate"):
        assert (await small.get(path, headers=people(who))).status == 403
    # Submitted: the files are fixed.
    refused = await small.delete(path, headers=people("organiser"))
    assert refused.status == 409
    late = await upload(small, people, one, "more.pdf", pdf_bytes())
    assert late.status == 409 and await attachment_rows(demo) == 4


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("letter.pdf", b"<html><script>alert(1)</script></html>", 415, "attachment_type"),
        ("tool.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100, 415, "attachment_type"),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 60, 415, "attachment_type"),
        ("photo.pdf", png_bytes(), 415, "attachment_name_mismatch"),
        ("letter.exe", pdf_bytes(), 415, "attachment_name_mismatch"),
        ("empty.pdf", b"", 422, "empty_file"),
        ("big.pdf", pdf_bytes() + b"%" * LIMIT, 413, "attachment_too_large"),
        ("../../etc/passwd.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("..\\..\\boot.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("sub/dir.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("/abs.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("nul\x00.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("rtl\u202efdp.exe", pdf_bytes(), 422, "bad_file_name"),
        (".hidden.pdf", pdf_bytes(), 422, "bad_file_name"),
        ("..", pdf_bytes(), 422, "bad_file_name"),
        ("x" * 300 + ".pdf", pdf_bytes(), 422, "bad_file_name"),
    ],
)
async def test_refused_uploads_write_nothing(
    small: Client,
    people: People,
    config: Config,
    demo: Database,
    name: str,
    content: bytes,
    status: int,
    code: str,
) -> None:
    one = await draft(small, people)
    response = await upload(small, people, one, name, content)
    assert response.status == status, await response.text()
    problem = await response.json()
    assert problem["code"] == code and problem["detail"]
    assert stored_files(config) == [] and await attachment_rows(demo) == 0


async def test_upload_without_a_name_or_by_others(
    small: Client, people: People, config: Config, demo: Database
) -> None:
    one = await draft(small, people)
    nameless = await small.post(one + "/attachments", data=pdf_bytes(), headers=people("organiser"))
    assert nameless.status == 400
    for who in ("other_organiser", "approver", "technician"):
        assert (await upload(small, people, one, "a.pdf", pdf_bytes(), who)).status == 403
    assert stored_files(config) == [] and await attachment_rows(demo) == 0


async def test_the_browser_form_uploads_and_removes(
    small: Client, people: People, config: Config, demo: Database
) -> None:
    from tests.conftest import sign_in

    one = await draft(small, people)
    page = one.replace("/api", "")
    csrf = await sign_in(small, "organiser@concord.example")
    form = FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", png_bytes(), filename="map.png", content_type="application/pdf")
    sent = await small.post(page + "/attachments", data=form, allow_redirects=False)
    assert sent.status == 303, await sent.text()
    assert len(stored_files(config)) == 1

    # The client's content type is ignored; the content decides.
    fake = FormData()
    fake.add_field("csrf_token", csrf)
    fake.add_field(
        "file", b"#!/bin/sh\nrm -rf /\n", filename="notes.pdf", content_type="application/pdf"
    )
    refused = await small.post(page + "/attachments", data=fake)
    assert refused.status == 415
    assert "notes.pdf không phải là tệp PDF" in await refused.text()  # the reader's language
    # Bigger than the request limit: refused before the handler.
    huge = FormData()
    huge.add_field("csrf_token", csrf)
    huge.add_field("file", pdf_bytes() + b"%" * 20_000, filename="huge.pdf")
    assert (await small.post(page + "/attachments", data=huge)).status == 413
    assert len(stored_files(config)) == 1 and await attachment_rows(demo) == 1

    detail = await (await small.get(one)).json()
    attachment = detail["attachments"][0]["id"]
    removed = await small.post(
        f"{page}/attachments/{attachment}/remove", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert removed.status == 303
    assert stored_files(config) == [] and await attachment_rows(demo) == 0


async def test_the_browser_form_takes_attachments_larger_than_other_requests(
    aiohttp_client: ClientFactory, config: Config, people: People, demo: Database
) -> None:
    """Requests are limited to ``max_body_bytes``; the upload form to the attachment limit."""
    from tests.conftest import sign_in

    roomy = replace(config, permit_attachment_max_bytes=64 * 1024, max_body_bytes=16 * 1024)
    client = await aiohttp_client(create_app(roomy))
    page = (await draft(client, people)).replace("/api", "")
    csrf = await sign_in(client, "organiser@concord.example")
    letter = pdf_bytes() + b"%" * 40_000

    form = FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", letter, filename="letter.pdf")
    sent = await client.post(page + "/attachments", data=form, allow_redirects=False)
    assert sent.status == 303, await sent.text()
    assert len(stored_files(roomy)) == 1 and stored_files(roomy)[0].read_bytes() == letter
    # Other forms keep the ordinary limit.
    bulky = await client.post(page, data={"csrf_token": csrf, "content": "x" * 40_000})
    assert bulky.status == 413
    # Beyond the form's own limit, the refusal names it, and nothing is stored.
    form = FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", letter * 10, filename="huge.pdf")
    refused = await client.post(page + "/attachments", data=form)
    assert refused.status == 413
    assert str(roomy.upload_max_bytes) in await refused.text()
    assert len(stored_files(roomy)) == 1 and await attachment_rows(demo) == 1
