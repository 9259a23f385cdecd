"""Writing the audit log. Operations call ``record`` inside their own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.identity import Identity
from server.models import AuditEntry


def record(
    db: AsyncSession,
    actor: Identity | None,
    action: str,
    target_type: str,
    target_id: object = "",
    *,
    conference_id: int | None = None,
    detail: dict[str, Any] | None = None,
    remote: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.user_id if actor else None,
        actor=actor.actor if actor else "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        conference_id=conference_id,
        detail=detail or {},
        remote=remote,
    )
    db.add(entry)
    return entry
