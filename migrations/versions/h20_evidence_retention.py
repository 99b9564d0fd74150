"""evidence retention: an organisation's retention period, and when a submission's evidence was purged

Revision ID: h20_evidence_retention
Revises: h16_award_imports
"""

import sqlalchemy as sa
from alembic import op

revision = "h20_evidence_retention"
down_revision = "h16_award_imports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_retention_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("evidence_purged_at")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("evidence_retention_days")
