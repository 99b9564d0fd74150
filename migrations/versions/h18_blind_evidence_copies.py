"""blind evidence copies: each evidence file's copy without identifying metadata, for blind assessors

Revision ID: h18_blind_evidence_copies
Revises: h16_baked_images
"""

import sqlalchemy as sa
from alembic import op

revision = "h18_blind_evidence_copies"
down_revision = "h16_baked_images"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blind_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("blind_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("metadata_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("metadata_removed", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("metadata_problem", sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f("ix_evidence_files_blind_sha256"), ["blind_sha256"], unique=False)


def downgrade():
    with op.batch_alter_table("evidence_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_files_blind_sha256"))
        batch_op.drop_column("metadata_problem")
        batch_op.drop_column("metadata_removed")
        batch_op.drop_column("metadata_status")
        batch_op.drop_column("blind_size")
        batch_op.drop_column("blind_sha256")
