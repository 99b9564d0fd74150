"""organisation hierarchy: an organisation may be a unit of another (state agency → district → school)

Every existing organisation stays a root (no parent).

Revision ID: h14_organisation_parent
Revises: h18_personal_data
"""

import sqlalchemy as sa
from alembic import op

revision = "h14_organisation_parent"
down_revision = "h18_personal_data"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_organisations_parent_id"), ["parent_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_parent_id_organisations"), "organisations", ["parent_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_organisations_parent_id_organisations"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_organisations_parent_id"))
        batch_op.drop_column("parent_id")
