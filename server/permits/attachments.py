"""Attachments of an application: PDF, Word (.docx) and images only, checked by their content.

The type is read from the file's magic bytes (libmagic), never from the client's header or the
name alone; the name must also carry the matching extension. A zip-based file (.docx) is
also measured from its central directory against zip bombs (``server.permits.archives``).
Files are stored under ``<data dir>/permits/<application>/`` with random names; the
uploader's name is kept only to offer the download under it. Everything is checked before
anything is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import unicodedata
from pathlib import Path, PurePath

import magic
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from server.i18n_strings import N_
from server.identity import Identity
from server.models import PermitApplication, PermitAttachment
from server.permits.archives import check_archive, is_archive
from server.permits.operations import (
    EDITABLE,
    TARGET,
    application_for_applicant,
    application_for_viewer,
)

# Detected type -> the extensions a file of that type may be named with.
ALLOWED: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/webp": (".webp",),
}
KINDS = "PDF, Word (.docx), PNG, JPEG or WebP"
MAX_ATTACHMENTS = 20
MAX_NAME = 200


def storage_dir(data_dir: Path, application_id: int) -> Path:
    return data_dir / "permits" / str(application_id)


def clean_file_name(name: str) -> str:
    """The uploader's file name, refused if it tries to be a path or hides characters."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise InvalidInput(N_("the file has no name"), code="bad_file_name")
    if len(name) > MAX_NAME:
        raise InvalidInput(
            N_("the file name is longer than %(limit)s characters"),
            code="bad_file_name",
            params={"limit": str(MAX_NAME)},
        )
    if any(c in "/\\" for c in name) or any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidInput(
            N_("the file name “%(name)s” must be a plain name: no folders, no control characters"),
            code="bad_file_name",
            params={"name": name},
        )
    if name.startswith(".") or PurePath(name).name != name:
        raise InvalidInput(
            N_("the file name “%(name)s” must not start with a dot"),
            code="bad_file_name",
            params={"name": name},
        )
    return name


def detect_type(file_name: str, content: bytes, limit: int) -> str:
    """The content type of an acceptable file; raises naming the problem otherwise."""
    if not content:
        raise InvalidInput(N_("%(file)s is empty"), code="empty_file", params={"file": file_name})
    if len(content) > limit:
        raise PayloadTooLarge(
            N_("%(file)s is %(size)s bytes; attachments may be up to %(limit)s bytes"),
            code="attachment_too_large",
            params={"file": file_name, "size": str(len(content)), "limit": str(limit)},
        )
    detected = magic.from_buffer(content, mime=True)
    extensions = ALLOWED.get(detected)
    if extensions is None:
        raise UnsupportedMediaType(
            N_("%(file)s is not a %(kinds)s file (its content is %(detected)s)"),
            code="attachment_type",
            params={"file": file_name, "kinds": KINDS, "detected": detected},
        )
    if PurePath(file_name).suffix.lower() not in extensions:
        raise UnsupportedMediaType(
            N_("%(file)s contains %(detected)s; name it with %(extensions)s"),
            code="attachment_name_mismatch",
            params={"file": file_name, "detected": detected, "extensions": " / ".join(extensions)},
        )
    if is_archive(content):  # .docx (and any zip-based kind): measured before it is kept
        check_archive(file_name, content)
    return detected


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:  # never overwrite: names are random and new
        handle.write(content)


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)


async def add_attachment(
    db: AsyncSession,
    data_dir: Path,
    who: Identity,
    application_id: int,
    file_name: str,
    content: bytes,
    *,
    limit: int,
    remote: str = "",
) -> PermitAttachment:
    """Check, store and record one file. If the caller's transaction fails after this, the
    stored file is left without a row (harmless: it is never served)."""
    name = clean_file_name(file_name)
    content_type = detect_type(name, content, limit)
    application = await application_for_applicant(db, who, application_id, lock=True)
    _editable(application)
    if len(application.attachments) >= MAX_ATTACHMENTS:
        raise Conflict(
            N_("an application has at most %(limit)s attachments; remove one first"),
            code="too_many_attachments",
            params={"limit": str(MAX_ATTACHMENTS)},
        )
    stored = secrets.token_hex(16) + PurePath(name).suffix.lower()
    path = storage_dir(data_dir, application.id) / stored
    await asyncio.to_thread(_write, path, content)
    try:
        attachment = PermitAttachment(
            file_name=name,
            stored_name=stored,
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by_id=who.user_id,
        )
        application.attachments.append(attachment)
        await db.flush()
        audit.record(
            db,
            who,
            "permit.attachment_added",
            TARGET,
            application.id,
            conference_id=application.conference_id,
            detail={"attachment_id": attachment.id, "name": name, "size": len(content)},
            remote=remote,
        )
    except BaseException:
        discard(path)
        raise
    return attachment


def _editable(application: PermitApplication) -> None:
    if application.status not in EDITABLE:
        raise Conflict(
            N_(
                "attachments can change only while the application is a draft or sent back for"
                " changes; it is %(status)s"
            ),
            code="wrong_status",
            params={"status": application.status},
        )


def _find(application: PermitApplication, attachment_id: int) -> PermitAttachment:
    for attachment in application.attachments:
        if attachment.id == attachment_id:
            return attachment
    raise NotFound(
        N_("permit application %(application)s has no attachment %(attachment)s"),
        code="attachment_not_found",
        params={"application": str(application.id), "attachment": str(attachment_id)},
    )


async def remove_attachment(
    db: AsyncSession,
    data_dir: Path,
    who: Identity,
    application_id: int,
    attachment_id: int,
    *,
    remote: str = "",
) -> Path:
    """Remove the row; returns the file to ``discard`` once the transaction has committed."""
    application = await application_for_applicant(db, who, application_id, lock=True)
    attachment = _find(application, attachment_id)
    _editable(application)
    application.attachments.remove(attachment)
    audit.record(
        db,
        who,
        "permit.attachment_removed",
        TARGET,
        application.id,
        conference_id=application.conference_id,
        detail={"attachment_id": attachment_id, "name": attachment.file_name},
        remote=remote,
    )
    return storage_dir(data_dir, application.id) / attachment.stored_name


async def attachment_file(
    db: AsyncSession, data_dir: Path, who: Identity, application_id: int, attachment_id: int
) -> tuple[PermitAttachment, Path]:
    """An attachment and its file, for the applicant's side and approvers only."""
    application = await application_for_viewer(db, who, application_id)
    attachment = _find(application, attachment_id)
    path = storage_dir(data_dir, application.id) / attachment.stored_name
    if not path.is_file():
        raise NotFound(
            N_("the file of attachment %(attachment)s is missing from storage"),
            code="attachment_missing",
            params={"attachment": str(attachment_id)},
        )
    return attachment, path
