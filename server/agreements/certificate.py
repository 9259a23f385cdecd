"""The signing certificate: every signing of an agreement with its ledger position, and how
anyone can verify it (the ledger's public key, the entry pages, ``concord ledger verify``, and
the recomputation of each client commitment)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.agreements import evidence
from server.agreements.present import agreement_out
from server.agreements.register import load
from server.conferences.access import conference_roles
from server.identity import Identity
from server.ledger.operations import entry_head, shown_head
from server.models import Conference, Role, Site

#: Who sees the IP addresses, user agents and nonces behind the commitments.
EVIDENCE_READERS = frozenset({Role.ORGANISER, Role.SECRETARY})


def offset_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


async def certificate_context(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    locale: str,
    public_url: str,
) -> dict[str, Any]:
    agreement = await load(db, conference_id, agreement_id)
    conference = await db.get(Conference, conference_id)
    assert conference is not None
    held = await conference_roles(db, who, conference_id)
    full = who.is_admin or bool(held & EVIDENCE_READERS)
    rows = await db.execute(select(Site.id, Site.name).where(Site.conference_id == conference_id))
    sites = {row.id: row.name for row in rows}
    entries = []
    for signatory in agreement.signatories:
        signing = signatory.signing
        if signing is None:
            continue
        head = await entry_head(db, signing.ledger_position)
        entry: dict[str, Any] = {
            "name": signatory.name,
            "position": signatory.position,
            "party": signatory.party.name,
            "site": sites.get(signatory.site_id or 0, ""),
            "at": signing.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "auth_method": signing.auth_method,
            "offset": offset_text(signing.recording_offset),
            "versions": signing.version_hashes,
            "ledger_position": signing.ledger_position,
            "ledger_url": f"{public_url}/ledger/{signing.ledger_position}",
            "commitment": signing.commitment,
            "head": shown_head(head) if head is not None else None,
        }
        if full:
            entry["ip"], entry["user_agent"], entry["nonce"] = (
                signing.ip,
                signing.user_agent,
                signing.nonce,
            )
            document = evidence.client_document(signing.ip, signing.user_agent, signing.nonce)
            entry["client_document"] = document.decode("utf-8")
        entries.append(entry)
    entries.sort(key=lambda e: e["ledger_position"])
    return {
        "agreement": agreement_out(agreement, locale),
        "conference_title": conference.title,
        "entries": entries,
        "unsigned": [s.name for s in agreement.signatories if s.signing is None],
        "full_evidence": full,
        "key_url": f"{public_url}/.well-known/concord-ledger-key.pem",
        "public_url": public_url,
    }
