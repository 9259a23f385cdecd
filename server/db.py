"""The database: one async engine per application, its sessions, and Alembic migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

MIGRATIONS = Path(__file__).parent / "migrations"


class Database:
    """Owns the engine; ``close()`` disposes it and is safe to call twice.

    Its sessions are of a class of its own (``session_class``), so that what listens to them
    (the search index: ``server.search.index.keep_index``, installed by whoever opens the
    database to write) listens to this database's sessions only, not to every SQLAlchemy
    session in the process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        if url.startswith("sqlite"):
            _ensure_sqlite_dir(url)
        self.engine: AsyncEngine = create_async_engine(url, echo=echo, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.session_class: type[Session] = type("DatabaseSession", (Session,), {})
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=self.session_class
        )
        self._closed = False

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision`` on this engine."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_alembic, "upgrade", revision)

    async def downgrade(self, revision: str) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(_run_alembic, "downgrade", revision)

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.engine.dispose()

    def session(self) -> AsyncSession:
        return self.sessions()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    cfg = alembic_config(connection)
    if action == "upgrade":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
