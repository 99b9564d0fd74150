"""The schema comes from the migrations alone, and they match the models."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from core.db import db
from core.health import migration_heads


def test_migrations_are_at_a_single_head(app):
    current, heads = migration_heads()
    assert len(heads) == 1
    assert current == heads


def test_models_and_migrations_agree(app):
    """A model change without its Alembic revision fails here."""
    with db.engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    # Expression indexes (lower(email)) are invisible to autogenerate on some backends; ignore only those.
    differences = [d for d in differences if not (d[0] == "remove_index" and d[1].name == "uq_users_email_lower")]
    assert differences == []
