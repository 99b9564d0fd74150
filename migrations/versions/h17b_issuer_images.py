"""the issuer's logo, shown on its profile and in its badges

Revision ID: h17b_issuer_images
Revises: h18_blind_evidence_copies
"""

import sqlalchemy as sa
from alembic import op

revision = "h17b_issuer_images"
down_revision = "h18_blind_evidence_copies"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issuer_images",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id"),
    )


def downgrade():
    op.drop_table("issuer_images")
