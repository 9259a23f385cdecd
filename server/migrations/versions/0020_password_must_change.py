"""users.must_change_password: set when an admin resets a password, cleared when the user
chooses their own; users.time_zone_chosen: whether the user chose their time zone (until then
pages propose the browser's)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("time_zone_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Whoever is not in UTC chose their zone already.
    op.execute("UPDATE users SET time_zone_chosen = true WHERE time_zone <> 'UTC'")


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone_chosen")
        batch.drop_column("must_change_password")
