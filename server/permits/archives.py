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
from server.i18n_strings import N_

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
            N_("%(file)s is not a readable zip archive (%(problem)s)"),
            code="archive_broken",
            params={"file": file_name, "problem": str(exc)},
        ) from None
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(
            N_("%(file)s holds %(count)s files; a document may hold at most %(limit)s"),
            code="archive_entries",
            params={"file": file_name, "count": str(len(entries)), "limit": str(MAX_ENTRIES)},
        )
    if sum(e.compress_size for e in entries) > len(content):
        raise InvalidInput(
            N_("%(file)s's entries claim more packed bytes than the file has"),
            code="archive_broken",
            params={"file": file_name},
        )
    unpacked = 0
    for entry in entries:
        if entry.compress_type not in METHODS:
            raise InvalidInput(
                N_(
                    "%(file)s: %(entry)s is compressed with method %(method)s;"
                    " only stored and deflated entries are accepted"
                ),
                code="archive_method",
                params={
                    "file": file_name,
                    "entry": entry.filename,
                    "method": str(entry.compress_type),
                },
            )
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise InvalidInput(
                N_(
                    "%(file)s: %(entry)s unpacks %(ratio)s times its packed size (%(packed)s to"
                    " %(unpacked)s bytes); at most %(limit)s times is accepted"
                ),
                code="archive_ratio",
                params={
                    "file": file_name,
                    "entry": entry.filename,
                    "ratio": f"{ratio:.0f}",
                    "packed": str(entry.compress_size),
                    "unpacked": str(entry.file_size),
                    "limit": str(MAX_RATIO),
                },
            )
        unpacked += entry.file_size
    if unpacked > MAX_UNPACKED_BYTES:
        raise PayloadTooLarge(
            N_(
                "%(file)s unpacks to %(size)s bytes; documents may unpack to at most %(limit)s"
                " bytes"
            ),
            code="archive_too_large",
            params={"file": file_name, "size": str(unpacked), "limit": str(MAX_UNPACKED_BYTES)},
        )
