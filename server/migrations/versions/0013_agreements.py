"""agreements, language versions, signatories and signings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = server.models.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("donor", sa.String(length=300), nullable=False),
        sa.Column("programme", sa.String(length=300), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("period_starts_on", sa.Date(), nullable=True),
        sa.Column("period_ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("opened_at", UTC, nullable=True),
        sa.Column("completed_at", UTC, nullable=True),
        _fk("agreements", "conference_id", "conferences", "CASCADE"),
        _fk("agreements", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index("ix_agreements_conference", ["conference_id"])
    op.create_table(
        "agreement_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("delegation_id", sa.Integer(), nullable=True),
        _fk("agreement_parties", "agreement_id", "agreements", "CASCADE"),
        _fk("agreement_parties", "delegation_id", "delegations", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_parties")),
    )
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_parties_agreement_id"), ["agreement_id"], unique=False
        )
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTC, nullable=False),
        _fk("agreement_versions", "agreement_id", "agreements", "CASCADE"),
        _fk("agreement_versions", "uploaded_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_versions")),
        sa.UniqueConstraint(
            "agreement_id", "language", name=op.f("uq_agreement_versions_agreement_id")
        ),
        sa.UniqueConstraint("stored_name", name=op.f("uq_agreement_versions_stored_name")),
    )
    op.create_table(
        "agreement_signatories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=300), nullable=False),
        _fk("agreement_signatories", "agreement_id", "agreements", "CASCADE"),
        _fk("agreement_signatories", "party_id", "agreement_parties", "CASCADE"),
        _fk("agreement_signatories", "user_id", "users", "CASCADE"),
        _fk("agreement_signatories", "site_id", "sites", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signatories")),
        sa.UniqueConstraint(
            "agreement_id", "user_id", name=op.f("uq_agreement_signatories_agreement_id")
        ),
    )
    with op.batch_alter_table("agreement_signatories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_signatories_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_signatories_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "agreement_signings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signatory_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=500), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("auth_method", sa.String(length=20), nullable=False),
        sa.Column("recording_offset", sa.Float(), nullable=True),
        sa.Column("version_hashes", sa.JSON(), nullable=False),
        sa.Column("ledger_position", sa.Integer(), nullable=False),
        _fk("agreement_signings", "signatory_id", "agreement_signatories", "CASCADE"),
        _fk("agreement_signings", "agreement_id", "agreements", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signings")),
        sa.UniqueConstraint("signatory_id", name=op.f("uq_agreement_signings_signatory_id")),
    )
    with op.batch_alter_table("agreement_signings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_signings_agreement_id"), ["agreement_id"], unique=False
        )
    op.create_table(
        "agreement_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signatory_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        _fk("agreement_codes", "signatory_id", "agreement_signatories", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_codes")),
    )
    with op.batch_alter_table("agreement_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agreement_codes_signatory_id"), ["signatory_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_codes_signatory_id"))
    op.drop_table("agreement_codes")
    with op.batch_alter_table("agreement_signings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_signings_agreement_id"))
    op.drop_table("agreement_signings")
    with op.batch_alter_table("agreement_signatories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_signatories_user_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_signatories_party_id"))
    op.drop_table("agreement_signatories")
    op.drop_table("agreement_versions")
    with op.batch_alter_table("agreement_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_parties_agreement_id"))
    op.drop_table("agreement_parties")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index("ix_agreements_conference")
    op.drop_table("agreements")
