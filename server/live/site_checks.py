"""The sites' last connection checks (stored by the monitoring feature): the room shows each
site's, and the check pages and the check handlers compare against them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import SiteCheck


async def last_checks(db: AsyncSession, conference_id: int) -> dict[int, SiteCheck]:
    """The latest check of each site of the conference (one indexed query)."""
    latest = (
        select(SiteCheck.site_id, func.max(SiteCheck.id).label("id"))
        .where(SiteCheck.conference_id == conference_id)
        .group_by(SiteCheck.site_id)
        .subquery()
    )
    rows = await db.scalars(select(SiteCheck).join(latest, SiteCheck.id == latest.c.id))
    return {row.site_id: row for row in rows}
