"""renewal as a workflow: a version's renewal period, requirements and rubric (``purpose``), renewal submissions
linked to the badge they renew, one renewal per badge, and the invitations mailed before validUntil

Revision ID: renew_renewal_workflow
Revises: teams_design_teams
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "renew_renewal_workflow"
down_revision = "teams_design_teams"
branch_labels = None
depends_on = None


@contextmanager
def _batch(table: str) -> Iterator[Any]:
    # SQLite rebuilds the table and reflects its neighbours, users among them, whose lower(email) index it
    # cannot reflect (and need not: users is not changed).
    with warnings.catch_warnings(), op.batch_alter_table(table, schema=None) as batch_op:
        warnings.filterwarnings("ignore", message=".*expression-based index")
        yield batch_op


def upgrade():
    with _batch("credential_versions") as batch_op:
        batch_op.add_column(sa.Column("renewal_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("renewal_passing_level", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("renewal_passing_points", sa.Integer(), nullable=True))
    # Existing requirements and criteria are the award set; a key may repeat between the two sets.
    for table in ("requirements", "rubric_criteria"):
        with _batch(table) as batch_op:
            batch_op.add_column(sa.Column("purpose", sa.String(length=16), server_default="award", nullable=False))
            batch_op.drop_constraint(f"uq_{table}_version_id_key", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_version_id_purpose_key", ["version_id", "purpose", "key"])
    with _batch("submissions") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="award", nullable=False))
        batch_op.add_column(sa.Column("renews_badge_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_submissions_renews_badge_id", ["renews_badge_id"], unique=False)
    # Admin re-issues were already once per badge (their issue key), so no existing rows collide.
    with _batch("badges") as batch_op:
        batch_op.create_unique_constraint("uq_badges_renewed_from_id", ["renewed_from_id"])
    op.create_table(
        "badge_renewal_invitations",
        sa.Column("badge_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_badge_renewal_invitations_badge_id_badges"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("badge_id", name=op.f("pk_badge_renewal_invitations")),
    )


def downgrade():
    op.drop_table("badge_renewal_invitations")
    with _batch("badges") as batch_op:
        batch_op.drop_constraint("uq_badges_renewed_from_id", type_="unique")
    with _batch("submissions") as batch_op:
        batch_op.drop_index("ix_submissions_renews_badge_id")
        batch_op.drop_column("renews_badge_id")
        batch_op.drop_column("kind")
    op.execute(sa.text("DELETE FROM rubric_criteria WHERE purpose = 'renewal'"))
    op.execute(sa.text("DELETE FROM requirements WHERE purpose = 'renewal'"))
    for table in ("rubric_criteria", "requirements"):
        with _batch(table) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_version_id_purpose_key", type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_version_id_key", ["version_id", "key"])
            batch_op.drop_column("purpose")
    with _batch("credential_versions") as batch_op:
        batch_op.drop_column("renewal_passing_points")
        batch_op.drop_column("renewal_passing_level")
        batch_op.drop_column("renewal_months")
