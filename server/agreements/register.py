"""The agreement register: agreements, their parties, language versions and signatories.

Organisers and secretaries of the conference register and edit agreements; everything but
reading is refused once the signing is open. Language versions are PDFs checked by their
content (``server.permits.attachments``), kept under ``<data_dir>/agreements/<agreement>/``
with random names, and identified by their SHA-256, which every signing attests.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server import audit
from server.agreements.money import to_minor
from server.agreements.schemas import AgreementIn, AgreementPatch, SignatoryIn
from server.conferences.access import conference_roles, require_conference_role
from server.errors import Conflict, InvalidInput, NotFound, UnsupportedMediaType
from server.i18n_strings import N_
from server.identity import Identity
from server.models import (
    Agreement,
    AgreementParty,
    AgreementStatus,
    AgreementVersion,
    Delegation,
    Role,
    Signatory,
    Site,
    User,
)
from server.permits.attachments import clean_file_name, detect_type, discard

TARGET = "agreement"
EDITORS = frozenset({Role.ORGANISER, Role.SECRETARY})
LANGUAGE_PATTERN = "a language code such as vi, lo or en"


def storage_dir(data_dir: Path, agreement_id: int) -> Path:
    return data_dir / "agreements" / str(agreement_id)


async def load(db: AsyncSession, conference_id: int, agreement_id: int) -> Agreement:
    """The agreement with its parties, versions and signatories (and their signings)."""
    found = await db.scalar(
        select(Agreement)
        .where(Agreement.id == agreement_id, Agreement.conference_id == conference_id)
        .options(
            selectinload(Agreement.parties),
            selectinload(Agreement.versions),
            selectinload(Agreement.signatories),
        )
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(
            N_("conference %(conference)s has no agreement %(agreement)s"),
            code="agreement_not_found",
            params={"conference": str(conference_id), "agreement": str(agreement_id)},
        )
    return found


async def list_agreements(db: AsyncSession, conference_id: int) -> list[Agreement]:
    rows = await db.scalars(
        select(Agreement)
        .where(Agreement.conference_id == conference_id)
        .options(
            selectinload(Agreement.parties),
            selectinload(Agreement.versions),
            selectinload(Agreement.signatories),
        )
        .order_by(Agreement.id)
    )
    return list(rows)


#: What cannot change once the signing is open, each said in full (for the translators).
LOCKED = {
    "agreement": N_("The agreement cannot change once the signing has been opened."),
    "versions": N_("The language versions cannot change once the signing has been opened."),
    "signatories": N_("The signatories cannot change once the signing has been opened."),
}


def _draft(agreement: Agreement, what: str) -> None:
    if agreement.status != AgreementStatus.DRAFT.value:
        raise Conflict(LOCKED[what], code="agreement_not_draft")


async def _editor(db: AsyncSession, who: Identity, conference_id: int) -> None:
    await require_conference_role(db, who, conference_id, EDITORS)


def _terms(agreement: Agreement, body: AgreementIn | AgreementPatch) -> None:
    agreement.title, agreement.kind = body.title.strip(), body.kind
    agreement.donor, agreement.programme = body.donor.strip(), body.programme.strip()
    if body.amount is not None and body.currency is not None:
        agreement.amount_minor = to_minor(body.amount, body.currency)
        agreement.currency = body.currency
    else:
        agreement.amount_minor = agreement.currency = None
    agreement.period_starts_on, agreement.period_ends_on = (
        body.period_starts_on,
        body.period_ends_on,
    )


async def create(
    db: AsyncSession, who: Identity, conference_id: int, body: AgreementIn, *, remote: str = ""
) -> Agreement:
    await _editor(db, who, conference_id)
    delegations = {
        d.id: d
        for d in await db.scalars(
            select(Delegation).where(Delegation.conference_id == conference_id)
        )
    }
    names: set[str] = set()
    for party in body.parties:
        if party.delegation_id is not None and party.delegation_id not in delegations:
            raise InvalidInput(
                N_("conference %(conference)s has no delegation %(id)s"),
                code="bad_delegation",
                params={"conference": str(conference_id), "id": str(party.delegation_id)},
            )
        if party.name.strip().casefold() in names:
            raise InvalidInput(
                N_("the party “%(name)s” is listed twice"),
                code="duplicate_party",
                params={"name": party.name},
            )
        names.add(party.name.strip().casefold())
    agreement = Agreement(conference_id=conference_id, created_by_id=who.user_id)
    _terms(agreement, body)
    agreement.parties = [
        AgreementParty(name=p.name.strip(), delegation_id=p.delegation_id) for p in body.parties
    ]
    db.add(agreement)
    await db.flush()
    audit.record(
        db,
        who,
        "agreement.registered",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={"title": agreement.title, "kind": agreement.kind},
        remote=remote,
    )
    return agreement


async def edit(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    body: AgreementPatch,
    *,
    remote: str = "",
) -> Agreement:
    await _editor(db, who, conference_id)
    agreement = await load(db, conference_id, agreement_id)
    _draft(agreement, "agreement")
    _terms(agreement, body)
    audit.record(
        db,
        who,
        "agreement.edited",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail=body.model_dump(mode="json"),
        remote=remote,
    )
    return agreement


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as handle:
        handle.write(content)


async def upload_version(
    db: AsyncSession,
    data_dir: Path,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    language: str,
    file_name: str,
    content: bytes,
    *,
    limit: int,
    remote: str = "",
) -> tuple[AgreementVersion, Path | None]:
    """Check and store one language version (PDF only); an earlier file of the same language
    is replaced. Returns the version and the replaced file, to ``discard`` after commit."""
    language = language.strip()
    if not language or len(language) > 16 or not language.replace("-", "").isalnum():
        raise InvalidInput(
            N_("the language %(language)s is not %(pattern)s"),
            code="bad_language",
            params={"language": repr(language), "pattern": LANGUAGE_PATTERN},
        )
    name = clean_file_name(file_name)
    detected = detect_type(name, content, limit)
    if detected != "application/pdf":
        raise UnsupportedMediaType(
            N_(
                "%(file)s is not a PDF file (its content is %(detected)s); agreement versions are"
                " PDF only"
            ),
            code="agreement_not_pdf",
            params={"file": name, "detected": detected},
        )
    await _editor(db, who, conference_id)
    agreement = await load(db, conference_id, agreement_id)
    _draft(agreement, "versions")
    stored = secrets.token_hex(16) + ".pdf"
    path = storage_dir(data_dir, agreement.id) / stored
    await asyncio.to_thread(_write, path, content)
    replaced: Path | None = None
    try:
        version = next((v for v in agreement.versions if v.language == language), None)
        if version is None:
            version = AgreementVersion(language=language)
            agreement.versions.append(version)
        else:
            replaced = storage_dir(data_dir, agreement.id) / version.stored_name
        version.file_name, version.stored_name, version.size = name, stored, len(content)
        version.sha256 = hashlib.sha256(content).hexdigest()
        version.uploaded_by_id = who.user_id
        await db.flush()
        audit.record(
            db,
            who,
            "agreement.version_uploaded",
            TARGET,
            agreement.id,
            conference_id=conference_id,
            detail={"language": language, "name": name, "sha256": version.sha256},
            remote=remote,
        )
    except BaseException:
        discard(path)
        raise
    return version, replaced


async def version_file(
    db: AsyncSession, data_dir: Path, conference_id: int, agreement_id: int, version_id: int
) -> tuple[AgreementVersion, Path]:
    agreement = await load(db, conference_id, agreement_id)
    version = next((v for v in agreement.versions if v.id == version_id), None)
    if version is None:
        raise NotFound(
            N_("agreement %(agreement)s has no version %(version)s"),
            code="version_not_found",
            params={"agreement": str(agreement_id), "version": str(version_id)},
        )
    path = storage_dir(data_dir, agreement.id) / version.stored_name
    if not path.is_file():
        raise NotFound(
            N_("the file of version %(version)s is missing from storage"),
            code="version_missing",
            params={"version": str(version_id)},
        )
    return version, path


async def designate(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    body: SignatoryIn,
    *,
    remote: str = "",
) -> Signatory:
    """Name who signs for a party, and where. The account must have a part in the conference
    (it will re-authenticate with its own password or a code mailed to it)."""
    await _editor(db, who, conference_id)
    agreement = await load(db, conference_id, agreement_id)
    _draft(agreement, "signatories")
    party = next((p for p in agreement.parties if p.id == body.party_id), None)
    if party is None:
        raise InvalidInput(
            N_("agreement %(agreement)s has no party %(party)s"),
            code="bad_party",
            params={"agreement": str(agreement_id), "party": str(body.party_id)},
        )
    user = await db.scalar(select(User).where(User.email == body.email.strip().lower()))
    if user is None or not user.active:
        raise InvalidInput(
            N_("there is no active account “%(email)s”"),
            code="bad_signatory",
            params={"email": body.email},
        )
    signer = Identity(via="cookie", user_id=user.id, email=user.email, roles=user.role_names)
    if not await conference_roles(db, signer, conference_id):
        raise InvalidInput(
            N_("%(email)s has no part in this conference; add them as a member first"),
            code="signatory_not_participant",
            params={"email": user.email},
        )
    if any(s.user_id == user.id for s in agreement.signatories):
        raise Conflict(
            N_("%(email)s already signs this agreement"),
            code="duplicate_signatory",
            params={"email": user.email},
        )
    if body.site_id is not None:
        site = await db.get(Site, body.site_id)
        if site is None or site.conference_id != conference_id:
            raise InvalidInput(
                N_("conference %(conference)s has no site %(site)s"),
                code="bad_site",
                params={"conference": str(conference_id), "site": str(body.site_id)},
            )
    signatory = Signatory(
        party_id=party.id,
        user_id=user.id,
        site_id=body.site_id,
        name=body.name.strip() or user.display_name,
        position=body.position.strip(),
    )
    agreement.signatories.append(signatory)
    await db.flush()
    audit.record(
        db,
        who,
        "agreement.signatory_designated",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={"signatory_id": signatory.id, "user_id": user.id, "party": party.name},
        remote=remote,
    )
    return signatory
