"""Benchmark: claim-next latency, the queue listing and the report queries at 1,000,000 submissions.

    .venv/bin/python bench/review_queue.py                                       # SQLite in a temporary file
    .venv/bin/python bench/review_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_6

The database is WIPED (PostgreSQL: its public schema is dropped) and rebuilt by the migrations: use a scratch
one. Data: one organisation, 20 micro-credentials, 100 qualified assessors, 50,000 earners and
``--submissions`` submissions (default 1,000,000): 2 % waiting in the queue, the rest decided with one review
each (a tenth double scored). Bulk load: COPY on PostgreSQL, executemany on SQLite.

Each claim and each listing runs through the service, as a request would (authorisation, calibration
check, pick-up of new submissions, audit row) and commits. The in-run baseline is a primary-key lookup plus
commit on the same session. Targets (shared/PERFORMANCE.md): claim-next and listing p50 < 5 ms, p99 < 20 ms
on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CREDENTIALS = 20
ASSESSORS = 100
EARNERS = 50_000


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _summary(name: str, times: Sequence[float], baseline: float | None = None) -> str:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    ratio = f"  ({p50 / baseline:.1f}x baseline)" if baseline else ""
    return f"{name:44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   n={len(times)}{ratio}"


class Loader:
    """Bulk rows into a table: COPY on PostgreSQL, executemany on the raw SQLite connection."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"

    def _sqlite_value(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, bool):
            return int(value)
        return value

    def load(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.pg:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 (fixed table names)
                cursor.execute("BEGIN")
                batch: list[Sequence[Any]] = []
                for row in rows:
                    batch.append([self._sqlite_value(v) for v in row])
                    count += 1
                    if len(batch) == 20_000:
                        cursor.executemany(sql, batch)
                        batch.clear()
                cursor.executemany(sql, batch)
                cursor.execute("COMMIT")
            raw.commit()
        finally:
            raw.close()
        return count


def build(app: Any, submissions: int, seed: int = 6) -> dict[str, Any]:

    from assessors.models import ProgrammeSettings, Qualification
    from core.db import db
    from core.models import Membership, Organisation, Role, User
    from credentials.authoring.models import CredentialVersion, MicroCredential, RubricCriterion, RubricLevel

    rng = random.Random(seed)
    now = datetime.now(UTC)
    with app.app_context():
        org = Organisation(slug="bench", name="Bench District")
        db.session.add(org)
        db.session.flush()
        db.session.add(ProgrammeSettings(organisation_id=org.id, double_first_n=0, double_share=0.0))
        versions = []
        for n in range(CREDENTIALS):
            mc = MicroCredential(organisation_id=org.id)
            db.session.add(mc)
            db.session.flush()
            version = CredentialVersion(
                micro_credential_id=mc.id,
                organisation_id=org.id,
                number=1,
                state="published",
                title=f"Credential {n}",
                passing_level="Proficient",
                published_at=now,
            )
            criterion = RubricCriterion(key="quality", position=0, name="Quality")
            criterion.levels = [
                RubricLevel(position=i, name=name, points=i)
                for i, name in enumerate(("Not yet", "Developing", "Proficient", "Exemplary"))
            ]
            version.criteria = [criterion]
            db.session.add(version)
            versions.append(version)
        db.session.flush()
        assessors = []
        for n in range(ASSESSORS):
            user = User(email=f"assessor{n}@bench.example", name=f"Assessor {n}")
            user.memberships.append(Membership(organisation_id=org.id, role=Role.ASSESSOR.value))
            db.session.add(user)
            assessors.append(user)
        db.session.flush()
        for user in assessors:
            for version in versions:
                db.session.add(
                    Qualification(
                        organisation_id=org.id, micro_credential_id=version.micro_credential_id, user_id=user.id
                    )
                )
        db.session.commit()
        info = {
            "org": org.id,
            "versions": [(v.id, v.micro_credential_id) for v in versions],
            "assessors": [a.id for a in assessors],
        }

    loader = Loader(_engine(app))
    earners = [uuid.uuid4() for _ in range(EARNERS)]
    loader.load(
        "users",
        ("id", "email", "name", "is_platform_admin", "is_active", "token_version", "created_at", "updated_at"),
        ((e, f"e{i}@bench.example", f"Earner {i}", False, True, 1, now, now) for i, e in enumerate(earners)),
    )
    waiting_share = 0.02
    start = now - timedelta(days=365)
    span = 365 * 24 * 3600
    sub_rows, task_rows, review_rows, score_rows = [], [], [], []

    def flush() -> None:
        loader.load(
            "submissions",
            (
                "id",
                "created_at",
                "updated_at",
                "reference",
                "organisation_id",
                "micro_credential_id",
                "version_id",
                "earner_id",
                "attempt",
                "state",
                "submitted_at",
                "decided_at",
                "evidence_public",
                "lock_version",
            ),
            sub_rows,
        )
        loader.load(
            "review_tasks",
            (
                "id",
                "submission_id",
                "organisation_id",
                "micro_credential_id",
                "version_id",
                "earner_id",
                "kind",
                "slot",
                "state",
                "queued_at",
                "claimed_by_id",
                "claimed_at",
                "lease_expires_at",
                "completed_at",
            ),
            task_rows,
        )
        loader.load(
            "reviews",
            (
                "id",
                "task_id",
                "submission_id",
                "micro_credential_id",
                "assessor_id",
                "kind",
                "state",
                "summary",
                "decision",
                "total_points",
                "started_at",
                "submitted_at",
            ),
            review_rows,
        )
        loader.load("review_scores", ("id", "review_id", "criterion_key", "level_position", "feedback"), score_rows)
        for rows in (sub_rows, task_rows, review_rows, score_rows):
            rows.clear()

    made = 0
    for earner in earners:
        for version_id, mc_id in info["versions"]:
            if made >= submissions:
                break
            made += 1
            sid = uuid.uuid4()
            submitted = start + timedelta(seconds=rng.randrange(span))
            waiting = rng.random() < waiting_share
            if waiting:
                sub_rows.append(
                    (
                        sid,
                        submitted,
                        submitted,
                        f"B{made:014d}",
                        info["org"],
                        mc_id,
                        version_id,
                        earner,
                        1,
                        "in_review",
                        submitted,
                        None,
                        False,
                        1,
                    )
                )
                task_rows.append(
                    (
                        uuid.uuid4(),
                        sid,
                        info["org"],
                        mc_id,
                        version_id,
                        earner,
                        "review",
                        1,
                        "open",
                        submitted,
                        None,
                        None,
                        None,
                        None,
                    )
                )
                continue
            decided = submitted + timedelta(hours=rng.uniform(2, 400))
            slots = 2 if rng.random() < 0.1 else 1
            first_level = rng.choice((1, 2, 2, 3))
            decision = "passed" if first_level >= 2 else "not_yet"
            sub_rows.append(
                (
                    sid,
                    submitted,
                    decided,
                    f"B{made:014d}",
                    info["org"],
                    mc_id,
                    version_id,
                    earner,
                    1,
                    decision,
                    submitted,
                    decided,
                    False,
                    1,
                )
            )
            for slot in range(1, slots + 1):
                level = first_level if slot == 1 else max(0, min(3, first_level + rng.choice((-1, 0, 0, 0, 1))))
                tid, rid = uuid.uuid4(), uuid.uuid4()
                assessor = info["assessors"][rng.randrange(ASSESSORS)]
                task_rows.append(
                    (
                        tid,
                        sid,
                        info["org"],
                        mc_id,
                        version_id,
                        earner,
                        "review",
                        slot,
                        "done",
                        submitted,
                        assessor,
                        submitted,
                        submitted + timedelta(hours=48),
                        decided,
                    )
                )
                review_rows.append(
                    (
                        rid,
                        tid,
                        sid,
                        mc_id,
                        assessor,
                        "review",
                        "submitted",
                        "Summary.",
                        "passed" if level >= 2 else "not_yet",
                        level,
                        submitted,
                        decided,
                    )
                )
                score_rows.append((uuid.uuid4(), rid, "quality", level, ""))
            if len(sub_rows) >= 50_000:
                flush()
        if made >= submissions:
            break
    flush()
    _vacuum(app)
    return info


def existing(app: Any) -> dict[str, Any]:
    """What ``build`` made, read back from the database."""
    import sqlalchemy as sa

    from assessors.models import ReviewTask
    from core.db import db
    from core.models import Membership, Organisation
    from credentials.authoring.models import CredentialVersion

    with app.app_context():
        org = db.session.scalar(sa.select(Organisation.id).where(Organisation.slug == "bench"))
        versions = db.session.execute(
            sa.select(CredentialVersion.id, CredentialVersion.micro_credential_id)
            .where(CredentialVersion.organisation_id == org)
            .order_by(CredentialVersion.title)
        ).all()
        assessors = db.session.scalars(sa.select(Membership.user_id).where(Membership.organisation_id == org)).all()
        # Start from the same queue as a fresh load: no live claims from the previous run.
        db.session.execute(
            sa.update(ReviewTask)
            .where(ReviewTask.organisation_id == org, ReviewTask.state == "open")
            .values(claimed_by_id=None, claimed_at=None, lease_expires_at=None)
        )
        db.session.commit()
    _vacuum(app)
    with app.app_context():
        return {"org": org, "versions": [tuple(v) for v in versions], "assessors": list(assessors)}


def _vacuum(app: Any) -> None:
    """What autovacuum would have done after a bulk load: statistics and the visibility map (index-only scans)."""
    import sqlalchemy as sa

    engine = _engine(app)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def _engine(app: Any) -> Any:
    from core.db import db

    with app.app_context():
        return db.engine


class _Printed(list[str]):
    """Lines shown as soon as they are measured (a long run shows progress)."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def measure(app: Any, info: dict[str, Any], runs: int, reports_too: bool = True) -> list[str]:
    from assessors import queue, reports
    from core.db import db
    from core.models import User
    from credentials.portfolios.models import Submission

    lines = _Printed()
    with app.app_context():
        any_submission = db.session.scalar(db.select(Submission.id).limit(1))
        admin_like = None

        def baseline() -> None:
            db.session.get(Submission, any_submission, populate_existing=True)
            db.session.commit()

        base = _timed(baseline, runs)
        lines.append(_summary("baseline: PK lookup + commit", base))

        def write_baseline() -> None:
            row = db.session.get(Submission, any_submission, populate_existing=True)
            row.feedback_summary = str(time.perf_counter())
            db.session.commit()

        # A claim writes (the claim, an audit row), so its commit waits for the WAL flush; so does this one.
        base = _timed(write_baseline, runs)
        base_p50 = statistics.median(base)
        lines.append(_summary("baseline: PK lookup + one-row update + commit", base))

        assessors = [db.session.get(User, a) for a in info["assessors"]]
        turn = iter(range(10**9))

        def claim() -> None:
            actor = assessors[next(turn) % len(assessors)]
            task = queue.claim_next(actor=actor, organisation_id=info["org"])
            assert task is not None
            db.session.commit()

        lines.append(_summary("claim next (service + commit)", _timed(claim, runs), base_p50))

        mc_id = info["versions"][3][1]

        def claim_one_credential() -> None:
            actor = assessors[next(turn) % len(assessors)]
            task = queue.claim_next(actor=actor, organisation_id=info["org"], micro_credential_id=mc_id)
            assert task is not None
            db.session.commit()

        lines.append(_summary("claim next, one credential", _timed(claim_one_credential, runs), base_p50))

        def listing() -> None:
            queue.list_queue(actor=assessors[0], organisation_id=info["org"])
            db.session.commit()

        lines.append(_summary("queue listing, organisation (50, counts)", _timed(listing, runs), base_p50))

        def listing_credential() -> None:
            queue.list_queue(actor=assessors[0], organisation_id=info["org"], micro_credential_id=mc_id)
            db.session.commit()

        lines.append(_summary("queue listing, one credential", _timed(listing_credential, runs), base_p50))

        if not reports_too:
            return lines
        admin_like = User(email="bench-admin@bench.example", name="Bench admin", is_platform_admin=True, is_active=True)
        admin_like.id = uuid.uuid4()
        lines.append(
            _summary(
                "report by credential",
                _timed(lambda: reports.credential_report(actor=admin_like, organisation_id=info["org"]), 3),
            )
        )
        lines.append(
            _summary(
                "report by assessor",
                _timed(lambda: reports.assessor_report(actor=admin_like, organisation_id=info["org"]), 3),
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--submissions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--reuse", action="store_true", help="measure the data a previous run loaded (no wipe)")
    parser.add_argument("--skip-reports", action="store_true", help="leave out the (slow) report queries")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from core import create_app
    from core.db import empty_postgresql_schema

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-review-')}/bench.sqlite3"
    config = {
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "OUTBOX_INLINE": False,
    }
    if args.reuse:
        app = create_app(config)
        print(f"database: {url.split('@')[-1]} (reused)")
        measure(app, existing(app), args.runs, not args.skip_reports)
        return
    empty_postgresql_schema(url)
    app = create_app(config)
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    info = build(app, args.submissions)
    load_seconds = time.perf_counter() - started
    print(f"database: {url.split('@')[-1]}")
    print(f"loaded {args.submissions:,} submissions (+ tasks, reviews, scores) in {load_seconds:.1f} s")
    measure(app, info, args.runs, not args.skip_reports)


if __name__ == "__main__":
    main()
