"""What a signing leaves behind: its row (full evidence) and its public ledger entry.

Ledger entries are public (``/api/ledger/entries/{n}``), so a signing's entry carries what may
be known to anyone — the agreement's id and title, the SHA-256 of each language version, the
signatory's name and party, the site, the UTC time, how they re-authenticated and the offset
into the conference's recording — but not the signer's IP address and user agent. For those
it carries a *commitment*: the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8)
of ``{"ip": ..., "nonce": ..., "user_agent": ...}``, where ``nonce`` is 16 random bytes (hex)
kept only in the signing row. Without the nonce the commitment reveals nothing that could be
guessed (an IPv4 address alone could be found by trying them all); with it, the certificate
shown to authorised readers prints IP, user agent and nonce so anyone can recompute the
commitment and see that the signed ledger entry fixed them at the time of signing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import Agreement, Recording, Signatory

AUTH_METHODS = {
    "password": "password",
    "code": "one-time code",
    "imported": "imported",  # entered afterwards from the ceremony's own record
}


def new_nonce() -> str:
    return secrets.token_hex(16)


def client_document(ip: str, user_agent: str, nonce: str) -> bytes:
    """The canonical bytes the commitment hashes."""
    return json.dumps(
        {"ip": ip, "nonce": nonce, "user_agent": user_agent},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def commitment(ip: str, user_agent: str, nonce: str) -> str:
    return hashlib.sha256(client_document(ip, user_agent, nonce)).hexdigest()


async def recording_offset(db: AsyncSession, conference_id: int, now: dt.datetime) -> float | None:
    """Seconds since the conference's running recording started, or None if none runs."""
    running = await db.scalar(
        select(Recording)
        .where(Recording.conference_id == conference_id, Recording.status == "recording")
        .order_by(Recording.started_at.desc())
        .limit(1)
    )
    if running is None:
        return None
    return round(max(0.0, (now - running.started_at).total_seconds()), 3)


def version_hashes(agreement: Agreement) -> list[dict[str, Any]]:
    return [{"language": v.language, "sha256": v.sha256} for v in agreement.versions]


def ledger_payload(
    agreement: Agreement,
    signatory: Signatory,
    *,
    site: str | None,
    at: dt.datetime,
    method: str,
    offset: float | None,
    client_commitment: str,
    signed: int,
) -> dict[str, Any]:
    """The public entry of one signing. ``signed``/``signatories`` and ``complete`` make the
    last entry of an agreement show that every party has signed."""
    total = len(agreement.signatories)
    return {
        "agreement_id": agreement.id,
        "conference_id": agreement.conference_id,
        "title": agreement.title,
        "versions": version_hashes(agreement),
        "signatory": signatory.name,
        "party": signatory.party.name,
        "site": site,
        "signed_at": at.astimezone(dt.UTC).isoformat(),
        "auth_method": AUTH_METHODS[method],
        "recording_offset": offset,
        "client_commitment": client_commitment,
        "signed": signed,
        "signatories": total,
        "complete": signed == total,
    }
