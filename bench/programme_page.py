"""Benchmark: the programme lead's overview (every design team of a state agency and its districts and schools).

    .venv/bin/python bench/programme_page.py                                       # SQLite in a temporary file
    .venv/bin/python bench/programme_page.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_teams

The database is WIPED (PostgreSQL: its public schema is dropped) and rebuilt by the migrations: use a scratch
one. Data: a state agency with ``--districts`` districts of 10 schools each, ``--teams`` design teams spread over
them with 4 members each, and ``--per-team`` micro-credentials per team at mixed stages (a few with a second
version). Measured through the service, as the page calls it: the whole overview, one stage, one team, and the
CSV; the in-run baseline is a primary-key lookup.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = ("draft", "in_review", "approved", "published", "retired")


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
    ratio = f"  ({p50 / baseline:.0f}x baseline)" if baseline else ""
    return f"{name:40} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   n={len(times)}{ratio}"


def build(districts: int, team_count: int, per_team: int) -> dict[str, Any]:
    from core.db import db
    from core.models import Membership, Organisation, Role, User
    from credentials.authoring.models import CredentialVersion, MicroCredential
    from credentials.authoring.team_models import DesignTeam, DesignTeamMember

    state = Organisation(slug="state", name="State agency", kind="state_agency")
    lead = User(email="lead@bench.example", name="Lead")
    db.session.add_all([state, lead])
    db.session.flush()
    db.session.add(Membership(organisation_id=state.id, user_id=lead.id, role=Role.PROGRAMME_LEAD.value))
    units = []
    for d in range(districts):
        district = Organisation(slug=f"d{d}", name=f"District {d}", parent_id=state.id)
        db.session.add(district)
        db.session.flush()
        units.append(district)
        for s in range(10):
            school = Organisation(slug=f"d{d}-s{s}", name=f"School {d}.{s}", parent_id=district.id)
            units.append(school)
            db.session.add(school)
    db.session.flush()
    for t in range(team_count):
        unit = units[t % len(units)]
        team = DesignTeam(organisation_id=unit.id, name=f"Team {t}", name_key=f"team {t}")
        db.session.add(team)
        db.session.flush()
        for m in range(4):
            user = User(email=f"t{t}m{m}@bench.example", name=f"Member {t}.{m}")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(organisation_id=unit.id, user_id=user.id, role=Role.AUTHOR.value))
            db.session.add(DesignTeamMember(team_id=team.id, user_id=user.id))
        for c in range(per_team):
            mc = MicroCredential(organisation_id=unit.id, team_id=team.id)
            db.session.add(mc)
            db.session.flush()
            numbers = 2 if c % 4 == 0 else 1
            for n in range(1, numbers + 1):
                stage = "published" if n < numbers else STAGES[(t + c) % len(STAGES)]
                db.session.add(
                    CredentialVersion(
                        micro_credential_id=mc.id, organisation_id=unit.id, number=n, state=stage,
                        title=f"Credential {t}.{c}",
                    )
                )  # fmt: skip
        if t % 50 == 49:
            db.session.flush()
    db.session.commit()
    return {"state": state.id, "lead": lead.id, "team": db.session.scalar(db.select(DesignTeam.id).limit(1))}


def measure(info: dict[str, Any], runs: int) -> None:
    from core.db import db
    from core.models import Organisation, User
    from credentials.authoring import programme

    def overview(**kwargs: Any) -> Callable[[], Any]:
        def run() -> Any:
            db.session.remove()  # a fresh session, as each request has
            lead = db.session.get(User, info["lead"])
            return programme.programme(actor=lead, organisation_id=info["state"], **kwargs)

        return run

    def baseline() -> None:
        db.session.remove()
        db.session.get(Organisation, info["state"])

    base = statistics.median(_timed(baseline, runs * 5))
    report = overview()()
    print(f"{len(report.teams)} teams, {sum(len(t.versions) for t in report.teams)} micro-credentials shown")
    print(_summary("baseline: primary-key lookup", _timed(baseline, runs * 5)))
    print(_summary("programme overview, everything", _timed(overview(), runs), base))
    print(_summary("programme overview, stage in_review", _timed(overview(stage="in_review"), runs), base))
    print(_summary("programme overview, one team", _timed(overview(team_id=info["team"]), runs), base))
    print(_summary("CSV export, everything", _timed(lambda: programme.as_csv(overview()()), runs), base))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--districts", type=int, default=20)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--per-team", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from core import create_app
    from core.db import empty_postgresql_schema

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-programme-')}/bench.sqlite3"
    config = {
        "APP_ENV": "test",
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "LOG_LEVEL": "WARNING",
        "OUTBOX_INLINE": False,
    }
    empty_postgresql_schema(url)
    app = create_app(config)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        info = build(args.districts, args.teams, args.per_team)
        print(f"database: {url.split('@')[-1]}; loaded in {time.perf_counter() - started:.1f} s")
        measure(info, args.runs)


if __name__ == "__main__":
    main()
