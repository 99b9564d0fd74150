"""CLR 2.0 transcripts (records and their signed versions) and endorsements; both hold status-list indexes

Revision ID: clr_transcripts_endorsements
Revises: offer_wallet_offers
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "clr_transcripts_endorsements"
down_revision = "offer_wallet_offers"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "clr_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("scope_key", sa.String(length=120), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("earner_id", sa.Uuid(), nullable=False),
        sa.Column("stack_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_clr_records_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["earner_id"], ["users.id"], name=op.f("fk_clr_records_earner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["stack_id"], ["stacks.id"], name=op.f("fk_clr_records_stack_id_stacks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clr_records")),
        sa.UniqueConstraint("scope_key", name=op.f("uq_clr_records_scope_key")),
    )
    op.create_index(op.f("ix_clr_records_organisation_id"), "clr_records", ["organisation_id"])
    op.create_index(op.f("ix_clr_records_earner_id"), "clr_records", ["earner_id"])
    op.create_table(
        "clr_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("members_digest", sa.String(length=64), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("status_list_id", sa.Uuid(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("credential", JSON, nullable=False),
        sa.Column("jwt", sa.Text(), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("superseded_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["clr_records.id"], name=op.f("fk_clr_versions_record_id_clr_records"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"], ["status_lists.id"], name=op.f("fk_clr_versions_status_list_id_status_lists")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clr_versions")),
        sa.UniqueConstraint("status_list_id", "status_index", name=op.f("uq_clr_versions_status_list_id_status_index")),
        sa.UniqueConstraint("record_id", "members_digest", name=op.f("uq_clr_versions_record_id_members_digest")),
    )
    op.create_index(op.f("ix_clr_versions_record_id"), "clr_versions", ["record_id"])
    op.create_table(
        "endorsements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("endorser_id", sa.Uuid(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("target_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status_list_id", sa.Uuid(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("credential", JSON, nullable=False),
        sa.Column("jwt", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        sa.Column("revoked_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["endorser_id"], ["organisations.id"], name=op.f("fk_endorsements_endorser_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["target_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_endorsements_target_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"], ["status_lists.id"], name=op.f("fk_endorsements_status_list_id_status_lists")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_endorsements_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_endorsements_revoked_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsements")),
        sa.UniqueConstraint("status_list_id", "status_index", name=op.f("uq_endorsements_status_list_id_status_index")),
    )
    op.create_index(op.f("ix_endorsements_endorser_id"), "endorsements", ["endorser_id"])
    op.create_index("ix_endorsements_target", "endorsements", ["target_id", "revoked_at"])
    op.create_index(
        "uq_endorsements_standing",
        "endorsements",
        ["endorser_id", "target_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade():
    op.drop_table("endorsements")
    op.drop_table("clr_versions")
    op.drop_table("clr_records")
