"""What a listener chose in a bridge room, remembered for next time.

A signed-in user's choice is kept on their account (so it follows them to another computer); a
guest's on their invitation (a site's invitation is that site's identity). It is a personal
preference like the interface language, so it is not written to the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.identity import Identity
from server.models import Invitation, User

DEFAULT_FLOOR_LEVEL = 20  # percent of the floor's sound under the interpretation


def listening_of(stored: dict[str, Any] | None) -> dict[str, Any]:
    """The stored preference with defaults filled in."""
    stored = stored or {}
    level = stored.get("floor_level")
    return {
        "language": stored.get("language"),
        "floor_level": level if isinstance(level, int) else DEFAULT_FLOOR_LEVEL,
    }


async def load_listening(db: AsyncSession, who: Identity) -> dict[str, Any]:
    if who.guest is not None:
        invitation = await db.get(Invitation, who.guest.invitation_id)
        return listening_of(invitation.listening if invitation else None)
    user = await db.get(User, who.user_id) if who.user_id is not None else None
    return listening_of(user.listening if user else None)


async def save_listening(
    db: AsyncSession, who: Identity, language: str | None, floor_level: int | None
) -> dict[str, Any]:
    """Remember the choice; a missing ``floor_level`` keeps the one stored before."""
    current = await load_listening(db, who)
    chosen = {
        "language": language,
        "floor_level": current["floor_level"] if floor_level is None else floor_level,
    }
    if who.guest is not None:
        await db.execute(
            update(Invitation)
            .where(Invitation.id == who.guest.invitation_id)
            .values(listening=chosen)
        )
    elif who.user_id is not None:
        await db.execute(update(User).where(User.id == who.user_id).values(listening=chosen))
    return chosen
