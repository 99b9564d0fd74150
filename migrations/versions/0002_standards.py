"""standards: frameworks, standard items and their associations (CASE import)

Revision ID: 0002
Revises: 0001

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "frameworks",
        sa.Column("case_identifier", sa.String(length=512), nullable=False),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("creator", sa.Text(), nullable=True),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=64), nullable=True),
        sa.Column("adoption_status", sa.Text(), nullable=True),
        sa.Column("subject", JSON, nullable=False),
        sa.Column("official_source_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("rights", sa.Text(), nullable=True),
        sa.Column("licence_uri", sa.Text(), nullable=True),
        sa.Column("source_note", sa.Text(), nullable=False),
        sa.Column("imported_by_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("last_change", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("obsolete_item_count", sa.Integer(), nullable=False),
        sa.Column("association_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_frameworks_imported_by_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_frameworks")),
        sa.UniqueConstraint("case_identifier", name=op.f("uq_frameworks_case_identifier")),
    )
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_frameworks_imported_by_organisation_id"), ["imported_by_organisation_id"], unique=False
        )

    op.create_table(
        "standard_items",
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("case_identifier", sa.String(length=512), nullable=False),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("human_coding_scheme", sa.Text(), nullable=True),
        sa.Column("full_statement", sa.Text(), nullable=False),
        sa.Column("abbreviated_statement", sa.Text(), nullable=True),
        sa.Column("item_type", sa.Text(), nullable=True),
        sa.Column("list_enumeration", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("education_level", JSON, nullable=False),
        sa.Column("language", sa.String(length=64), nullable=True),
        sa.Column("last_change", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("obsolete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_standard_items_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["standard_items.id"], name=op.f("fk_standard_items_parent_id_standard_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_items")),
        sa.UniqueConstraint(
            "framework_id", "case_identifier", name=op.f("uq_standard_items_framework_id_case_identifier")
        ),
    )
    with op.batch_alter_table("standard_items", schema=None) as batch_op:
        # Tree order within a framework (and every "items of framework X" query).
        batch_op.create_index("ix_standard_items_framework_path", ["framework_id", "path"], unique=False)
        batch_op.create_index(batch_op.f("ix_standard_items_parent_id"), ["parent_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Full-text search over code and statements; the expression must match
        # standards.models.search_vector() for the planner to use it.
        op.execute(
            "CREATE INDEX ix_standard_items_search ON standard_items "
            "USING gin (to_tsvector('english'::regconfig, search_text))"
        )
        # Codes are matched anywhere ("6.RP.A" in "CCSS.Math.Content.6.RP.A.1"): trigrams make that indexable.
        # pg_trgm ships with PostgreSQL and is a trusted extension (no superuser needed since PostgreSQL 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_standard_items_code_trgm ON standard_items "
            "USING gin (lower(human_coding_scheme) gin_trgm_ops)"
        )

    op.create_table(
        "standard_associations",
        sa.Column("framework_id", sa.Uuid(), nullable=False),
        sa.Column("case_identifier", sa.String(length=512), nullable=False),
        sa.Column("uri", sa.Text(), nullable=True),
        sa.Column("association_type", sa.String(length=128), nullable=False),
        sa.Column("sequence_number", sa.Integer(), nullable=True),
        sa.Column("origin_identifier", sa.Text(), nullable=False),
        sa.Column("origin_uri", sa.Text(), nullable=True),
        sa.Column("origin_title", sa.Text(), nullable=True),
        sa.Column("origin_item_id", sa.Uuid(), nullable=True),
        sa.Column("destination_identifier", sa.Text(), nullable=False),
        sa.Column("destination_uri", sa.Text(), nullable=True),
        sa.Column("destination_title", sa.Text(), nullable=True),
        sa.Column("destination_item_id", sa.Uuid(), nullable=True),
        sa.Column("last_change", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["destination_item_id"],
            ["standard_items.id"],
            name=op.f("fk_standard_associations_destination_item_id_standard_items"),
        ),
        sa.ForeignKeyConstraint(
            ["framework_id"],
            ["frameworks.id"],
            name=op.f("fk_standard_associations_framework_id_frameworks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["origin_item_id"],
            ["standard_items.id"],
            name=op.f("fk_standard_associations_origin_item_id_standard_items"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_associations")),
        sa.UniqueConstraint(
            "framework_id", "case_identifier", name=op.f("uq_standard_associations_framework_id_case_identifier")
        ),
    )
    with op.batch_alter_table("standard_associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_standard_associations_destination_item_id"), ["destination_item_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_standard_associations_origin_item_id"), ["origin_item_id"], unique=False)


def downgrade():
    with op.batch_alter_table("standard_associations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standard_associations_origin_item_id"))
        batch_op.drop_index(batch_op.f("ix_standard_associations_destination_item_id"))

    op.drop_table("standard_associations")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_standard_items_code_trgm")
        op.execute("DROP INDEX ix_standard_items_search")
    with op.batch_alter_table("standard_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standard_items_parent_id"))
        batch_op.drop_index("ix_standard_items_framework_path")

    op.drop_table("standard_items")
    with op.batch_alter_table("frameworks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frameworks_imported_by_organisation_id"))

    op.drop_table("frameworks")
