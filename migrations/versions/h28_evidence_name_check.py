"""evidence name check: where the earner's own name or e-mail appears in a file's text

Revision ID: h28_evidence_name_check
Revises: h27_misconduct
"""

import sqlalchemy as sa
from alembic import op

revision = "h28_evidence_name_check"
down_revision = "h27_misconduct"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_found", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_column("identity_found")
