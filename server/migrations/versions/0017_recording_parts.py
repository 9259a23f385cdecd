"""recording parts

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recordings") as batch:
        batch.add_column(sa.Column("parts", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("recording_files") as batch:
        batch.add_column(sa.Column("part", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("recording_files") as batch:
        batch.drop_column("part")
    with op.batch_alter_table("recordings") as batch:
        batch.drop_column("parts")
