"""Creating, opening and revoking invitations; each change is written to the audit log."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.accounts.secrets import digest, new_token
from server.errors import Gone, InvalidInput, NotFound
from server.i18n_strings import N_
from server.identity import GuestScope, Identity
from server.models import Invitation, LoginSession, Role, Site, utcnow
from server.signed_tokens import TokenSigner

PURPOSE = "invitation"
INVITABLE_ROLES = (Role.DELEGATE, Role.TECHNICIAN, Role.INTERPRETER)
MAX_HOURS = 24 * 90
DEFAULT_HOURS = 24 * 14  # two weeks: sent ahead, tried before the day


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    token: str


def invitation_token(signer: TokenSigner, invitation: Invitation) -> str:
    return signer.dumps(PURPOSE, [invitation.id, invitation.nonce])


async def create_invitation(
    db: AsyncSession,
    signer: TokenSigner,
    actor: Identity,
    *,
    conference_id: int,
    site_id: int,
    role: Role,
    valid_hours: int,
    label: str = "",
    remote: str = "",
) -> NewInvitation:
    if role not in INVITABLE_ROLES:
        allowed = ", ".join(r.value for r in INVITABLE_ROLES)
        raise InvalidInput(
            N_("invitations are for %(allowed)s, not %(role)s"),
            code="bad_role",
            params={"allowed": allowed, "role": role.value},
        )
    if not 1 <= valid_hours <= MAX_HOURS:
        raise InvalidInput(
            N_("an invitation is valid for 1 to %(hours)s hours"),
            code="bad_validity",
            params={"hours": str(MAX_HOURS)},
        )
    site = await db.get(Site, site_id)
    if site is None or site.conference_id != conference_id:
        raise InvalidInput(
            N_("conference %(conference)s has no site %(site)s"),
            code="bad_site",
            params={"conference": str(conference_id), "site": str(site_id)},
        )
    invitation = Invitation(
        conference_id=conference_id,
        site_id=site_id,
        role=role.value,
        label=label.strip() or f"{site.name} ({role.value})",
        nonce=secrets.token_hex(16),
        created_by_id=actor.user_id,
        expires_at=utcnow() + dt.timedelta(hours=valid_hours),
    )
    db.add(invitation)
    await db.flush()
    audit.record(
        db,
        actor,
        "invitation.created",
        "invitation",
        invitation.id,
        conference_id=conference_id,
        detail={
            "site_id": site_id,
            "role": role.value,
            "expires_at": invitation.expires_at.isoformat(),
        },
        remote=remote,
    )
    return NewInvitation(invitation, invitation_token(signer, invitation))


async def invite_every_site(
    db: AsyncSession, signer: TokenSigner, actor: Identity, conference_id: int, *, remote: str = ""
) -> list[NewInvitation]:
    """A delegate's link for each site of the conference that has no working one (not
    withdrawn, not expired), so that pressing it twice makes no duplicates."""
    sites = list(
        await db.scalars(select(Site).where(Site.conference_id == conference_id).order_by(Site.id))
    )
    if not sites:
        raise InvalidInput(N_("add a site first: links are made for sites"), code="no_sites")
    working = set(
        await db.scalars(
            select(Invitation.site_id).where(
                Invitation.conference_id == conference_id,
                Invitation.role == Role.DELEGATE.value,
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        )
    )
    return [
        await create_invitation(
            db,
            signer,
            actor,
            conference_id=conference_id,
            site_id=site.id,
            role=Role.DELEGATE,
            valid_hours=DEFAULT_HOURS,
            remote=remote,
        )
        for site in sites
        if site.id not in working
    ]


async def list_invitations(db: AsyncSession, conference_id: int) -> list[Invitation]:
    rows = await db.scalars(
        select(Invitation).where(Invitation.conference_id == conference_id).order_by(Invitation.id)
    )
    return list(rows)


async def revoke_invitation(
    db: AsyncSession, actor: Identity, conference_id: int, invitation_id: int, remote: str = ""
) -> Invitation:
    invitation = await db.get(Invitation, invitation_id)
    if invitation is None or invitation.conference_id != conference_id:
        raise NotFound(
            N_("conference %(conference)s has no invitation %(invitation)s"),
            code="invitation_not_found",
            params={"conference": str(conference_id), "invitation": str(invitation_id)},
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        await db.execute(delete(LoginSession).where(LoginSession.invitation_id == invitation.id))
        audit.record(
            db,
            actor,
            "invitation.revoked",
            "invitation",
            invitation.id,
            conference_id=conference_id,
            remote=remote,
        )
    return invitation


@dataclass(frozen=True)
class GuestSession:
    token: str
    invitation: Invitation


async def open_invitation(
    db: AsyncSession, signer: TokenSigner, token: str, *, hours: int, remote: str, user_agent: str
) -> GuestSession:
    """Check an invitation link and start a guest session with exactly its rights."""
    value = signer.loads(PURPOSE, token)
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise NotFound(
            N_("this invitation link is not valid; ask the organiser for a new one"),
            code="invitation_invalid",
        )
    invitation = await db.get(Invitation, value[0])
    if invitation is None or invitation.nonce != value[1]:
        raise NotFound(
            N_("this invitation link is not valid; ask the organiser for a new one"),
            code="invitation_invalid",
        )
    now = utcnow()
    if invitation.revoked_at is not None:
        raise Gone(N_("this invitation was withdrawn by the organiser"), code="invitation_revoked")
    if invitation.expires_at <= now:
        raise Gone(
            N_("this invitation has expired; ask the organiser for a new one"),
            code="invitation_expired",
        )
    invitation.last_used_at = now
    session_token = new_token()
    session = LoginSession(
        token_hash=digest(session_token),
        invitation_id=invitation.id,
        csrf_token=new_token(),
        expires_at=min(invitation.expires_at, now + dt.timedelta(hours=hours)),
        user_agent=user_agent[:300],
    )
    db.add(session)
    await db.flush()
    role = Role(invitation.role)
    scope = GuestScope(invitation.id, invitation.conference_id, invitation.site_id, role)
    guest = Identity(via="guest", roles=frozenset({role}), guest=scope)
    audit.record(
        db,
        guest,
        "invitation.opened",
        "invitation",
        invitation.id,
        conference_id=invitation.conference_id,
        remote=remote,
    )
    return GuestSession(session_token, invitation)
