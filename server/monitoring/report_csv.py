"""The quality report's CSV: every health sample of a conference, one row each, streamed.

Core rows fetched in batches (``yield_per``), never ORM objects, so a long conference's
hundreds of thousands of samples do not sit in memory at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.models import HealthSample
from server.monitoring.report import Window, aware

#: The CSV columns: the sample's own, then three of its ``data``.
CSV_COLUMNS = (
    "at",
    "subject",
    "name",
    "level",
    "score",
    "rtt",
    "up_loss",
    "up_jitter",
    "up_bitrate",
    "down_loss",
    "down_jitter",
    "down_bitrate",
    "frame_rate",
    "where",
    "flags",
    "connection",
)


def sample_rows(conference_id: int, window: Window) -> Select[*tuple[Any, ...]]:
    """The CSV's query: every sample of the window, oldest first (Core rows, not objects)."""
    return (
        select(
            HealthSample.at,
            HealthSample.subject,
            HealthSample.name,
            HealthSample.level,
            HealthSample.score,
            HealthSample.rtt,
            HealthSample.up_loss,
            HealthSample.up_jitter,
            HealthSample.up_bitrate,
            HealthSample.down_loss,
            HealthSample.down_jitter,
            HealthSample.down_bitrate,
            HealthSample.frame_rate,
            HealthSample.data,
        )
        .where(*window.samples(conference_id))
        .order_by(HealthSample.at, HealthSample.subject, HealthSample.id)
    )


async def csv_records(
    db: AsyncSession, conference_id: int, window: Window
) -> AsyncIterator[list[Any]]:
    """The CSV's rows after its header, streamed from the database in batches."""
    yield list(CSV_COLUMNS)
    result = await db.stream(sample_rows(conference_id, window).execution_options(yield_per=2000))
    async for row in result:
        *figures, data = row
        data = data if isinstance(data, dict) else {}
        flags = data.get("flags") or []
        yield [
            aware(figures[0]).isoformat(),
            *("" if v is None else v for v in figures[1:]),
            data.get("where") or "",
            " ".join(str(f) for f in flags) if isinstance(flags, list) else str(flags),
            data.get("connection") or "",
        ]
