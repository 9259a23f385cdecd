"""retention and legal hold

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("legal_hold_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("legal_hold_by", sa.String(length=320), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("legal_hold_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.drop_column("legal_hold_at")
        batch_op.drop_column("legal_hold_by")
        batch_op.drop_column("legal_hold_reason")
        batch_op.drop_column("legal_hold")
