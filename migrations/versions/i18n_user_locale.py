"""Users' preferred language for pages and mail (empty: the browser's, else English)

Revision ID: i18n_user_locale
Revises: impact_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "i18n_user_locale"
down_revision = "impact_reports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
