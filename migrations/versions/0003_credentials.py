"""micro-credentials authoring

Revision ID: 0003
Revises: 0002

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credential_images",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_images")),
    )
    op.create_table(
        "micro_credentials",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_micro_credentials_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_micro_credentials_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_micro_credentials")),
    )
    with op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_micro_credentials_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "stacks",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("required_count", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_stacks_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_stacks_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stacks")),
    )
    with op.batch_alter_table("stacks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stacks_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "credential_versions",
        sa.Column("micro_credential_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("short_description", sa.String(length=500), nullable=False),
        sa.Column("competency_statement", sa.Text(), nullable=False),
        sa.Column("key_method", sa.Text(), nullable=False),
        sa.Column("method_components", sa.JSON(), nullable=False),
        sa.Column("supporting_research", sa.JSON(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("achievement_type", sa.String(length=64), nullable=False),
        sa.Column("estimated_hours", sa.Float(), nullable=True),
        sa.Column("credits", sa.Float(), nullable=True),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("passing_level", sa.String(length=100), nullable=True),
        sa.Column("passing_points", sa.Integer(), nullable=True),
        sa.Column("image_id", sa.String(length=64), nullable=True),
        sa.Column("review_requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("review_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Uuid(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Uuid(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_reason", sa.String(length=500), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_credential_versions_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["credential_images.id"], name=op.f("fk_credential_versions_image_id_credential_images")
        ),
        sa.ForeignKeyConstraint(
            ["micro_credential_id"],
            ["micro_credentials.id"],
            name=op.f("fk_credential_versions_micro_credential_id_micro_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_credential_versions_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"], ["users.id"], name=op.f("fk_credential_versions_published_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["review_requested_by_id"], ["users.id"], name=op.f("fk_credential_versions_review_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_versions")),
        sa.UniqueConstraint(
            "micro_credential_id", "number", name=op.f("uq_credential_versions_micro_credential_id_number")
        ),
    )
    with op.batch_alter_table("credential_versions", schema=None) as batch_op:
        batch_op.create_index("ix_credential_versions_state_org", ["state", "organisation_id"], unique=False)

    op.create_table(
        "stack_members",
        sa.Column("stack_id", sa.Uuid(), nullable=False),
        sa.Column("micro_credential_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["micro_credential_id"],
            ["micro_credentials.id"],
            name=op.f("fk_stack_members_micro_credential_id_micro_credentials"),
        ),
        sa.ForeignKeyConstraint(
            ["stack_id"], ["stacks.id"], name=op.f("fk_stack_members_stack_id_stacks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("stack_id", "micro_credential_id", name=op.f("pk_stack_members")),
    )
    op.create_table(
        "alignments",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("standard_item_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["standard_item_id"], ["standard_items.id"], name=op.f("fk_alignments_standard_item_id_standard_items")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_alignments_version_id_credential_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alignments")),
        sa.UniqueConstraint("version_id", "standard_item_id", name=op.f("uq_alignments_version_id_standard_item_id")),
    )
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alignments_standard_item_id"), ["standard_item_id"], unique=False)

    op.create_table(
        "credential_tags",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_credential_tags_version_id_credential_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "tag", name=op.f("pk_credential_tags")),
    )
    with op.batch_alter_table("credential_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "draft_comments",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_draft_comments_author_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_draft_comments_version_id_credential_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_comments")),
    )
    with op.batch_alter_table("draft_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_draft_comments_version_id"), ["version_id"], unique=False)

    op.create_table(
        "requirements",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("evidence_kind", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("min_words", sa.Integer(), nullable=True),
        sa.Column("max_words", sa.Integer(), nullable=True),
        sa.Column("allowed_file_types", sa.JSON(), nullable=False),
        sa.Column("min_files", sa.Integer(), nullable=True),
        sa.Column("max_files", sa.Integer(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_requirements_version_id_credential_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requirements")),
        sa.UniqueConstraint("version_id", "key", name=op.f("uq_requirements_version_id_key")),
    )
    op.create_table(
        "rubric_criteria",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("requirement_keys", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["credential_versions.id"],
            name=op.f("fk_rubric_criteria_version_id_credential_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_criteria")),
        sa.UniqueConstraint("version_id", "key", name=op.f("uq_rubric_criteria_version_id_key")),
    )
    op.create_table(
        "rubric_levels",
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("descriptor", sa.Text(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["rubric_criteria.id"],
            name=op.f("fk_rubric_levels_criterion_id_rubric_criteria"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubric_levels")),
        sa.UniqueConstraint("criterion_id", "position", name=op.f("uq_rubric_levels_criterion_id_position")),
    )


def downgrade():
    op.drop_table("rubric_levels")
    op.drop_table("rubric_criteria")
    op.drop_table("requirements")
    with op.batch_alter_table("draft_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_comments_version_id"))

    op.drop_table("draft_comments")
    with op.batch_alter_table("credential_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_tags_tag"))

    op.drop_table("credential_tags")
    with op.batch_alter_table("alignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alignments_standard_item_id"))

    op.drop_table("alignments")
    op.drop_table("stack_members")
    with op.batch_alter_table("credential_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_credential_versions_state_org")

    op.drop_table("credential_versions")
    with op.batch_alter_table("stacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stacks_organisation_id"))

    op.drop_table("stacks")
    with op.batch_alter_table("micro_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_micro_credentials_organisation_id"))

    op.drop_table("micro_credentials")
    op.drop_table("credential_images")
