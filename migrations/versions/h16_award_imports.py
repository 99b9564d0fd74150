"""award imports: an uploaded file of past awards, issued by a job in chunks, with its progress

Revision ID: h16_award_imports
Revises: h16_outbox_delivery
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "h16_award_imports"
down_revision = "h16_outbox_delivery"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "award_imports",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("default_version_id", sa.Uuid(), nullable=True),
        sa.Column(
            "results", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_award_imports_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_award_imports_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_imports")),
    )
    with op.batch_alter_table("award_imports", schema=None) as batch_op:
        batch_op.create_index("ix_award_imports_organisation", ["organisation_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("award_imports", schema=None) as batch_op:
        batch_op.drop_index("ix_award_imports_organisation")
    op.drop_table("award_imports")
