"""Migration 0004 on a database that already holds sessions: each gets its own UID."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from server.config import Config
from server.db import Database

MOMENT = dt.datetime(2030, 1, 1)  # naive: SQLite stores UTC without an offset


async def test_existing_sessions_get_uids_and_survive_a_round_trip(config: Config) -> None:
    database = Database(config.database_url)
    moment = MOMENT if database.dialect == "sqlite" else MOMENT.replace(tzinfo=dt.UTC)
    try:
        await database.upgrade("0003")
        async with database.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO conferences (id, slug, title, description, translations, kind,"
                    " status, time_zone, starts_at, ends_at, created_at, updated_at) VALUES"
                    " (1, 'c', 'C', '', '{}', 'online', 'draft', 'UTC', :t, :t, :t, :t)"
                ),
                {"t": moment},
            )
            for session_id in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO agenda_sessions (id, conference_id, title, description,"
                        " starts_at, ends_at, time_zone, speakers) VALUES"
                        " (:id, 1, 'S', '', :t, :t, 'UTC', '[]')"
                    ),
                    {"id": session_id, "t": moment},
                )
        await database.upgrade("0004")
        async with database.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text("SELECT uid, sequence, status, exdates FROM agenda_sessions ORDER BY id")
                )
            ).all()
        assert len({row.uid for row in rows}) == 2
        assert all(row.uid.endswith("@concord") for row in rows)
        assert {(row.sequence, row.status) for row in rows} == {(0, "confirmed")}
        await database.downgrade("0003")
        async with database.engine.connect() as conn:
            left = await conn.scalar(text("SELECT count(*) FROM agenda_sessions"))
        assert left == 2
    finally:
        await database.close()
