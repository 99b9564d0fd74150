"""misconduct cases: a recorded decision against a badge, the earner's appeal and its outcome

Revision ID: h27_misconduct
Revises: h26_ob_api
"""

import sqlalchemy as sa
from alembic import op

revision = "h27_misconduct"
down_revision = "h26_ob_api"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "misconduct_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("badge_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("policy", sa.String(length=200), nullable=True),
        sa.Column("decided_by_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appeal_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appeal_statement", sa.Text(), nullable=True),
        sa.Column("appealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_by_id", sa.Uuid(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_misconduct_cases_badge_id_badges"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_misconduct_cases_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_misconduct_cases_decided_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["outcome_by_id"], ["users.id"], name=op.f("fk_misconduct_cases_outcome_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misconduct_cases")),
    )
    op.create_index("ix_misconduct_cases_organisation", "misconduct_cases", ["organisation_id", "decided_at"])
    op.create_index("ix_misconduct_cases_due", "misconduct_cases", ["state", "appeal_by"])
    op.create_index("ix_misconduct_cases_badge", "misconduct_cases", ["badge_id"])


def downgrade():
    op.drop_table("misconduct_cases")
