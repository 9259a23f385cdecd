"""The permit against Decision 06/2020/QĐ-TTg: the deciding level and who confirmed it, the
answers it is suggested from, the lead time applied and a late submission; the round an
application re-approves and the conference's plan when it was approved; the opinions asked
of other agencies

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)
FOREIGN_KEYS = (
    ("level_confirmed_by_id", "users"),
    ("previous_id", "permit_applications"),
)


def upgrade() -> None:
    with op.batch_alter_table("permit_applications", schema=None) as batch:
        batch.add_column(
            sa.Column(
                "ministerial_participants", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(
            sa.Column("sensitive_topics", sa.JSON(), nullable=False, server_default="[]")
        )
        batch.add_column(sa.Column("deciding_level", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("level_confirmed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("level_confirmed_at", UTC, nullable=True))
        batch.add_column(sa.Column("lead_days", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("submitted_late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("approved_plan", sa.JSON(), nullable=True))
        for column, table in FOREIGN_KEYS:
            batch.create_foreign_key(
                batch.f(f"fk_permit_applications_{column}_{table}"),
                table,
                [column],
                ["id"],
                ondelete="SET NULL",
            )
    op.create_table(
        "permit_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=300), nullable=False),
        sa.Column("asked_at", UTC, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_applications.id"],
            name=op.f("fk_permit_consultations_application_id_permit_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["users.id"],
            name=op.f("fk_permit_consultations_asked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["users.id"],
            name=op.f("fk_permit_consultations_answered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_consultations")),
    )
    with op.batch_alter_table("permit_consultations", schema=None) as batch:
        batch.create_index(batch.f("ix_permit_consultations_application_id"), ["application_id"])


def downgrade() -> None:
    with op.batch_alter_table("permit_consultations", schema=None) as batch:
        batch.drop_index(batch.f("ix_permit_consultations_application_id"))
    op.drop_table("permit_consultations")
    with op.batch_alter_table("permit_applications", schema=None) as batch:
        for column, table in FOREIGN_KEYS:
            batch.drop_constraint(
                batch.f(f"fk_permit_applications_{column}_{table}"), type_="foreignkey"
            )
        for name in (
            "approved_plan",
            "previous_id",
            "submitted_late",
            "lead_days",
            "level_confirmed_at",
            "level_confirmed_by_id",
            "deciding_level",
            "sensitive_topics",
            "ministerial_participants",
        ):
            batch.drop_column(name)
