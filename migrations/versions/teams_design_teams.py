"""design teams own micro-credentials; a reviewer's request for changes is remembered

``design_teams`` and ``design_team_members`` are new. ``micro_credentials.team_id`` is NULL for every existing
micro-credential: it stays with the organisation's authors as a whole (any of them edits it, another reviews it),
as before, until an org admin gives it to a team. ``credential_versions.changes_requested_at`` is NULL for
existing rows (a draft sent back before this revision reads as a plain draft).

Revision ID: teams_design_teams
Revises: clr_transcripts_endorsements
"""

import warnings

import sqlalchemy as sa
from alembic import op

revision = "teams_design_teams"
down_revision = "clr_transcripts_endorsements"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "design_teams",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_design_teams_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_design_teams_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_design_teams")),
        sa.UniqueConstraint("organisation_id", "name_key", name=op.f("uq_design_teams_organisation_id_name_key")),
    )
    op.create_index(op.f("ix_design_teams_organisation_id"), "design_teams", ["organisation_id"])
    op.create_table(
        "design_team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_design_team_members_added_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["design_teams.id"],
            name=op.f("fk_design_team_members_team_id_design_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_design_team_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_design_team_members")),
    )
    op.create_index(op.f("ix_design_team_members_user_id"), "design_team_members", ["user_id"])
    # SQLite rebuilds the table and reflects its neighbours, users among them, whose lower(email) index it
    # cannot reflect (and need not: users is not changed).
    with warnings.catch_warnings(), op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        warnings.filterwarnings("ignore", message=".*expression-based index")
        batch_op.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_micro_credentials_team_id_design_teams"),
            "design_teams",
            ["team_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_micro_credentials_team_id"), ["team_id"])
    op.add_column("credential_versions", sa.Column("changes_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("credential_versions", "changes_requested_at")
    with warnings.catch_warnings(), op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        warnings.filterwarnings("ignore", message=".*expression-based index")
        batch_op.drop_index(batch_op.f("ix_micro_credentials_team_id"))
        batch_op.drop_constraint(batch_op.f("fk_micro_credentials_team_id_design_teams"), type_="foreignkey")
        batch_op.drop_column("team_id")
    op.drop_index(op.f("ix_design_team_members_user_id"), table_name="design_team_members")
    op.drop_table("design_team_members")
    op.drop_index(op.f("ix_design_teams_organisation_id"), table_name="design_teams")
    op.drop_table("design_teams")
