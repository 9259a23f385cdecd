"""A user's named secrets: API tokens and calendar feed links (``PersonalSecret`` rows).

Each is shown once when it is made, kept as its SHA-256 and first characters only, listed to
its owner alone, and revoked by them (a second revocation changes nothing). Every creation and
revocation writes the audit log under the secret's ``kind`` (``api_token``, ``calendar_feed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import audit
from server.accounts.secrets import digest, new_token
from server.errors import InvalidInput, NotFound
from server.identity import Identity
from server.models import utcnow
from server.models.accounts import PersonalSecret

S = TypeVar("S", bound=PersonalSecret)
MAX_NAME = 100


@dataclass(frozen=True)
class Made(Generic[S]):
    """A secret just made: the token itself (shown this once) and its row."""

    token: str
    record: S


@dataclass(frozen=True)
class Secrets(Generic[S]):
    """One kind of personal secret: its rows' model, its audit ``kind``, the prefix its tokens
    start with, and its refusals (``N_`` templates): a name missing or too long (``%(max)s``),
    and no such secret of this person's (``%(id)s``)."""

    model: type[S]
    kind: str
    token_prefix: str
    unnamed: str
    missing: str

    async def create(
        self, db: AsyncSession, actor: Identity, name: str, remote: str = ""
    ) -> Made[S]:
        assert actor.user_id is not None
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInput(self.unnamed, code="invalid_name", params={"max": str(MAX_NAME)})
        token = new_token(self.token_prefix)
        row = self.model()
        row.user_id, row.name, row.token_hash, row.prefix = (
            actor.user_id,
            name,
            digest(token),
            token[:10],
        )
        db.add(row)
        await db.flush()
        detail = {"name": name}
        audit.record(
            db, actor, f"{self.kind}.created", self.kind, row.id, detail=detail, remote=remote
        )
        return Made(token, row)

    async def owned(self, db: AsyncSession, actor: Identity) -> list[S]:
        """The actor's own, oldest first (revoked ones included: they say when)."""
        rows = await db.scalars(
            select(self.model).where(self.model.user_id == actor.user_id).order_by(self.model.id)
        )
        return list(rows)

    async def revoke(
        self, db: AsyncSession, actor: Identity, secret_id: int, not_found: str, remote: str = ""
    ) -> S:
        """Revoke one of the actor's own (``not_found``: the refusal's code otherwise)."""
        row = await db.get(self.model, secret_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFound(self.missing, code=not_found, params={"id": str(secret_id)})
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(db, actor, f"{self.kind}.revoked", self.kind, row.id, remote=remote)
        return row
