"""Migrations: from an empty database to head, matching the models exactly, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from server.config import Config
from server.db import Database
from server.models import Base


def _managed(name: str | None, type_: str, parent_names: Any) -> bool:
    """SQLite's FTS5 table (and its shadow tables) and PostgreSQL's GIN expression index
    for search are created by migration 0010 only, outside the models."""
    return not (name or "").startswith(("search_fts", "ix_search_documents_fts"))


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": _managed}
    )
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty_reaches_head_and_matches_models(config: Config) -> None:
    database = Database(config.database_url)
    try:
        assert await database.current_revision() is None
        async with database.engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await database.upgrade()
        assert await database.current_revision() == "0023"
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            assert {
                "users",
                "user_roles",
                "conferences",
                "agenda_sessions",
                "sites",
                "delegations",
                "delegation_members",
                "conference_languages",
                "interpreter_assignments",
                "invitations",
                "api_tokens",
                "login_sessions",
                "audit_log",
                "room_events",
            } <= tables
            assert await conn.run_sync(_diff) == [], "models and migrations disagree"
        await database.upgrade()  # a second run is a no-op
        await database.downgrade("base")
        async with database.engine.connect() as conn:
            assert await conn.run_sync(_tables) == {"alembic_version"}
    finally:
        await database.close()
