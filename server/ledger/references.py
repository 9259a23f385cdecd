"""Rows elsewhere that point into the ledger, checked against the entries they point at.

The ledger's own check (``recordings.ledger.verify``) proves the entries against the signed
heads, but cutting the tail together with its heads leaves a shorter log that proves itself.
The rest of the database still remembers what was attested: a signing row keeps its
position, a decided permit its decision. Each such reference must land on an entry that
exists, is covered by a signed head, and says what the row says.

What is compared per table (the fields that tie one row to one entry):

- ``agreement_signings``: kind ``signing``, ref ``agreement:<id>``, the agreement id, the
  client commitment (unique per signing) and the signing time;
- ``recording_files``: kind ``recording``, the recording id, size and SHA-256;
- ``minutes``: kind ``minutes_final``, the minutes id, revision and SHA-256;
- ``audit_log``: the signing and final-minutes actions record the position they appended
  (kind and, for signings, ref are compared);
- ``permit_applications`` (no position column: the entry is found by its ref
  ``permit:<id>``): an approved or rejected application must have a ``permit_decision``
  entry with its outcome and decision number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.ledger.verify import Finding, FindingKind
from server.models import (
    AuditEntry,
    LedgerEntry,
    MinutesDocument,
    PermitApplication,
    PermitStatus,
    RecordingFile,
    Signing,
)

DECIDED = (PermitStatus.APPROVED.value, PermitStatus.REJECTED.value)


@dataclass(frozen=True)
class _Claim:
    """One row's reference: where it is, the position it names, what the entry must say."""

    table: str
    row: int
    position: int
    kind: str
    ref: str | None
    payload: dict[str, Any]


