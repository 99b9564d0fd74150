"""suspension: a suspension status list paired with each revocation list, and a badge's suspension

Revision ID: h15_suspension
Revises: h17b_issuer_images
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "h15_suspension"
down_revision = "h17b_issuer_images"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pairs_with_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_status_lists_pairs_with_id"), ["pairs_with_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_status_lists_pairs_with_id_status_lists"),
            "status_lists",
            ["pairs_with_id"],
            ["id"],
            ondelete="CASCADE",
        )
    # SQLite rebuilds the table and reflects its neighbours, users among them, whose lower(email) index it
    # cannot reflect (and need not: users is not changed).
    with warnings.catch_warnings(), op.batch_alter_table("badges", schema=None) as batch_op:
        warnings.filterwarnings("ignore", message=".*expression-based index")
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("suspension_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("suspended_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_badges_suspended_by_id_users"), "users", ["suspended_by_id"], ["id"], ondelete="SET NULL"
        )


def downgrade():
    with warnings.catch_warnings(), op.batch_alter_table("badges", schema=None) as batch_op:
        warnings.filterwarnings("ignore", message=".*expression-based index")
        batch_op.drop_constraint(batch_op.f("fk_badges_suspended_by_id_users"), type_="foreignkey")
        batch_op.drop_column("suspended_by_id")
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")
    with op.batch_alter_table("status_lists", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_status_lists_pairs_with_id_status_lists"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_status_lists_pairs_with_id"), type_="unique")
        batch_op.drop_column("pairs_with_id")
