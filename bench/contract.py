"""Contract run: schemathesis generates requests for every operation of /api/v1/openapi.json and checks the answers.

    .venv/bin/python bench/contract.py [--examples 5] [--negative] [--only PATH_PREFIX] [--database-url URL]

The service runs in-process (WSGI) on a fresh database (a temporary SQLite file unless ``--database-url``
names an empty one), migrated and filled by ``flask demo``; requests carry the demo org admin's bearer token.
For each operation it draws up to ``--examples`` requests from the document (valid ones: schemathesis'
positive mode) and checks that no answer is a 5xx, that each status code is one the document lists, and that
each body and Content-Type match the document. ``--negative`` also draws as many requests that break the
document (wrong types, missing fields, bad formats): those must be answered 4xx, never 5xx. Prints one line
per operation with a failure and the totals; exits 1 if anything failed, so CI can run it with a small example
count.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis import GenerationMode, checks  # noqa: E402
from schemathesis.core.failures import Failure, FailureGroup  # noqa: E402
from schemathesis.openapi.checks import JsonSchemaError  # noqa: E402

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def make_app(database_url: str, files: str) -> Any:
    from flask_migrate import upgrade

    from core import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "STORAGE_URL": f"file://{files}",
            "BASE_URL": "http://localhost",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "ERROR",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
        }
    )
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo"])
    if result.exit_code != 0:
        raise SystemExit(f"flask demo failed:\n{result.output}")
    return app


def bearer(app: Any) -> dict[str, str]:
    from core.demo import demo_password

    with app.test_client() as client:
        email = next(u for u in _demo_emails(app) if u.startswith("orgadmin@"))
        answer = client.post("/api/v1/auth/token", json={"email": email, "password": demo_password("orgadmin")})
        if answer.status_code != 200:
            raise SystemExit(f"could not sign in as the demo org admin: {answer.status_code} {answer.get_data()!r}")
        return {"Authorization": f"Bearer {answer.get_json()['access_token']}"}


def _demo_emails(app: Any) -> list[str]:
    from sqlalchemy import select

    from core.db import db
    from core.models import User

    with app.app_context():
        return list(db.session.scalars(select(User.email)))


def _record(failures: list[str], failure: Failure) -> None:
    """Keep one line per distinct failure: its code and title, and for schema violations where they are."""
    where = ""
    if isinstance(failure, JsonSchemaError):
        place = "/".join(str(p) for p in failure.instance_path) or "the body"
        where = f" at {place}: {failure.message.splitlines()[0]}"
    elif failure.message:
        where = f": {failure.message.strip().splitlines()[0]}"
    line = f"{failure.code} {failure.title}{where}"[:300]
    if line not in failures:
        failures.append(line)


def run_operation(operation: Any, headers: dict[str, str], examples: int, mode: str) -> tuple[int, list[str]]:
    """Draw up to ``examples`` requests for one operation; return how many were sent and the failures seen."""
    sent = 0
    failures: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    def exercise(case: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Failure as failure:
            _record(failures, failure)
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(failures, failure)

    exercise()
    return sent, failures


def run(
    database_url: str, files: str, *, examples: int, only: str = "", modes: tuple[str, ...] = ("positive",)
) -> tuple[Counter[str], dict[str, list[str]]]:
    """Exercise every operation (under ``only``) of a fresh service on ``database_url``; totals and failures."""
    app = make_app(database_url, files)
    headers = bearer(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    totals: Counter[str] = Counter()
    failing: dict[str, list[str]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(only):
            continue
        totals["operations"] += 1
        for mode in modes:
            sent, failures = run_operation(operation, headers, examples, mode)
            totals["requests"] += sent
            if failures:
                failing[f"{operation.method.upper():6} {operation.path} ({mode} data)"] = failures
    return totals, failing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5, help="requests drawn per operation (default 5)")
    parser.add_argument("--only", default="", help="only operations whose path starts with this")
    parser.add_argument("--database-url", default=os.environ.get("CONTRACT_DATABASE_URL", ""))
    parser.add_argument(
        "--negative", action="store_true", help="also send requests the document says are invalid (must be 4xx)"
    )
    args = parser.parse_args()
    modes = ("positive", "negative") if args.negative else ("positive",)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/contract.sqlite3"
        totals, failing = run(database_url, tmp, examples=args.examples, only=args.only, modes=modes)
    for operation, failures in failing.items():
        print(f"FAIL {operation}")
        for failure in failures:
            print(f"       {failure}")
    distinct = sum(len(f) for f in failing.values())
    print(
        f"{totals['operations']} operations, {totals['requests']} requests, {len(failing)} operations with "
        f"failures ({distinct} distinct), {time.perf_counter() - started:.1f} s"
    )
    return 1 if failing else 0


if __name__ == "__main__":
    raise SystemExit(main())
