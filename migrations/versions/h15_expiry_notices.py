"""expiry notices: which expiry notice was mailed for which badge, so each goes out once; badges by validUntil

Revision ID: h15_expiry_notices
Revises: h15_suspension
"""

import sqlalchemy as sa
from alembic import op

revision = "h15_expiry_notices"
down_revision = "h15_suspension"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "badge_expiry_notices",
        sa.Column("badge_id", sa.Uuid(), nullable=False),
        sa.Column("days_before", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_badge_expiry_notices_badge_id_badges"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("badge_id", "days_before", name=op.f("pk_badge_expiry_notices")),
    )
    op.create_index("ix_badges_valid_until", "badges", ["valid_until"], unique=False)


def downgrade():
    op.drop_index("ix_badges_valid_until", table_name="badges")
    op.drop_table("badge_expiry_notices")