def _instant(value: Any) -> dt.datetime | None:
    """A stored time or an ISO string as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _same(expected: Any, found: Any) -> bool:
    if isinstance(expected, dt.datetime):
        return _instant(found) == _instant(expected)
    return bool(expected == found)


def _mismatches(claim: _Claim, entry: LedgerEntry) -> list[str]:
    wrong = []
    if entry.kind != claim.kind:
        wrong.append(f"kind is {entry.kind!r}, not {claim.kind!r}")
    if claim.ref is not None and entry.ref != claim.ref:
        wrong.append(f"ref is {entry.ref!r}, not {claim.ref!r}")
    payload = entry.payload if isinstance(entry.payload, dict) else {}
    for name, expected in claim.payload.items():
        if not _same(expected, payload.get(name)):
            wrong.append(f"{name} is {payload.get(name)!r}, the row says {expected!r}")
    return wrong


async def _claims(db: AsyncSession) -> list[_Claim]:
    claims = [
        _Claim(
            "agreement_signings",
            row.id,
            row.ledger_position,
            "signing",
            f"agreement:{row.agreement_id}",
            {
                "agreement_id": row.agreement_id,
                "client_commitment": row.commitment,
                "signed_at": row.at,
            },
        )
        for row in await db.scalars(select(Signing).order_by(Signing.id))
    ]
    claims += [
        _Claim(
            "recording_files",
            row.id,
            row.ledger_position,
            "recording",
            None,
            {"recording_id": row.recording_id, "size": row.size, "sha256": row.sha256},
        )
        for row in await db.scalars(
            select(RecordingFile)
            .where(RecordingFile.ledger_position.is_not(None))
            .order_by(RecordingFile.id)
        )
        if row.ledger_position is not None
    ]
    claims += [
        _Claim(
            "minutes",
            row.id,
            row.ledger_position,
            "minutes_final",
            f"minutes:{row.conference_id}",
            {"minutes_id": row.id, "revision": row.revision, "sha256": row.digest},
        )
        for row in await db.scalars(
            select(MinutesDocument)
            .where(MinutesDocument.ledger_position.is_not(None))
            .order_by(MinutesDocument.id)
        )
        if row.ledger_position is not None
    ]
    return claims + await _audit_claims(db)


AUDITED = {
    "agreement.signed": ("ledger_position", "signing", "agreement"),
    "agreement.signing_imported": ("ledger", "signing", "agreement"),
    "minutes.final": ("ledger", "minutes_final", None),
}
"""Audit actions whose detail names the ledger position they appended: (key, kind, ref)."""


async def _audit_claims(db: AsyncSession) -> list[_Claim]:
    """The audit log remembers each position it appended: one more place to reconcile."""
    claims = []
    rows = await db.scalars(
        select(AuditEntry).where(AuditEntry.action.in_(AUDITED)).order_by(AuditEntry.id)
    )
    for row in rows:
        key, kind, ref = AUDITED[row.action]
        position = row.detail.get(key) if isinstance(row.detail, dict) else None
        if isinstance(position, int) and not isinstance(position, bool):
            shown = f"{ref}:{row.target_id}" if ref else None
            claims.append(_Claim("audit_log", row.id, position, kind, shown, {}))
    return claims


def _check_claims(
    claims: list[_Claim], entries: dict[int, LedgerEntry], end: int, signed: int
) -> Iterator[Finding]:
    for claim in claims:
        said = f"{claim.table} row {claim.row} points at ledger position {claim.position}"
        entry = entries.get(claim.position)
        if entry is None:
            why = (
                f"past the end of the log ({end} entries): the log's tail was cut"
                if claim.position >= end
                else "where there is no entry: it was deleted"
            )
            yield Finding(FindingKind.BROKEN_REFERENCE, f"{said}, {why}", entry=claim.position)
        elif claim.position >= signed:
            yield Finding(
                FindingKind.BROKEN_REFERENCE,
                f"{said}, past the latest signed tree head (size {signed}): its head was deleted",
                entry=claim.position,
            )
        elif wrong := _mismatches(claim, entry):
            yield Finding(
                FindingKind.BROKEN_REFERENCE,
                f"{said}, but that entry does not match the row: {'; '.join(wrong)}",
                entry=claim.position,
            )


async def _permit_findings(db: AsyncSession, entries: list[LedgerEntry]) -> list[Finding]:
    by_ref: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        if entry.kind == "permit_decision":
            by_ref.setdefault(entry.ref, []).append(entry)
    findings = []
    applications = await db.scalars(
        select(PermitApplication)
        .where(PermitApplication.status.in_(DECIDED))
        .order_by(PermitApplication.id)
    )
    for application in applications:
        claim = _Claim(
            "permit_applications",
            application.id,
            -1,
            "permit_decision",
            f"permit:{application.id}",
            {
                "application_id": application.id,
                "outcome": application.status,
                "decision_number": application.decision_number,
            },
        )
        candidates = by_ref.get(claim.ref or "", [])
        if not any(not _mismatches(claim, entry) for entry in candidates):
            shown = ", ".join(str(e.position) for e in candidates) or "none"
            findings.append(
                Finding(
                    FindingKind.BROKEN_REFERENCE,
                    f"permit_applications row {application.id} is {application.status} "
                    f"(decision {application.decision_number}), but no ledger entry attests "
                    f"that decision (entries with ref {claim.ref}: {shown})",
                    entry=candidates[-1].position if candidates else None,
                )
            )
    return findings


async def check_references(db: AsyncSession, signed: int) -> list[Finding]:
    """Every reference into the ledger that does not land on a matching entry.

    ``signed`` is the size of the latest signed tree head: an entry at or beyond it is not
    attested, even if its row is still there.
    """
    entries = list(await db.scalars(select(LedgerEntry).order_by(LedgerEntry.position)))
    by_position = {entry.position: entry for entry in entries}
    end = entries[-1].position + 1 if entries else 0
    findings = list(_check_claims(await _claims(db), by_position, end, signed))
    return findings + await _permit_findings(db, entries)


async def entry_for_permit(db: AsyncSession, application_id: int) -> LedgerEntry | None:
    """The latest ledger entry attesting a decision on ``application_id``, if any."""
    return await db.scalar(
        select(LedgerEntry)
        .where(
            LedgerEntry.kind == "permit_decision",
            LedgerEntry.ref == f"permit:{application_id}",
        )
        .order_by(LedgerEntry.position.desc())
        .limit(1)
    )
