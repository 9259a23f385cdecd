"""Changes to accounts. Each one validates, writes, and records itself in the audit log."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from zoneinfo import available_timezones

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.accounts.passwords import Passwords, password_problem
from server.accounts.personal_secrets import Made, Secrets
from server.accounts.secrets import digest, new_token
from server.accounts.throttle import LoginThrottle
from server.errors import Conflict, InvalidInput, NotFound, Unauthorized
from server.i18n import LOCALES
from server.i18n_strings import N_
from server.identity import Identity
from server.models import ApiToken, LoginSession, Role, User, UserRole, utcnow
from server.time_zones import canonical, find_zone

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
API_TOKEN_PREFIX = "cnc_"


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise InvalidInput(
            N_("“%(email)s” is not an e-mail address"),
            code="invalid_email",
            params={"email": email},
        )
    return email


async def create_user(
    db: AsyncSession,
    passwords: Passwords,
    actor: Identity | None,
    *,
    email: str,
    roles: list[Role],
    password: str | None,
    display_name: str = "",
    locale: str = "en",
    remote: str = "",
) -> User:
    email = normalise_email(email)
    if not roles:
        raise InvalidInput(N_("a user needs at least one role"), code="no_role")
    if locale not in LOCALES:
        raise InvalidInput(
            N_("unknown language %(locale)s"),
            code="invalid_locale",
            params={"locale": repr(locale)},
        )
    if password is not None and (problem := password_problem(password)):
        raise InvalidInput(problem, code="weak_password")
    taken = await db.scalar(select(func.count()).select_from(User).where(User.email == email))
    if taken:
        raise Conflict(
            N_("a user with e-mail %(email)s already exists"),
            code="email_taken",
            params={"email": email},
        )
    user = User(
        email=email,
        display_name=display_name.strip() or email.split("@")[0],
        password_hash=passwords.hash(password) if password else None,
        locale=locale,
        roles=[UserRole(role=r.value) for r in sorted(set(roles))],
    )
    db.add(user)
    await db.flush()
    audit.record(
        db,
        actor,
        "user.created",
        "user",
        user.id,
        detail={"email": email, "roles": sorted(r.value for r in roles)},
        remote=remote,
    )
    return user


@dataclass(frozen=True)
class SignedIn:
    token: str
    session: LoginSession
    user: User


async def sign_in(
    db: AsyncSession,
    passwords: Passwords,
    throttle: LoginThrottle,
    *,
    email: str,
    password: str,
    remote: str,
    user_agent: str,
    hours: int,
    device: str | None = None,
) -> SignedIn:
    """Check the password and open a login session. ``device`` identifies the browser when it
    carries a valid device cookie for this account (``server.accounts.devices``): the throttle
    then counts its failures apart from everyone else's."""
    email = email.strip().lower()
    throttle.check(email, remote, device)
    user = await db.scalar(select(User).where(User.email == email))
    ok = passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        throttle.failed(email, remote, device)
        raise Unauthorized(N_("wrong e-mail or password"), code="bad_credentials")
    throttle.succeeded(email, remote, device)
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    token = new_token()
    session = LoginSession(
        token_hash=digest(token),
        user_id=user.id,
        csrf_token=new_token(),
        expires_at=utcnow() + dt.timedelta(hours=hours),
        user_agent=user_agent[:300],
    )
    db.add(session)
    await db.flush()
    actor = Identity(via="cookie", user_id=user.id, email=user.email)
    audit.record(db, actor, "user.signed_in", "login_session", session.id, remote=remote)
    return SignedIn(token, session, user)


async def sign_out(db: AsyncSession, actor: Identity, remote: str = "") -> None:
    if actor.session_id is None:
        return
    session = await db.get(LoginSession, actor.session_id)
    if session is not None:
        await db.delete(session)
        audit.record(db, actor, "user.signed_out", "login_session", actor.session_id, remote=remote)


async def update_profile(
    db: AsyncSession, actor: Identity, *, locale: str | None = None, time_zone: str | None = None
) -> dict[str, str]:
    """Change the caller's language and/or time zone; returns what changed."""
    if actor.user_id is None:
        raise InvalidInput(N_("guests choose their language in the browser"), code="guest")
    changes: dict[str, str] = {}
    if locale is not None:
        if locale not in LOCALES:
            raise InvalidInput(
                N_("unknown language %(locale)s; choose one of %(locales)s"),
                code="invalid_locale",
                params={"locale": repr(locale), "locales": ", ".join(LOCALES)},
            )
        changes["locale"] = locale
    if time_zone is not None:
        # An IANA name, else a city or country typed ("Hanoi", "Viêng Chăn") naming one zone.
        zone = canonical(time_zone) or (time_zone if time_zone in available_timezones() else None)
        zone = zone or find_zone(time_zone, "en", utcnow())
        if zone is None:
            raise InvalidInput(
                N_("choose your time zone from the list (by city, country or UTC offset)"),
                code="invalid_time_zone",
            )
        changes["time_zone"] = zone
    if not changes:
        raise InvalidInput(N_("nothing to change: give locale and/or time_zone"), code="empty")
    chosen = {"time_zone_chosen": True} if "time_zone" in changes else {}
    await db.execute(update(User).where(User.id == actor.user_id).values(**changes, **chosen))
    audit.record(db, actor, "user.profile_changed", "user", actor.user_id, detail=changes)
    return changes


