"""Signings that happened before Concord kept the record: entered afterwards from the
ceremony's own evidence (the signed paper, the meeting's recording).

They go through the same ledger entry and row as a live signing, with two honest differences:
the time is the ceremony's (not the entry's, which the ledger stamps itself), and the
authentication method says "imported", so no certificate reader mistakes them for a signatory
who re-authenticated in Concord. No IP address or user agent exists for them; the commitment is
made over empty values and a fresh nonce like any other, so the entry has the same shape.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from recordings.ledger.tree_head import TreeHeadSigner
from server import audit
from server.agreements import evidence
from server.agreements.register import TARGET, load
from server.conferences.access import require_conference_role
from server.errors import Conflict, InvalidInput
from server.i18n_strings import N_
from server.identity import Identity
from server.ledger.operations import append
from server.models import AgreementStatus, Role, Signing, Site

IMPORTED = "imported"


async def record_past_signing(
    db: AsyncSession,
    signer: TreeHeadSigner,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    signatory_id: int,
    at: dt.datetime,
) -> Signing:
    """Enter one signatory's signing at ``at`` (an organiser's act, audited as such)."""
    await require_conference_role(db, who, conference_id, frozenset({Role.ORGANISER}))
    if at.tzinfo is None:
        raise InvalidInput(N_("the signing time needs a time zone"), code="naive_time")
    agreement = await load(db, conference_id, agreement_id)
    if not agreement.versions:
        raise Conflict(N_("the agreement has no language version to sign"), code="no_versions")
    signatory = next((s for s in agreement.signatories if s.id == signatory_id), None)
    if signatory is None:
        raise InvalidInput(
            N_("agreement %(agreement)s has no signatory %(signatory)s"),
            code="bad_signatory",
            params={"agreement": str(agreement_id), "signatory": str(signatory_id)},
        )
    if signatory.signing is not None:
        raise Conflict(
            N_("%(name)s has already signed"),
            code="already_signed",
            params={"name": signatory.name},
        )
    site = await db.get(Site, signatory.site_id) if signatory.site_id is not None else None
    nonce = evidence.new_nonce()
    committed = evidence.commitment("", "", nonce)
    signed = 1 + sum(1 for s in agreement.signatories if s.signing is not None)
    payload = evidence.ledger_payload(
        agreement,
        signatory,
        site=site.name if site else None,
        at=at,
        method=IMPORTED,
        offset=None,
        client_commitment=committed,
        signed=signed,
    )
    entry = await append(db, signer, "signing", f"agreement:{agreement.id}", payload)
    signing = Signing(
        signatory_id=signatory.id,
        agreement_id=agreement.id,
        at=at,
        nonce=nonce,
        commitment=committed,
        auth_method=evidence.AUTH_METHODS[IMPORTED],
        recording_offset=None,
        version_hashes=evidence.version_hashes(agreement),
        ledger_position=entry.position,
    )
    db.add(signing)
    if agreement.status == AgreementStatus.DRAFT.value:
        agreement.status, agreement.opened_at = AgreementStatus.OPEN.value, at
    if payload["complete"]:
        agreement.status, agreement.completed_at = AgreementStatus.SIGNED.value, at
    await db.flush()
    audit.record(
        db,
        who,
        "agreement.signing_imported",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={"signatory_id": signatory.id, "at": at.isoformat(), "ledger": entry.position},
    )
    return signing
