"""docs/deploy.md's backup, shown to restore: a database holding valid, revoked, suspended and expired badges is
dumped with ``pg_dump --format=custom``, restored with ``pg_restore`` into a new database, migrated, and
``flask badges verify-all`` then verifies every badge (JSON and VC-JWT, against its keys and status lists) with
the verdict the database records. A badge whose record is changed behind the status list's back is reported."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from core import clock, create_app
from core.db import db
from tests.conftest import make_test_config, recreate_database

pytestmark = pytest.mark.postgres


def _libpq(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for pg_dump and pg_restore."""
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    source, target = recreate_database("restore_src"), recreate_database("restore_dst")
    yield source, target
    for suffix in ("restore_src", "restore_dst"):
        recreate_database(suffix, create=False)


def _app(url: str, files: Path) -> Flask:
    return create_app(make_test_config(url, STORAGE_URL=f"file://{files}"))


def _seed(app: Flask) -> dict[str, str]:
    from badges import revocation
    from tests.badges.issued import admin_of, award, passed_submission

    with app.app_context():
        upgrade()
        valid = award(passed_submission())
        revoked = award(passed_submission())
        suspended = award(passed_submission())
        expired = award(passed_submission(validity_days=30), decided_at=clock.now() - timedelta(days=90))
        revocation.revoke(actor=admin_of(revoked), badge_id=revoked.id, reason="Issued in error")
        revocation.suspend(actor=admin_of(suspended), badge_id=suspended.id, reason="Under review")
        ids = {b.status(): str(b.id) for b in (valid, revoked, suspended, expired)}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


def test_a_dump_restores_and_every_badge_verifies_as_before(databases: tuple[str, str], tmp_path: Path) -> None:
    source, target = databases
    ids = _seed(_app(source, tmp_path / "files"))
    assert set(ids) == {"valid", "revoked", "suspended", "expired"}

    dump = tmp_path / "backup.dump"
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    assert pg_dump and pg_restore
    subprocess.run([pg_dump, "--format=custom", f"--file={dump}", _libpq(source)], check=True)  # noqa: S603
    subprocess.run([pg_restore, "--no-owner", f"--dbname={_libpq(target)}", str(dump)], check=True)  # noqa: S603

    restored = _app(target, tmp_path / "files")
    with restored.app_context():
        upgrade()  # docs/deploy.md: restore, then `flask db upgrade` (nothing to do for a same-version dump)
    result = restored.test_cli_runner().invoke(args=["badges", "verify-all"])
    assert result.exit_code == 0, result.output
    assert "Checked 4 badge(s): 1 expired, 1 revoked, 1 suspended, 1 valid." in result.output
    assert "Every verdict matches the database." in result.output

    # A restore that lost the status list's change (the record says revoked, the list does not) is caught.
    with restored.app_context():
        db.session.execute(
            sa.text("UPDATE badges SET revoked_at = now(), revocation_reason = 'x' WHERE id = :id"),
            {"id": ids["valid"]},
        )
        db.session.commit()
        db.session.remove()
    result = restored.test_cli_runner().invoke(args=["badges", "verify-all"])
    assert result.exit_code == 1
    assert f"DIFFERS {ids['valid']} (json): database says revoked, verifier says valid" in result.output
    with restored.app_context():
        db.engine.dispose()
