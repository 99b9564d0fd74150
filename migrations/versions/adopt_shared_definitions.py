"""shared definitions: micro-credentials shared with an organisation's units, and units' adoptions of them

Three new tables; no existing table changes, so every existing micro-credential stays unshared and every
submission and badge keeps its organisation.

Revision ID: adopt_shared_definitions
Revises: h28_evidence_name_check
"""

import sqlalchemy as sa
from alembic import op

revision = "adopt_shared_definitions"
down_revision = "h28_evidence_name_check"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credential_shares",
        sa.Column("micro_credential_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("shared_by_id", sa.Uuid(), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["micro_credential_id"],
            ["micro_credentials.id"],
            name=op.f("fk_credential_shares_micro_credential_id_micro_credentials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_credential_shares_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"], ["users.id"], name=op.f("fk_credential_shares_shared_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_shares")),
        sa.UniqueConstraint("micro_credential_id", name=op.f("uq_credential_shares_micro_credential_id")),
    )
    op.create_index(op.f("ix_credential_shares_organisation_id"), "credential_shares", ["organisation_id"])
    op.create_table(
        "credential_share_targets",
        sa.Column("share_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["credential_shares.id"],
            name=op.f("fk_credential_share_targets_share_id_credential_shares"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_share_targets_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("share_id", "organisation_id", name=op.f("pk_credential_share_targets")),
    )
    op.create_index(
        op.f("ix_credential_share_targets_organisation_id"), "credential_share_targets", ["organisation_id"]
    )
    op.create_table(
        "credential_adoptions",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("micro_credential_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("adopted_by_id", sa.Uuid(), nullable=True),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("upgraded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_adoptions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["micro_credential_id"],
            ["micro_credentials.id"],
            name=op.f("fk_credential_adoptions_micro_credential_id_micro_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_credential_adoptions_version_id_credential_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["adopted_by_id"],
            ["users.id"],
            name=op.f("fk_credential_adoptions_adopted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_adoptions")),
    )
    op.create_index(op.f("ix_credential_adoptions_version_id"), "credential_adoptions", ["version_id"])
    op.create_index(
        "ix_credential_adoptions_micro_credential", "credential_adoptions", ["micro_credential_id", "state"]
    )
    op.create_index(
        "uq_credential_adoptions_one_active",
        "credential_adoptions",
        ["organisation_id", "micro_credential_id"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade():
    op.drop_table("credential_adoptions")
    op.drop_table("credential_share_targets")
    op.drop_table("credential_shares")
