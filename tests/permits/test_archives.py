"""Zip bombs as permit attachments: a .docx that is small on the wire and huge unpacked is
refused, with the problem named and nothing written; an honest document still goes in."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from server.config import Config
from server.db import Database
from tests.permits.conftest import Client, People
from tests.permits.test_attachments import attachment_rows, draft, stored_files, upload

Entry = tuple[str, int, int, bytes]  # name, unpacked size, CRC-32, raw deflate stream
DOCX_PARTS = (
    ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
    ("_rels/.rels", b"<Relationships/>"),
    ("word/document.xml", b"<w:document/>"),
)


def deflated(data: bytes) -> Entry:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return ("", len(data), zlib.crc32(data), packer.compress(data) + packer.flush())


def zeros(name: str, size: int) -> Entry:
    """``size`` zero bytes deflated without holding them: 1 MiB blocks, each flushed to a byte
    boundary with a fresh window, compress to the same bytes, so the stream is one block
    repeated (about 1,000 times smaller than what it unpacks to)."""
    block = 1 << 20
    assert size % block == 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = packer.compress(bytes(block)) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // block):
        crc = zlib.crc32(bytes(block), crc)
    return (name, size, crc, one * (size // block) + packer.flush())


def zip_of(entries: list[Entry]) -> bytes:
    """A zip written field by field (PKWARE APPNOTE 4.3): local headers, data, central
    directory; sizes under 4 GiB, so no zip64."""
    local, central = bytearray(), bytearray()
    for name, size, crc, stream in entries:
        raw = name.encode()
        fields = (20, 0, 8, 0, 0x5C21, crc, len(stream), size, len(raw))
        central += struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIIIH", *fields)
        central += struct.pack("<HHHHII", 0, 0, 0, 0, 0, len(local)) + raw
        local += struct.pack("<I", 0x04034B50) + struct.pack("<HHHHHIIIH", *fields)
        local += struct.pack("<H", 0) + raw + stream
    count = len(entries)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(local), 0)
    return bytes(local + central + end)


def docx_with(*extra: Entry) -> bytes:
    parts = [(name, *deflated(text)[1:]) for name, text in DOCX_PARTS]
    return zip_of([*parts, *extra])


def the_bomb() -> bytes:
    """The issue's bomb: about 2 MB that unpack to 2 GiB (one entry of zeros)."""
    return docx_with(zeros("word/media/image1.png", 2048 << 20))


def many_small() -> bytes:
    """110 entries of 1 MiB each: no entry is large, the whole is 110 MiB unpacked."""
    return docx_with(*(zeros(f"word/media/image{n}.png", 1 << 20) for n in range(110)))


def crowded() -> bytes:
    """1,001 tiny entries."""
    return docx_with(*((f"customXml/item{n}.xml", *deflated(b"<x/>")[1:]) for n in range(1001)))


@pytest.mark.parametrize(
    ("build", "status", "code", "named"),
    [
        (the_bomb, 422, "archive_ratio", "word/media/image1.png unpacks 10"),
        (many_small, 413, "archive_too_large", "unpacks to 1153434"),
        (crowded, 422, "archive_entries", "holds 1004 files"),
    ],
)
async def test_a_zip_bomb_is_refused_before_anything_is_written(
    client: Client,
    people: People,
    config: Config,
    demo: Database,
    build: Callable[[], bytes],
    status: int,
    code: str,
    named: str,
) -> None:
    content = build()
    assert len(content) < config.permit_attachment_max_bytes, "small enough to be uploaded"
    one = await draft(client, people)
    response = await upload(client, people, one, "programme.docx", content)
    assert response.status == status, await response.text()
    problem: dict[str, Any] = await response.json()
    assert problem["code"] == code and named in problem["detail"], problem
    assert stored_files(config) == [] and await attachment_rows(demo) == 0


async def test_the_bomb_is_what_it_claims_and_an_honest_document_goes_in(
    client: Client, people: People, config: Config, demo: Database
) -> None:
    bomb = the_bomb()
    assert len(bomb) < 2_200_000
    # The bomb is a real archive: the standard library reads its parts and its zeros.
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.read("word/document.xml") == b"<w:document/>"
        assert sum(i.file_size for i in archive.infolist()) == 2048 << 20 | sum(
            len(text) for _, text in DOCX_PARTS
        )
        with archive.open("word/media/image1.png") as inside:
            assert inside.read(1 << 20) == bytes(1 << 20)
    # A 4 MB document of incompressible pictures unpacks to what it weighs: accepted.
    picture = os.urandom(4 << 20)
    honest = docx_with(("word/media/photo.jpeg", *deflated(picture)[1:]))
    one = await draft(client, people)
    response = await upload(client, people, one, "report.docx", honest)
    assert response.status == 201, await response.text()
    assert len(stored_files(config)) == 1 and await attachment_rows(demo) == 1
