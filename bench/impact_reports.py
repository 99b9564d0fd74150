"""Benchmark: the impact reports (badges/impact.py) at 1,000,000 submissions on PostgreSQL.

    .venv/bin/python bench/impact_reports.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_impact
    .venv/bin/python bench/impact_reports.py --database-url … --reuse      # measure again, no reload

The database is WIPED (its public schema is dropped) and rebuilt by the migrations: use a scratch one.

Data, made inside PostgreSQL with generate_series (ids are md5-derived UUIDs, so no round trips):
a state agency with 5 districts of 40 schools each; 10 micro-credentials per district, each aligned to 2 of
100 standard items; 225,000 earners, 90 % of them members of their district placed in a school with a job role;
900,000 first attempts over two years (10 % drafts, 5 % withdrawn, 5 % waiting, 25 % "not yet", 55 % passed)
plus second attempts after "not yet" up to ``--submissions``; one badge per passed submission.

Each report runs through the service as the page calls it (scope check included), for the state agency across
its children (the largest scope) and for one district, ``--runs`` times; the script prints p50 / p95 and the
EXPLAIN (ANALYZE) summary of each report's heaviest statement: plan nodes, the time, rows and whether it spilled.
Target: each report < 1 s at p95.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DISTRICTS, SCHOOLS, CREDENTIALS, ITEMS = 5, 40, 10, 100
EARNERS, FIRST_ATTEMPTS = 225_000, 900_000
JOB_ROLES = ("teacher", "teacher", "teacher", "administrator", "support staff", "coach", "other")


def _uuid(kind: str, n: int) -> uuid.UUID:
    import hashlib

    return uuid.UUID(hashlib.md5(f"{kind}{n}".encode()).hexdigest())  # noqa: S324 (ids, not security)


def build(app: Any, submissions: int) -> None:
    import sqlalchemy as sa

    from badges.models import StatusList
    from core.db import db
    from core.models import Organisation
    from credentials.authoring.models import Alignment, CredentialVersion, MicroCredential
    from standards.models import Framework, StandardItem

    with app.app_context():
        state = Organisation(id=_uuid("org", 0), slug="bench-state", name="Bench State", kind="state_agency")
        db.session.add(state)
        framework = Framework(title="Bench standards", case_identifier="bench-framework")
        db.session.add(framework)
        db.session.flush()
        items = []
        for i in range(ITEMS):
            item = StandardItem(
                framework_id=framework.id,
                case_identifier=f"bench-{i}",
                human_coding_scheme=f"B.{i}",
                full_statement=f"Standard {i}",
            )
            db.session.add(item)
            items.append(item)
        for d in range(DISTRICTS):
            district = Organisation(
                id=_uuid("org", d + 1), slug=f"bench-d{d}", name=f"District {d}", parent_id=state.id
            )
            db.session.add(district)
            db.session.flush()
            db.session.add(StatusList(id=_uuid("list", d), organisation_id=district.id))
            for s in range(SCHOOLS):
                n = 100 + d * SCHOOLS + s
                db.session.add(
                    Organisation(
                        id=_uuid("org", n), slug=f"bench-d{d}-s{s}", name=f"School {d}-{s}", parent_id=district.id
                    )
                )
            for c in range(CREDENTIALS):
                n = d * CREDENTIALS + c
                db.session.add(MicroCredential(id=_uuid("mc", n), organisation_id=district.id))
                db.session.flush()
                version = CredentialVersion(
                    id=_uuid("v", n),
                    micro_credential_id=_uuid("mc", n),
                    organisation_id=district.id,
                    number=1,
                    state="published",
                    title=f"Credential {d}-{c}",
                    passing_level="Proficient",
                )
                db.session.add(version)
                db.session.flush()
                for k in (0, 1):
                    db.session.add(
                        Alignment(version_id=version.id, standard_item_id=items[(n * 2 + k) % ITEMS].id, position=k)
                    )
        db.session.commit()
        # md5(text)::uuid gives the same ids as _uuid() above, inside the database.
        statements = [
            f"""INSERT INTO users (id, email, name, is_platform_admin, is_active, token_version, created_at, updated_at)
            SELECT md5('earner' || e)::uuid, 'e' || e || '@bench.example', 'Earner ' || e, false, true, 1, now(), now()
            FROM generate_series(0, {EARNERS - 1}) e""",  # noqa: S608 (numbers of this script)
            f"""INSERT INTO memberships (id, organisation_id, user_id, role, created_at, unit_id, job_role)
            SELECT gen_random_uuid(), md5('org' || (e % {DISTRICTS} + 1))::uuid, md5('earner' || e)::uuid,
                   'author', now(),
                   md5('org' || (100 + (e % {DISTRICTS}) * {SCHOOLS} + (e / {DISTRICTS}) % {SCHOOLS}))::uuid,
                   (ARRAY{list(JOB_ROLES)})[1 + e % {len(JOB_ROLES)}]
            FROM generate_series(0, {EARNERS - 1}) e WHERE e % 10 <> 0""",  # noqa: S608
            # b → earner b % EARNERS, their (b / EARNERS)-th credential of their district (distinct for k = 0..3).
            f"""INSERT INTO submissions (id, created_at, updated_at, reference, organisation_id, micro_credential_id,
                   version_id, earner_id, attempt, state, submitted_at, queued_at, decided_at, withdrawn_at,
                   evidence_public, lock_version)
            SELECT gen_random_uuid(), started, started, 'B' || lpad(b::text, 12, '0'),
                   md5('org' || (e % {DISTRICTS} + 1))::uuid, md5('mc' || mc)::uuid, md5('v' || mc)::uuid,
                   md5('earner' || e)::uuid, 1, st,
                   CASE WHEN st <> 'draft' THEN started + interval '3 days' END,
                   CASE WHEN st NOT IN ('draft', 'withdrawn') THEN started + interval '3 days' END,
                   CASE WHEN st IN ('passed', 'not_yet')
                        THEN started + interval '3 days' + (b % 40) * interval '1 day' END,
                   CASE WHEN st = 'withdrawn' THEN started + interval '4 days' END,
                   false, 1
            FROM (
              SELECT b, b % {EARNERS} AS e,
                     (b % {EARNERS}) % {DISTRICTS} * {CREDENTIALS}
                       + ((b % {EARNERS}) + (b / {EARNERS}) * 3) % {CREDENTIALS} AS mc,
                     now() - (b * 37 % 730) * interval '1 day' - (b % 86400) * interval '1 second' AS started,
                     CASE WHEN (b * 7919) % 100 < 10 THEN 'draft' WHEN (b * 7919) % 100 < 15 THEN 'withdrawn'
                          WHEN (b * 7919) % 100 < 20 THEN 'in_review' WHEN (b * 7919) % 100 < 45 THEN 'not_yet'
                          ELSE 'passed' END AS st
              FROM generate_series(0::bigint, {min(submissions, FIRST_ATTEMPTS) - 1}) b
            ) g""",  # noqa: S608
            f"""INSERT INTO submissions (id, created_at, updated_at, reference, organisation_id, micro_credential_id,
                   version_id, earner_id, attempt, previous_id, state, submitted_at, queued_at, decided_at,
                   evidence_public, lock_version)
            SELECT gen_random_uuid(), decided_at + interval '5 days', decided_at + interval '5 days',
                   'C' || substr(reference, 2), organisation_id, micro_credential_id, version_id, earner_id, 2, id,
                   CASE WHEN substr(reference, 10)::int % 3 = 0 THEN 'not_yet' ELSE 'passed' END,
                   decided_at + interval '8 days', decided_at + interval '8 days', decided_at + interval '20 days',
                   false, 1
            FROM submissions WHERE state = 'not_yet' AND attempt = 1 AND decided_at < now() - interval '20 days'
            ORDER BY reference LIMIT {max(0, submissions - FIRST_ATTEMPTS)}""",  # noqa: S608
            """INSERT INTO badges (id, created_at, updated_at, organisation_id, version_id, earner_id, recipient_name,
                   source, submission_id, issue_key, title, status_list_id, status_index, awarded_at, valid_from,
                   issued_at, credential, jwt, acceptance)
            SELECT gen_random_uuid(), s.decided_at, s.decided_at, s.organisation_id, s.version_id, s.earner_id, '',
                   'assessment', s.id, 'bench-' || s.reference, 'Bench badge', sl.id,
                   row_number() OVER (PARTITION BY s.organisation_id ORDER BY s.reference), s.decided_at,
                   s.decided_at, s.decided_at, '{}', '', 'accepted'
            FROM submissions s JOIN status_lists sl ON sl.organisation_id = s.organisation_id
            WHERE s.state = 'passed'""",
        ]
        for statement in statements:
            started = time.perf_counter()
            count = db.session.execute(sa.text(statement)).rowcount
            db.session.commit()
            print(f"  {count:>9,} rows  {time.perf_counter() - started:6.1f} s  {statement.split()[2]}", flush=True)
    _vacuum(app)


def _vacuum(app: Any) -> None:
    import sqlalchemy as sa

    from core.db import db

    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))


def _timed(fn: Callable[[], Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _p(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q))]


class _Explain:
    """Collects EXPLAIN (ANALYZE, BUFFERS) of each statement a report runs, keeping the slowest."""

    def __init__(self) -> None:
        self.plans: list[tuple[float, list[str]]] = []

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if executemany or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            return
        raw = conn.connection.dbapi_connection
        with raw.cursor() as c:
            c.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [row[0] for row in c.fetchall()]
        took = next((float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+)", line))), 0.0)
        self.plans.append((took, lines))

    def summary(self) -> list[str]:
        took, lines = max(self.plans, default=(0.0, []))
        nodes = [re.sub(r"\s+\(cost=.*", "", line).strip("-> ").strip() for line in lines if "cost=" in line]
        spilled = any("Disk:" in line or "external merge" in line for line in lines)
        total = sum(t for t, _ in self.plans)
        return [
            f"      statements {len(self.plans)}, database time {total:.0f} ms; slowest {took:.0f} ms"
            f"{', spilled to disk' if spilled else ''}:",
            *(f"        {node}" for node in nodes[:14]),
        ]


def measure(app: Any, runs: int) -> None:
    import sqlalchemy as sa
    from sqlalchemy import event

    from badges import impact
    from core.db import db
    from core.models import User

    with app.app_context():
        admin = User(email="bench-admin@bench.example", name="Bench admin", is_platform_admin=True, is_active=True)
        admin.id = uuid.uuid4()
        today = date.today()
        two_years = {"date_from": date(today.year - 2, today.month, 1), "date_to": today}
        scopes = {
            "state, all children, 2 years": dict(organisation_id=_uuid("org", 0), include_children=True, **two_years),
            "one district, 12 months": dict(organisation_id=_uuid("org", 1)),
            "district, one school, teachers": dict(
                organisation_id=_uuid("org", 1), unit_id=_uuid("org", 100), job_role="teacher", **two_years
            ),
        }
        reports: dict[str, Callable[[Any], Any]] = {
            "badges per month": lambda s: impact.badges_over_time(scope=s),
            "badges by unit": lambda s: impact.badges_over_time(scope=s, by="unit"),
            "badges by job role": lambda s: impact.badges_over_time(scope=s, by="job_role"),
            "badges by standard": lambda s: impact.badges_over_time(scope=s, by="standard"),
            "badges by micro-credential": lambda s: impact.badges_over_time(scope=s, by="micro_credential"),
            "funnel per cohort": lambda s: impact.funnel(scope=s),
            "time to earn": lambda s: impact.time_to_earn(scope=s),
            "retention": lambda s: impact.retention(scope=s),
        }

        def baseline() -> None:
            # The floor every report stands on: one pass over the submissions and one over the badges.
            db.session.execute(sa.text("SET LOCAL jit = off"))
            db.session.execute(
                sa.text("SELECT count(*) FROM submissions WHERE created_at > now() - interval '2 years'")
            )
            db.session.execute(sa.text("SELECT count(*) FROM badges WHERE awarded_at > now() - interval '2 years'"))
            db.session.rollback()

        base = statistics.median(_timed(baseline, runs))
        print(f"baseline: count(*) of 1M submissions + count(*) of the badges, p50 {base:.1f} ms")
        for scope_name, filters in scopes.items():
            print(f"\n{scope_name}")
            for name, report in reports.items():

                def run(report: Callable[[Any], Any] = report, filters: dict[str, Any] = filters) -> None:
                    report(impact.scope(actor=admin, **filters))
                    db.session.rollback()

                times = sorted(_timed(run, runs))
                p50 = statistics.median(times)
                print(
                    f"  {name:28} p50 {p50:7.1f} ms   p95 {_p(times, 0.95):7.1f} ms   n={runs}"
                    f"   ({p50 / base:.1f}x baseline)",
                    flush=True,
                )
                explain = _Explain()
                engine = db.engine
                event.listen(engine, "before_cursor_execute", explain)
                try:
                    run()
                finally:
                    event.remove(engine, "before_cursor_execute", explain)
                for line in explain.summary():
                    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database (it is wiped)")
    parser.add_argument("--submissions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="measure the data a previous run loaded (no wipe)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("the impact benchmark targets PostgreSQL")

    from flask_migrate import upgrade

    from core import create_app
    from core.db import empty_postgresql_schema

    config = {
        "APP_ENV": "test",
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "OUTBOX_INLINE": False,
    }
    if not args.reuse:
        empty_postgresql_schema(args.database_url)
    app = create_app(config)
    print(f"database: {args.database_url.split('@')[-1]}")
    with app.app_context():
        upgrade()  # with --reuse: indexes added since the load
    if args.reuse:
        _vacuum(app)
    else:
        started = time.perf_counter()
        build(app, args.submissions)
        print(
            f"loaded {args.submissions:,} submissions (+ badges, {EARNERS:,} earners)"
            f" in {time.perf_counter() - started:.1f} s"
        )
    measure(app, args.runs)


if __name__ == "__main__":
    main()
