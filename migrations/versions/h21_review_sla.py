"""review service level: due dates in business days, a non-working-day calendar, reminders and breaches

Revision ID: h21_review_sla
Revises: h20_evidence_retention
"""

import sqlalchemy as sa
from alembic import op

revision = "h21_review_sla"
down_revision = "h20_evidence_retention"
branch_labels = None
depends_on = None

_OPEN = sa.text("state = 'open'")


def _queue_indexes(batch_op, columns):
    for name, first in (
        ("ix_review_tasks_open_credential", "micro_credential_id"),
        ("ix_review_tasks_open_org", "organisation_id"),
    ):
        batch_op.drop_index(name)
        batch_op.create_index(name, [first, *columns], unique=False, sqlite_where=_OPEN, postgresql_where=_OPEN)


def upgrade():
    op.create_table(
        "review_non_working_days",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_review_non_working_days_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_non_working_days")),
        sa.UniqueConstraint("organisation_id", "day", name=op.f("uq_review_non_working_days_organisation_id_day")),
    )
    with op.batch_alter_table("review_settings") as batch_op:
        batch_op.add_column(sa.Column("turnaround_business_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reminder_business_days", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("breach_action", sa.String(length=16), nullable=False, server_default="escalate"))
    with op.batch_alter_table("review_tasks") as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("review_tasks") as batch_op:
        _queue_indexes(batch_op, ["queued_at", "lease_expires_at", "due_at"])
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("due_at")
    with op.batch_alter_table("review_tasks") as batch_op:
        _queue_indexes(batch_op, ["queued_at", "lease_expires_at"])
    with op.batch_alter_table("review_tasks") as batch_op:
        for column in ("breached_at", "reminded_at", "remind_at", "due_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("review_settings") as batch_op:
        for column in ("breach_action", "reminder_business_days", "turnaround_business_days"):
            batch_op.drop_column(column)
    op.drop_table("review_non_working_days")