API_TOKENS = Secrets(
    ApiToken,
    "api_token",
    API_TOKEN_PREFIX,
    unnamed=N_("give the API token a name of 1 to %(max)s characters"),
    missing=N_("you have no API token %(id)s"),
)


async def create_api_token(
    db: AsyncSession, actor: Identity, name: str, remote: str = ""
) -> Made[ApiToken]:
    return await API_TOKENS.create(db, actor, name, remote)


async def list_api_tokens(db: AsyncSession, actor: Identity) -> list[ApiToken]:
    return await API_TOKENS.owned(db, actor)


async def revoke_api_token(
    db: AsyncSession, actor: Identity, token_id: int, remote: str = ""
) -> ApiToken:
    return await API_TOKENS.revoke(db, actor, token_id, "token_not_found", remote)


async def update_user(
    db: AsyncSession,
    actor: Identity,
    user_id: int,
    *,
    active: bool | None = None,
    roles: list[Role] | None = None,
    remote: str = "",
) -> User:
    """Disable or enable an account, or replace its roles (admin). Admins cannot disable
    themselves or take their own admin role away: someone must be left to undo it."""
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(
            N_("there is no user %(id)s"), code="user_not_found", params={"id": str(user_id)}
        )
    if active is None and roles is None:
        raise InvalidInput(N_("nothing to change: give active and/or roles"), code="empty")
    if roles is not None and not roles:
        raise InvalidInput(N_("a user needs at least one role"), code="no_role")
    if user.id == actor.user_id and (
        active is False or (roles is not None and Role.ADMIN not in roles)
    ):
        raise Conflict(
            N_("you cannot disable yourself or take away your own admin role"),
            code="own_account",
        )
    detail: dict[str, object] = {}
    if active is not None and active != user.active:
        user.active = active
        detail["active"] = active
    if roles is not None and set(roles) != user.role_names:
        # Remove and add row by row: replacing the list would insert a kept role again
        # before deleting it, against the (user, role) unique constraint.
        for row in [r for r in user.roles if Role(r.role) not in roles]:
            user.roles.remove(row)
        await db.flush()
        user.roles.extend(UserRole(role=r.value) for r in sorted(set(roles) - user.role_names))
        detail["roles"] = sorted(r.value for r in set(roles))
    if detail:
        await db.flush()
        audit.record(db, actor, "user.changed", "user", user.id, detail=detail, remote=remote)
    return user


async def list_users(db: AsyncSession) -> list[User]:
    return list(await db.scalars(select(User).order_by(User.email)))


TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read over the phone


def temporary_password() -> str:
    """Four groups of four letters and digits (about 79 bits), easy to read out and type."""
    groups = ("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


async def _end_sessions(db: AsyncSession, user_id: int, keep: int | None = None) -> None:
    """End the user's login sessions (all, or all but ``keep``): a changed password must
    sign out whoever knew the old one."""
    ended = delete(LoginSession).where(LoginSession.user_id == user_id)
    if keep is not None:
        ended = ended.where(LoginSession.id != keep)
    await db.execute(ended)


async def change_password(
    db: AsyncSession,
    passwords: Passwords,
    actor: Identity,
    *,
    current: str,
    new: str,
    remote: str = "",
) -> User:
    """The caller replaces their own password: the current one proves it is them. Their other
    browsers are signed out; this one stays signed in."""
    user = await db.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise InvalidInput(N_("only people with an account have a password"), code="guest")
    if not passwords.verify(user.password_hash, current):
        raise InvalidInput(N_("the current password is not right"), code="wrong_password")
    if problem := password_problem(new):
        raise InvalidInput(problem, code="weak_password")
    if new == current:
        raise InvalidInput(
            N_("the new password must differ from the current one"), code="same_password"
        )
    user.password_hash = passwords.hash(new)
    user.must_change_password = False
    await _end_sessions(db, user.id, keep=actor.session_id)
    audit.record(db, actor, "user.password_changed", "user", user.id, remote=remote)
    return user


async def reset_password(
    db: AsyncSession, passwords: Passwords, actor: Identity, user_id: int, remote: str = ""
) -> str:
    """An admin gives a user a temporary password (returned, to be passed on once): the user's
    sessions end, and at their next sign-in they are asked to choose their own."""
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound(
            N_("there is no user %(id)s"), code="user_not_found", params={"id": str(user_id)}
        )
    if user.id == actor.user_id:
        raise Conflict(N_("change your own password on your account page"), code="own_account")
    password = temporary_password()
    user.password_hash = passwords.hash(password)
    user.must_change_password = True
    await _end_sessions(db, user.id)
    audit.record(db, actor, "user.password_reset", "user", user.id, remote=remote)
    return password
