"""minutes_revisions.circulated: the revisions the delegations were given (circulated or
final), the only ones they may read; the others are the editors' drafts (issue 19)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("minutes_revisions") as batch:
        batch.add_column(
            sa.Column("circulated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # What can be known of the past: the revision that circulated or final minutes stand at.
    op.execute(
        "UPDATE minutes_revisions SET circulated = true WHERE EXISTS (SELECT 1 FROM minutes "
        "WHERE minutes.id = minutes_revisions.minutes_id "
        "AND minutes.revision = minutes_revisions.number "
        "AND minutes.state IN ('circulated', 'final'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("minutes_revisions") as batch:
        batch.drop_column("circulated")
