"""conference permits

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "permit_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("funding_source", sa.String(length=300), nullable=False),
        sa.Column("funding_amount", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("funding_currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("clock_started_at", UTC, nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_number", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["users.id"],
            name=op.f("fk_permit_applications_applicant_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name=op.f("fk_permit_applications_conference_id_conferences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_permit_applications_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_applications")),
    )
    with op.batch_alter_table("permit_applications", schema=None) as batch_op:
        batch_op.create_index("ix_permit_applications_conference", ["conference_id"])
        batch_op.create_index("ix_permit_applications_status", ["status", "due_on"])

    op.create_table(
        "permit_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("organisation", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_applications.id"],
            name=op.f("fk_permit_participants_application_id_permit_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_participants")),
    )
    with op.batch_alter_table("permit_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_permit_participants_application_id"), ["application_id"]
        )

    op.create_table(
        "permit_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_applications.id"],
            name=op.f("fk_permit_attachments_application_id_permit_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_permit_attachments_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_permit_attachments_stored_name")),
    )
    with op.batch_alter_table("permit_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_permit_attachments_application_id"), ["application_id"]
        )

    op.create_table(
        "permit_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_permit_steps_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["permit_applications.id"],
            name=op.f("fk_permit_steps_application_id_permit_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_steps")),
    )
    with op.batch_alter_table("permit_steps", schema=None) as batch_op:
        batch_op.create_index("ix_permit_steps_application", ["application_id", "at"])


def downgrade() -> None:
    with op.batch_alter_table("permit_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_permit_steps_application")
    op.drop_table("permit_steps")
    with op.batch_alter_table("permit_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_attachments_application_id"))
    op.drop_table("permit_attachments")
    with op.batch_alter_table("permit_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_permit_participants_application_id"))
    op.drop_table("permit_participants")
    with op.batch_alter_table("permit_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_permit_applications_status")
        batch_op.drop_index("ix_permit_applications_conference")
    op.drop_table("permit_applications")
