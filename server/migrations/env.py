"""Alembic environment: runs on the connection Concord hands over (see server.db)."""

from alembic import context

from server.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `concord db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # search's FTS5 table and GIN index live outside the models (migration 0010).
    include_name=lambda name, type_, parents: (
        not (name or "").startswith(("search_fts", "ix_search_documents_fts"))
    ),
)
with context.begin_transaction():
    context.run_migrations()
