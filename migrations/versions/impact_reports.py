"""impact reports: covering indexes for the report queries (badges by month, funnel, time to earn, retention)

The reports aggregate the badges and submissions of a set of organisations over a date range. On PostgreSQL
the indexes carry the columns the aggregates read (INCLUDE), so the reports scan the index alone (index-only
scans) and never the wide badge rows with their signed credentials; SQLite gets the same keys without them.

Revision ID: impact_reports
Revises: renew_renewal_workflow
"""

import sqlalchemy as sa
from alembic import op

revision = "impact_reports"
down_revision = "renew_renewal_workflow"
branch_labels = None
depends_on = None

COUNTED_BADGES = "revoked_at IS NULL AND source <> 'renewal'"
PASSED = "state = 'passed'"


def upgrade():
    op.create_index(
        "ix_badges_impact",
        "badges",
        ["organisation_id", "awarded_at"],
        postgresql_include=["earner_id", "version_id"],
        postgresql_where=sa.text(COUNTED_BADGES),
        sqlite_where=sa.text(COUNTED_BADGES),
    )
    op.create_index(
        "ix_submissions_impact",
        "submissions",
        ["organisation_id", "created_at"],
        postgresql_include=["state", "attempt", "micro_credential_id", "earner_id", "submitted_at", "decided_at"],
    )
    op.create_index(
        "ix_submissions_impact_passed",
        "submissions",
        ["organisation_id", "decided_at"],
        postgresql_include=["micro_credential_id", "earner_id", "attempt", "created_at"],
        postgresql_where=sa.text(PASSED),
        sqlite_where=sa.text(PASSED),
    )


def downgrade():
    op.drop_index("ix_submissions_impact_passed", table_name="submissions")
    op.drop_index("ix_submissions_impact", table_name="submissions")
    op.drop_index("ix_badges_impact", table_name="badges")
