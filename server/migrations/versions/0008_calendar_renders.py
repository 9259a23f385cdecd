"""serialised calendar events kept across restarts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "calendar_renders",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_calendar_renders")),
    )
    with op.batch_alter_table("calendar_renders", schema=None) as batch_op:
        batch_op.create_index("ix_calendar_renders_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("calendar_renders", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_renders_created_at")
    op.drop_table("calendar_renders")
