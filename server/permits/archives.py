"""Zip-based attachments (Word's .docx; .xlsx and .odt are zips too) are measured before they
are accepted, from the archive's central directory alone: nothing is unpacked.

A zip bomb is small on the wire and huge once opened (2 MB of deflated zeros unpack to 2 GB):
it would exhaust the memory or disk of whoever opens it later, an approver's word processor
or an indexer. Refused, each with a code naming the problem:

- ``archive_broken`` (422): not a readable zip, or its entries claim more compressed bytes
  than the file holds;
- ``archive_method`` (422): an entry compressed otherwise than stored or deflated (the only
  methods Office and LibreOffice write; deflate cannot expand more than about 1,032 times);
- ``archive_entries`` (422): more than ``MAX_ENTRIES`` entries;
- ``archive_ratio`` (422): an entry of more than ``RATIO_FLOOR`` bytes that unpacks to more
  than ``MAX_RATIO`` times its packed size (documents' XML packs about 5 to 20 times);
- ``archive_too_large`` (413): more than ``MAX_UNPACKED_BYTES`` in all, once unpacked.
"""

from __future__ import annotations

import io
import zipfile

from server.errors import InvalidInput, PayloadTooLarge

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})


def is_archive(content: bytes) -> bool:
    return content.startswith(ZIP_MAGIC)


def check_archive(file_name: str, content: bytes) -> None:
    """Raise naming the problem if the zip in ``content`` unpacks to too much."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise InvalidInput(
            f"{file_name} is not a readable zip archive ({exc})", code="archive_broken"
        ) from None
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(
            f"{file_name} holds {len(entries)} files; a document may hold at most {MAX_ENTRIES}",
            code="archive_entries",
        )
    if sum(e.compress_size for e in entries) > len(content):
        raise InvalidInput(
            f"{file_name}'s entries claim more packed bytes than the file has",
            code="archive_broken",
        )
    unpacked = 0
    for entry in entries:
        if entry.compress_type not in METHODS:
            raise InvalidInput(
                f"{file_name}: {entry.filename} is compressed with method {entry.compress_type};"
                " only stored and deflated entries are accepted",
                code="archive_method",
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise InvalidInput(
                f"{file_name}: {entry.filename} unpacks {ratio:.0f} times its packed size"
                f" ({entry.compress_size} to {entry.file_size} bytes); at most {MAX_RATIO}"
                " times is accepted",
                code="archive_ratio",
            )
        unpacked += entry.file_size
    if unpacked > MAX_UNPACKED_BYTES:
        raise PayloadTooLarge(
            f"{file_name} unpacks to {unpacked} bytes; documents may unpack to at most"
            f" {MAX_UNPACKED_BYTES} bytes",
            code="archive_too_large",
        )
