"""members' units and job roles; structural conflicts of interest in review

A membership (and an invitation) names the unit (an organisation of the hierarchy, such as a school) the person
works in and their job role. Review tasks copy the earner's unit and its parent so the claim query can keep
assessors off their own unit's and district's work; assessors declare conflicts with named people. Existing rows
keep their free-text ``users.unit``, which stays the fallback.

Revision ID: h25_member_units
Revises: h22_recipient_consent
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "h25_member_units"
down_revision = "h22_recipient_consent"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("memberships", "invitations"):
        # SQLite rebuilds the table and reflects its neighbours, users among them, whose lower(email) index it
        # cannot reflect (and need not: users is not changed).
        with warnings.catch_warnings(), op.batch_alter_table(table, schema=None) as batch_op:
            warnings.filterwarnings("ignore", message=".*expression-based index")
            batch_op.add_column(sa.Column("unit_id", sa.Uuid(), nullable=True))
            batch_op.add_column(sa.Column("job_role", sa.String(length=40), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_unit_id_organisations"),
                "organisations",
                ["unit_id"],
                ["id"],
                ondelete="SET NULL",
            )
    # Plain ADD COLUMNs (no table rebuild on SQLite: review_tasks can hold millions of rows).
    op.add_column("review_tasks", sa.Column("earner_unit_id", sa.Uuid(), nullable=True))
    op.add_column("review_tasks", sa.Column("earner_unit_parent_id", sa.Uuid(), nullable=True))
    op.add_column(
        "review_settings", sa.Column("conflict_by_parent", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "declared_conflicts",
        sa.Column("assessor_id", sa.Uuid(), nullable=False),
        sa.Column("earner_email", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["users.id"], name=op.f("fk_declared_conflicts_assessor_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declared_conflicts")),
        sa.UniqueConstraint("assessor_id", "earner_email", name=op.f("uq_declared_conflicts_assessor_id_earner_email")),
    )


def downgrade():
    op.drop_table("declared_conflicts")
    op.drop_column("review_settings", "conflict_by_parent")
    op.drop_column("review_tasks", "earner_unit_parent_id")
    op.drop_column("review_tasks", "earner_unit_id")
    for table in ("invitations", "memberships"):
        with warnings.catch_warnings(), op.batch_alter_table(table, schema=None) as batch_op:
            warnings.filterwarnings("ignore", message=".*expression-based index")
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_unit_id_organisations"), type_="foreignkey")
            batch_op.drop_column("job_role")
            batch_op.drop_column("unit_id")
