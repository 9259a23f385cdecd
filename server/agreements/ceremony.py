"""The signing ceremony: the chair opens it in the live room, each signatory re-authenticates
and signs, and the agreement is signed when every signatory has.

A failed re-authentication appends nothing: it counts towards the signatory's own strict
limit (``ReauthenticationLimit``, apart from the sign-in throttle), spends one attempt of a
one-time code, and is audited.
A successful one appends the ledger entry (``server.agreements.evidence``) in the same
transaction as the signing row, so either both are committed or neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from recordings.ledger.tree_head import TreeHeadSigner
from server import audit
from server.accounts.passwords import Passwords
from server.accounts.throttle import ReauthenticationLimit
from server.agreements import evidence
from server.agreements.register import TARGET, load
from server.agreements.schemas import SignatoryOut, SignIn, SigningState, VersionOut
from server.conferences.access import conference_roles, require_conference_role
from server.errors import Conflict, DomainError, Forbidden, NotFound
from server.i18n_strings import N_
from server.identity import Identity
from server.ledger.operations import append
from server.models import (
    Agreement,
    AgreementStatus,
    OneTimeCode,
    Role,
    Signatory,
    Signing,
    Site,
    User,
    utcnow,
)

CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_INTERVAL = dt.timedelta(seconds=20)  # between two codes for one signatory
AT_ANY_SITE = frozenset({Role.ORGANISER, Role.TECHNICIAN})
SHOWN_AFTER_COMPLETION = dt.timedelta(hours=12)


async def signing_state(db: AsyncSession, agreement: Agreement) -> SigningState:
    """The ``signing.state`` payload (docs/signalling.md, "Signing")."""
    rows = await db.execute(
        select(Site.id, Site.name).where(Site.conference_id == agreement.conference_id)
    )
    sites = {row.id: row.name for row in rows}
    people = [
        SignatoryOut(
            signatory_id=s.id,
            name=s.name,
            position=s.position,
            party=s.party.name,
            site_id=s.site_id,
            site=sites.get(s.site_id) if s.site_id is not None else None,
            signed=s.signing is not None,
            signed_at=s.signing.at.isoformat() if s.signing else None,
        )
        for s in agreement.signatories
    ]
    return SigningState(
        agreement_id=agreement.id,
        conference_id=agreement.conference_id,
        title=agreement.title,
        status=agreement.status,
        versions=[
            VersionOut(language=v.language, sha256=v.sha256, size=v.size)
            for v in agreement.versions
        ],
        signatories=people,
        signed=sum(1 for p in people if p.signed),
        total=len(people),
        complete=agreement.status == AgreementStatus.SIGNED.value,
    )


async def open_states(db: AsyncSession, conference_id: int) -> list[SigningState]:
    """What a member joining the room is shown: every signing going on, and those completed
    in the last ``SHOWN_AFTER_COMPLETION`` (the day's ceremonies, not the archive's)."""
    recent = utcnow() - SHOWN_AFTER_COMPLETION
    ids = await db.scalars(
        select(Agreement.id)
        .where(
            Agreement.conference_id == conference_id,
            (Agreement.status == AgreementStatus.OPEN.value)
            | (
                (Agreement.status == AgreementStatus.SIGNED.value)
                & (Agreement.completed_at >= recent)
            ),
        )
        .order_by(Agreement.id)
    )
    return [await signing_state(db, await load(db, conference_id, i)) for i in list(ids)]


async def open_signing(
    db: AsyncSession,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    *,
    room_live: bool,
    remote: str = "",
) -> Agreement:
    """The chair (an organiser of the conference) opens the signing while the room is live."""
    await require_conference_role(db, who, conference_id, frozenset({Role.ORGANISER}))
    agreement = await load(db, conference_id, agreement_id)
    if agreement.status != AgreementStatus.DRAFT.value:
        raise Conflict(
            N_("the signing of agreement %(agreement)s was already opened (%(status)s)"),
            code="signing_already_open",
            params={"agreement": str(agreement_id), "status": agreement.status},
        )
    if not room_live:
        raise Conflict(
            N_("the signing opens in the live room; the conference's room is not open"),
            code="room_not_live",
        )
    if not agreement.versions:
        raise Conflict(
            N_("upload at least one language version (PDF) before opening the signing"),
            code="no_versions",
        )
    bare = [
        p.name for p in agreement.parties if all(s.party_id != p.id for s in agreement.signatories)
    ]
    if bare:
        raise Conflict(
            N_("these parties have no signatory yet: %(parties)s"),
            code="party_without_signatory",
            params={"parties": ", ".join(bare)},
        )
    agreement.status, agreement.opened_at = AgreementStatus.OPEN.value, utcnow()
    audit.record(
        db,
        who,
        "agreement.signing_opened",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={"versions": evidence.version_hashes(agreement)},
        remote=remote,
    )
    return agreement


async def _lock(db: AsyncSession, agreement_id: int) -> None:
    """Serialise signings of one agreement, so exactly one of them completes it."""
    if db.get_bind().dialect.name == "postgresql":
        await db.execute(select(Agreement.id).where(Agreement.id == agreement_id).with_for_update())
    else:
        await db.execute(
            update(Agreement).where(Agreement.id == agreement_id).values(status=Agreement.status)
        )


async def _signatory(
    db: AsyncSession, who: Identity, conference_id: int, agreement_id: int, signatory_id: int
) -> tuple[Agreement, Signatory, User]:
    agreement = await load(db, conference_id, agreement_id)
    signatory = next((s for s in agreement.signatories if s.id == signatory_id), None)
    if signatory is None:
        raise NotFound(
            N_("agreement %(agreement)s has no signatory %(signatory)s"),
            code="signatory_not_found",
            params={"agreement": str(agreement_id), "signatory": str(signatory_id)},
        )
    if agreement.status != AgreementStatus.OPEN.value:
        raise Conflict(
            N_("the signing of agreement %(agreement)s is not open (it is %(status)s)"),
            code="signing_not_open",
            params={"agreement": str(agreement_id), "status": agreement.status},
        )
    if signatory.signing is not None:
        raise Conflict(
            N_("%(name)s has already signed"),
            code="already_signed",
            params={"name": signatory.name},
        )
    at_site = who.guest is not None and who.guest.site_id == signatory.site_id
    held = await conference_roles(db, who, conference_id)
    if not (who.user_id == signatory.user_id or at_site or held & AT_ANY_SITE):
        raise Forbidden(
            N_("%(name)s signs as themselves or from their site's page"),
            code="not_the_signatory",
            params={"name": signatory.name},
        )
    user = await db.get(User, signatory.user_id)
    assert user is not None  # the foreign key cascades
    return agreement, signatory, user


def code_hash(secret_key: str, signatory_id: int, code: str) -> str:
    message = f"agreement-code:{signatory_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


async def new_code(
    db: AsyncSession,
    secret_key: str,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    signatory_id: int,
    *,
    remote: str = "",
) -> tuple[str, User, Agreement]:
    """A fresh 6-digit code for the signatory (stored as an HMAC); the caller mails it."""
    agreement, signatory, user = await _signatory(
        db, who, conference_id, agreement_id, signatory_id
    )
    now = utcnow()
    last = await db.scalar(
        select(OneTimeCode.created_at)
        .where(OneTimeCode.signatory_id == signatory.id)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if last is not None and now - last < CODE_INTERVAL:
        raise Conflict(
            N_("a code was sent a moment ago; wait 20 seconds before asking for another"),
            code="code_just_sent",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    db.add(
        OneTimeCode(
            signatory_id=signatory.id,
            code_hash=code_hash(secret_key, signatory.id, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    audit.record(
        db,
        who,
        "agreement.code_sent",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={"signatory_id": signatory.id},
        remote=remote,
    )
    return code, user, agreement


@dataclass
class SigningOutcome:
    """A signing, or why the re-authentication failed (the caller commits, then raises)."""

    state: SigningState
    signing: Signing | None = None
    refused: DomainError | None = None


@dataclass(frozen=True)
class Checks:
    """What re-authentication needs from the application."""

    passwords: Passwords
    throttle: ReauthenticationLimit
    secret_key: str
    signer: TreeHeadSigner


#: How each refusal of a signatory's password or code begins (the audit log keeps the rest).
REAUTH_FAILED = "re-authentication failed: "


async def _code_problem(
    db: AsyncSession, checks: Checks, signatory: Signatory, code: str, now: dt.datetime
) -> tuple[str, dict[str, str]] | None:
    """Why the code is refused: an ``N_`` template and its values; None if it is right."""
    found = await db.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.signatory_id == signatory.id, OneTimeCode.used_at.is_(None))
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if found is None:
        return N_("re-authentication failed: no code was sent; ask for one first"), {}
    if found.expires_at < now:
        return N_("re-authentication failed: the code has expired; ask for a new one"), {}
    if found.attempts >= CODE_ATTEMPTS:
        return N_(
            "re-authentication failed: the code was tried too many times; ask for a new one"
        ), {}
    expected = code_hash(checks.secret_key, signatory.id, code.strip())
    if not hmac.compare_digest(found.code_hash, expected):
        found.attempts += 1
        left = CODE_ATTEMPTS - found.attempts
        return N_("re-authentication failed: the code is wrong (%(left)s attempts left)"), {
            "left": str(left)
        }
    found.used_at = now
    return None


async def sign(
    db: AsyncSession,
    checks: Checks,
    who: Identity,
    conference_id: int,
    agreement_id: int,
    signatory_id: int,
    body: SignIn,
    *,
    ip: str,
    user_agent: str,
) -> SigningOutcome:
    await _lock(db, agreement_id)
    agreement, signatory, user = await _signatory(
        db, who, conference_id, agreement_id, signatory_id
    )
    limit_key = f"user:{user.id}"  # per signatory, whatever the agreement or address
    checks.throttle.check(limit_key)
    now = utcnow()
    problem: tuple[str, dict[str, str]] | None
    if body.method == "password":
        ok = checks.passwords.verify(user.password_hash, body.secret)
        problem = None if ok else (N_("re-authentication failed: the password is wrong"), {})
    else:
        problem = await _code_problem(db, checks, signatory, body.secret, now)
    if problem is not None:
        checks.throttle.failed(limit_key)
        audit.record(
            db,
            who,
            "agreement.signing_refused",
            TARGET,
            agreement.id,
            conference_id=conference_id,
            detail={
                "signatory_id": signatory.id,
                "method": body.method,
                "reason": (problem[0] % problem[1]).removeprefix(REAUTH_FAILED),
            },
            remote=ip,
        )
        refused = Forbidden(problem[0], code="reauthentication_failed", params=problem[1])
        return SigningOutcome(await signing_state(db, agreement), refused=refused)
    checks.throttle.succeeded(limit_key)
    site = await db.get(Site, signatory.site_id) if signatory.site_id is not None else None
    nonce = evidence.new_nonce()
    committed = evidence.commitment(ip, user_agent, nonce)
    offset = await evidence.recording_offset(db, conference_id, now)
    signed = 1 + sum(1 for s in agreement.signatories if s.signing is not None)
    payload = evidence.ledger_payload(
        agreement,
        signatory,
        site=site.name if site else None,
        at=now,
        method=body.method,
        offset=offset,
        client_commitment=committed,
        signed=signed,
    )
    entry = await append(db, checks.signer, "signing", f"agreement:{agreement.id}", payload)
    signing = Signing(
        signatory_id=signatory.id,
        agreement_id=agreement.id,
        at=now,
        ip=ip[:64],
        user_agent=user_agent[:500],
        nonce=nonce,
        commitment=committed,
        auth_method=evidence.AUTH_METHODS[body.method],
        recording_offset=offset,
        version_hashes=evidence.version_hashes(agreement),
        ledger_position=entry.position,
    )
    db.add(signing)
    if payload["complete"]:
        agreement.status, agreement.completed_at = AgreementStatus.SIGNED.value, now
    await db.flush()
    audit.record(
        db,
        who,
        "agreement.signed",
        TARGET,
        agreement.id,
        conference_id=conference_id,
        detail={
            "signatory_id": signatory.id,
            "method": body.method,
            "ledger_position": entry.position,
            "complete": payload["complete"],
        },
        remote=ip,
    )
    fresh = await load(db, conference_id, agreement_id)
    return SigningOutcome(await signing_state(db, fresh), signing=signing)
