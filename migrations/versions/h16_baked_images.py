"""baked badge images, kept once made

Revision ID: h16_baked_images
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "h16_baked_images"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "baked_images",
        sa.Column("badge_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["badge_id"], ["badges.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("badge_id", "kind"),
    )


def downgrade():
    op.drop_table("baked_images")
