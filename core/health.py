"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.db import db


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions the database is at, head revisions in migrations/)."""
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    with db.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """The process is up (no dependencies checked)."""
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        """Ready to serve: the database answers and its schema is at the newest migration."""
        checks: dict[str, str] = {}
        try:
            db.session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current, heads = migration_heads()
            checks["migrations"] = (
                "ok"
                if current == heads
                else (f"at {', '.join(sorted(current)) or 'nothing'}, expected {', '.join(sorted(heads))}")
            )
        except SQLAlchemyError as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        finally:
            db.session.rollback()
        ready = all(v == "ok" for v in checks.values()) and "migrations" in checks
        return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
