"""listening preferences and sign-language booths

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listening", sa.JSON(), nullable=True))
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listening", sa.JSON(), nullable=True))
    with op.batch_alter_table("conference_languages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_sign_language", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("conference_languages", schema=None) as batch_op:
        batch_op.drop_column("is_sign_language")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("listening")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("listening")
