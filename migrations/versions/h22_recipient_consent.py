"""recipient consent: a badge's acceptance by its earner (pending, accepted, declined), hiding it from public
view, and the organisation's "require acceptance" setting

Revision ID: h22_recipient_consent
Revises: h21_review_sla
"""

import sqlalchemy as sa
from alembic import op

revision = "h22_recipient_consent"
down_revision = "h21_review_sla"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("badges", schema=None) as batch_op:
        # Badges issued before consent existed were public at once: they count as accepted.
        batch_op.add_column(sa.Column("acceptance", sa.String(length=16), server_default="accepted", nullable=False))
        batch_op.add_column(sa.Column("acceptance_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))
        # The importer's "who has not accepted yet" and the earner's pending list read only these few rows.
        batch_op.create_index(
            "ix_badges_pending",
            ["organisation_id"],
            unique=False,
            sqlite_where=sa.text("acceptance = 'pending'"),
            postgresql_where=sa.text("acceptance = 'pending'"),
        )
    op.create_table(
        "issuing_settings",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("require_acceptance", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_issuing_settings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_issuing_settings")),
    )


def downgrade():
    op.drop_table("issuing_settings")
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.drop_index("ix_badges_pending")
        batch_op.drop_column("hidden_at")
        batch_op.drop_column("acceptance_at")
        batch_op.drop_column("acceptance")
