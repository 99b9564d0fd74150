"""Faults: the S3 endpoint dies in the middle of an upload, the database connection dies during issuing and
during a claim. Each time nothing is half-written, the answer is a clear error (503 for the upload), the retry
succeeds, and a passed submission has exactly one badge, a task exactly one claim.

The S3 cut is a TCP proxy in front of a real moto server (``tests.faults.CuttingProxy``); the database faults
terminate the PostgreSQL backend of the app's own connection as a chosen statement is sent
(``tests.faults.kill_connection_on``), on a database of their own, since the usual rolled-back test transaction
would die with the connection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select

from core import create_app, storage
from core.db import db
from tests.conftest import S3_TEST_SETTINGS, TEST_DATABASE_URL, bearer, make_test_config, problem, recreate_database
from tests.faults import CuttingProxy, kill_connection_on

BIG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4096  # ~1 MB: many TCP segments, so the cut is mid-upload


@pytest.fixture
def proxy(s3_server: str) -> Iterator[CuttingProxy]:
    target = urlsplit(s3_server)
    cutting = CuttingProxy(target.hostname or "127.0.0.1", target.port or 80)
    yield cutting
    cutting.close()


def test_s3_dying_mid_upload_keeps_nothing_and_the_retry_succeeds(
    client: Any, app: Flask, monkeypatch: Any, proxy: CuttingProxy, s3_bucket: str, tmp_path: Path
) -> None:
    from credentials.portfolios.models import EvidenceFile
    from tests.credentials.test_submissions import _start, _upload
    from tests.factories import member, portfolio_version

    config = {**S3_TEST_SETTINGS, "S3_ENDPOINT_URL": proxy.url}
    store = storage.S3Backend(s3_bucket, f"faults-{uuid.uuid4().hex}", config, staging_dir=tmp_path / "staging")
    monkeypatch.setitem(app.extensions, "storage", store)
    version = portfolio_version()
    earner = member(version.organisation)
    submission = _start(client, earner, version)

    proxy.cut_after(200_000)  # every connection (the retries too) dies after ~200 KB of the body
    failed = _upload(client, earner, submission, (BIG, "plan.png"))
    body = problem(failed, 503)
    assert "try again" in body["detail"] and proxy.cuts >= 1
    assert db.session.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    assert list(store.list()) == []
    assert not any((tmp_path / "staging").glob("*")), "no staging file is left behind"

    proxy.heal()
    retried = _upload(client, earner, submission, (BIG, "plan.png"))
    assert retried.status_code == 201, retried.get_data(as_text=True)
    [kept] = retried.get_json()
    assert store.exists(kept["sha256"])
    files = client.get(f"/api/v1/submissions/{submission['id']}", headers=bearer(earner)).get_json()["files"]
    assert [f["id"] for f in files] == [kept["id"]]


# --- the database connection, killed -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    if not TEST_DATABASE_URL.startswith("postgresql"):
        pytest.skip("terminating a connection is a PostgreSQL test")
    files = tmp_path_factory.mktemp("fault-files")
    app = create_app(make_test_config(recreate_database("faults"), STORAGE_URL=f"file://{files}"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    recreate_database("faults", create=False)


def _committed(app: Flask, make: Any) -> Any:
    with app.app_context():
        value = make()
        db.session.commit()
        db.session.remove()
    return value


@pytest.mark.postgres
def test_the_connection_dying_while_issuing_leaves_no_badge_and_the_retry_issues_one(own_app: Flask) -> None:
    from assessors.issuance import Award, CriterionResult
    from badges import issuing
    from badges.models import Badge
    from tests.badges.issued import passed_submission

    def seed() -> Award:
        submission = passed_submission()
        return Award(
            submission_id=submission.id,
            version_id=submission.version_id,
            earner_id=submission.earner_id,
            decided_at=submission.decided_at,
            results=(CriterionResult(criterion_key="quality", level_position=2),),
        )

    award = _committed(own_app, seed)

    def badges() -> int:
        with own_app.app_context():
            count = db.session.scalar(
                select(func.count()).select_from(Badge).where(Badge.submission_id == award.submission_id)
            )
            db.session.remove()
        return int(count or 0)

    with own_app.app_context():
        with kill_connection_on(db.engine, r"^INSERT INTO badges\b") as killed, pytest.raises(sa.exc.DBAPIError):
            issuing.issue_for_award(award)
            db.session.commit()
        db.session.rollback()
        db.session.remove()
    assert killed["count"] == 1 and badges() == 0  # nothing half-written: no badge, no status index taken

    for _ in range(2):  # the retry issues it; a second retry finds it and issues nothing more
        with own_app.app_context():
            issued = issuing.issue_for_award(award)
            db.session.commit()
            db.session.remove()
        assert issued is not None
    assert badges() == 1


@pytest.mark.postgres
def test_the_connection_dying_during_a_claim_leaves_the_task_free_and_the_retry_claims_it(own_app: Flask) -> None:
    from assessors import queue
    from assessors.models import ReviewTask
    from tests.assessors.test_services import World

    def seed() -> dict[str, Any]:
        world = World(db.session)
        submission = world.submission()
        queue.enqueue_submitted(world.org.id)
        return {"org": world.org.id, "assessor": world.assessor.id, "submission": submission.id}

    ids = _committed(own_app, seed)

    def claimed() -> list[Any]:
        with own_app.app_context():
            rows = list(
                db.session.execute(
                    select(ReviewTask.claimed_by_id, ReviewTask.state).where(
                        ReviewTask.submission_id == ids["submission"]
                    )
                )
            )
            db.session.remove()
        return rows

    def claim() -> Any:
        from core.models import User

        actor = db.session.get(User, ids["assessor"])
        task = queue.claim_next(actor=actor, organisation_id=ids["org"])
        db.session.commit()
        return task

    with own_app.app_context():
        with kill_connection_on(db.engine, r"^UPDATE review_tasks\b") as killed, pytest.raises(sa.exc.DBAPIError):
            claim()
        db.session.rollback()
        db.session.remove()
    assert killed["count"] == 1
    assert all(assessor is None for assessor, _ in claimed())  # still free for anyone

    with own_app.app_context():
        task = claim()
        assert task is not None and task.claimed_by_id == ids["assessor"]
        task_id = task.id
        db.session.remove()
    with own_app.app_context():
        again = claim()  # nothing more to claim: the one task is held, and not twice
        assert again is None or again.id == task_id
        db.session.remove()
    held = [row for row in claimed() if row[0] is not None]
    assert len(held) == 1
