"""connection health samples and site checks

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "health_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("rtt", sa.Float(), nullable=True),
        sa.Column("up_loss", sa.Float(), nullable=True),
        sa.Column("up_jitter", sa.Float(), nullable=True),
        sa.Column("up_bitrate", sa.Float(), nullable=True),
        sa.Column("down_loss", sa.Float(), nullable=True),
        sa.Column("down_jitter", sa.Float(), nullable=True),
        sa.Column("down_bitrate", sa.Float(), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name=op.f("fk_health_samples_conference_id_conferences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_samples")),
    )
    with op.batch_alter_table("health_samples", schema=None) as batch_op:
        batch_op.create_index("ix_health_samples_conference_at", ["conference_id", "at"])
        batch_op.create_index("ix_health_samples_at", ["at"])
    op.create_table(
        "site_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("rtt", sa.Float(), nullable=True),
        sa.Column("loss", sa.Float(), nullable=True),
        sa.Column("bitrate", sa.Float(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("by", sa.String(length=320), nullable=False),
        sa.Column("user_agent", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name=op.f("fk_site_checks_conference_id_conferences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_checks_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_checks")),
    )
    with op.batch_alter_table("site_checks", schema=None) as batch_op:
        batch_op.create_index("ix_site_checks_site_at", ["site_id", "at"])


def downgrade() -> None:
    with op.batch_alter_table("site_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_site_checks_site_at")
    op.drop_table("site_checks")
    with op.batch_alter_table("health_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_health_samples_at")
        batch_op.drop_index("ix_health_samples_conference_at")
    op.drop_table("health_samples")
