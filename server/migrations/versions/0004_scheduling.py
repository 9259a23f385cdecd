"""scheduling: lifecycle, sessions, series, sites per session, feeds

Sessions get their iCalendar identity (UID, SEQUENCE), status, recurrence (RRULE, EXDATEs,
moved occurrences as rows with series_id + recurrence_id) and interpreted languages; sites
may share a venue; session_sites links a session to the sites taking part; bookings hold every
occurrence × resource for the conflict check (rebuilt by the operations, empty here: existing
conferences are booked again on their next change).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:30:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "venues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sites_venue_id_venues"),
            "venues",
            ["venue_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_sites_venue", ["venue_id"], unique=False)

    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conferences_status_starts_at", ["status", "starts_at"], unique=False
        )
        batch_op.create_index(
            "ix_conferences_organiser", ["organiser_id", "starts_at"], unique=False
        )

    with op.batch_alter_table("agenda_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "interpreted_languages", sa.JSON(), nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch_op.add_column(sa.Column("uid", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("sequence", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default="confirmed")
        )
        batch_op.add_column(sa.Column("rrule", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("exdates", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recurrence_id", UTC_DATETIME, nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                UTC_DATETIME,
                nullable=False,
                server_default=sa.text("CURRENT_TIMESTAMP"),
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_agenda_sessions_series_id_agenda_sessions"),
            "agenda_sessions",
            ["series_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_agenda_sessions_series_id"), ["series_id", "recurrence_id"]
        )
        batch_op.create_index(
            "ix_agenda_sessions_conference", ["conference_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_agenda_sessions_uid", ["uid"], unique=False)

    # Every existing session gets its UID now; it never changes afterwards.
    bind = op.get_bind()
    sessions = sa.table("agenda_sessions", sa.column("id", sa.Integer), sa.column("uid"))
    for (session_id,) in bind.execute(sa.select(sessions.c.id)).all():
        bind.execute(
            sessions.update()
            .where(sessions.c.id == session_id)
            .values(uid=f"{uuid.uuid4()}@concord")
        )
    with op.batch_alter_table("agenda_sessions", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=255), nullable=False)

    op.create_table(
        "session_sites",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["agenda_sessions.id"],
            name=op.f("fk_session_sites_session_id_agenda_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_session_sites_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "site_id", name=op.f("pk_session_sites")),
    )
    with op.batch_alter_table("session_sites", schema=None) as batch_op:
        batch_op.create_index("ix_session_sites_site", ["site_id"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("occurrence", UTC_DATETIME, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_id"],
            ["conferences.id"],
            name=op.f("fk_bookings_conference_id_conferences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["agenda_sessions.id"],
            name=op.f("fk_bookings_session_id_agenda_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bookings_resource", ["kind", "resource_id", "starts_at"], unique=False
        )
        batch_op.create_index("ix_bookings_conference", ["conference_id"], unique=False)
        batch_op.create_index("ix_bookings_session", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_bookings_session")
        batch_op.drop_index("ix_bookings_conference")
        batch_op.drop_index("ix_bookings_resource")
    op.drop_table("bookings")
    with op.batch_alter_table("session_sites", schema=None) as batch_op:
        batch_op.drop_index("ix_session_sites_site")
    op.drop_table("session_sites")

    # Moved occurrences have no meaning without their series: drop them with it.
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM agenda_sessions WHERE series_id IS NOT NULL"))
    with op.batch_alter_table("agenda_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_agenda_sessions_uid")
        batch_op.drop_index("ix_agenda_sessions_conference")
        batch_op.drop_constraint(batch_op.f("uq_agenda_sessions_series_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_agenda_sessions_series_id_agenda_sessions"), type_="foreignkey"
        )
        for column in (
            "updated_at",
            "recurrence_id",
            "series_id",
            "exdates",
            "rrule",
            "status",
            "sequence",
            "uid",
            "interpreted_languages",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.drop_index("ix_conferences_organiser")
        batch_op.drop_index("ix_conferences_status_starts_at")

    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index("ix_sites_venue")
        batch_op.drop_constraint(batch_op.f("fk_sites_venue_id_venues"), type_="foreignkey")
        batch_op.drop_column("venue_id")
    op.drop_table("venues")
