"""issuer logos: the image of an organisation's Open Badges Profile

Revision ID: h14_issuer_logos
Revises: h18_blind_evidence_copies
"""

import sqlalchemy as sa
from alembic import op

revision = "h14_issuer_logos"
down_revision = "h18_blind_evidence_copies"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issuer_logos",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_issuer_logos_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["credential_images.id"], name=op.f("fk_issuer_logos_image_id_credential_images")
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_issuer_logos")),
    )


def downgrade():
    op.drop_table("issuer_logos")
