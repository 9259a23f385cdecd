"""Agreements as the API and the pages show them."""

from __future__ import annotations

from typing import Any

from server.agreements.money import show, to_major
from server.models import Agreement


def agreement_out(agreement: Agreement, locale: str = "en") -> dict[str, Any]:
    amount = (
        str(to_major(agreement.amount_minor, agreement.currency))
        if agreement.amount_minor is not None and agreement.currency
        else None
    )
    return {
        "id": agreement.id,
        "conference_id": agreement.conference_id,
        "title": agreement.title,
        "kind": agreement.kind,
        "donor": agreement.donor,
        "programme": agreement.programme,
        "amount": amount,
        "amount_minor": agreement.amount_minor,
        "currency": agreement.currency,
        "amount_shown": show(agreement.amount_minor, agreement.currency, locale),
        "period_starts_on": _day(agreement.period_starts_on),
        "period_ends_on": _day(agreement.period_ends_on),
        "status": agreement.status,
        "parties": [
            {"id": p.id, "name": p.name, "delegation_id": p.delegation_id}
            for p in agreement.parties
        ],
        "versions": [
            {
                "id": v.id,
                "language": v.language,
                "file_name": v.file_name,
                "size": v.size,
                "sha256": v.sha256,
                "uploaded_at": v.uploaded_at.isoformat(),
            }
            for v in agreement.versions
        ],
        "signatories": [
            {
                "id": s.id,
                "party_id": s.party_id,
                "party": s.party.name,
                "user_id": s.user_id,
                "name": s.name,
                "position": s.position,
                "site_id": s.site_id,
                "signed_at": s.signing.at.isoformat() if s.signing else None,
                "auth_method": s.signing.auth_method if s.signing else None,
                "ledger_position": s.signing.ledger_position if s.signing else None,
            }
            for s in agreement.signatories
        ],
    }


def _day(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]
