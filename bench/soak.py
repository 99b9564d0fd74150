"""Soak: the whole service under a mixed load for minutes, on PostgreSQL + S3 (moto's server) + Redis (issue 18).

    createdb -h 127.0.0.1 -U postgres bench_soak                       # a scratch database: it is WIPED
    apt-get install wrk
    .venv/bin/python bench/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_soak \
        --minutes 10

Serves ``wsgi:app`` with gunicorn (``--workers`` gthread processes x 4 threads) and a ``flask worker``, on one
PostgreSQL database, a moto S3 server and Redis (rate limits and the task queue), then for ``--minutes`` at once:

- **verifications**: ``wrk`` (closed loop, ``--verify-connections``) POSTs the JWTs of issued badges to
  ``/api/v1/verify`` as fast as the machine allows (target 1,000/s; the figure reached is reported);
- **assessors**: ``--assessors`` threads, each claiming the next submission, opening it and submitting a passing
  review (badges are issued), with a short think time;
- **earners**: ``--earners`` threads, each starting a submission, uploading a PDF to S3, answering and submitting,
  with fresh accounts so each has attempts left. Their submissions feed the assessors' queue.

At the end it prints: requests and errors per kind (target 0 errors), p50/p99 per kind, **lost writes** (every
upload answered 201 is in the database and its object in S3; every review answered 200 is submitted; every
passed submission has exactly one badge), **double claims** (a submission held by two assessors at once, or
reviewed twice in one slot: target 0) and the **memory growth** of the gunicorn workers (RSS first → last).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "soak-password-1234"  # noqa: S105 - accounts of a throw-away bench database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def _pdf() -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 200))
    pdf.docinfo["/Title"] = f"Plan {uuid.uuid4()}"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def seed(settings: dict[str, Any], assessors: int, earners: int, badges: int) -> dict[str, Any]:
    """One organisation, a published portfolio credential, qualified assessors, earner accounts, a few badges."""
    from flask_migrate import upgrade

    from assessors import settings as review_settings
    from core import create_app
    from core.auth import hash_password
    from core.db import db, empty_postgresql_schema
    from core.models import Role
    from tests.badges.issued import award, passed_submission
    from tests.factories import OrganisationFactory, QualificationFactory, member, portfolio_version

    empty_postgresql_schema(settings["DATABASE_URL"])
    app = create_app(settings)
    with app.app_context():
        upgrade()
        organisation = OrganisationFactory(name="Soak District")
        admin = member(organisation, Role.ORG_ADMIN)
        version = portfolio_version(organisation=organisation)
        review_settings.update_settings(
            actor=admin, organisation_id=organisation.id, changes={"double_first_n": 0, "double_share": 0.0}
        )
        hashed = hash_password(PASSWORD)
        people = []
        for i in range(assessors):
            user = member(organisation, Role.ASSESSOR, email=f"assessor{i}@soak.example", password_hash=hashed)
            QualificationFactory(user=user, micro_credential=version.micro_credential)
            people.append(user.email)
        earner_emails = []
        for i in range(earners):
            user = member(organisation, email=f"earner{i}@soak.example", password_hash=hashed)
            earner_emails.append(user.email)
        jwts = [award(passed_submission()).jwt for _ in range(badges)]
        info = {
            "org": str(organisation.id),
            "version": str(version.id),
            "assessors": people,
            "earners": earner_emails,
            "jwts": jwts,
        }
        db.session.commit()
        db.engine.dispose()
    return info


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.uploads: list[str] = []
        self.reviews: list[str] = []

    def timed(self, kind: str, ok: tuple[int, ...], call: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            response = call(*args, **kwargs)
        except Exception as exc:
            with self.lock:
                self.errors[kind].append(repr(exc)[:200])
            return None
        elapsed = (time.perf_counter() - start) * 1000
        with self.lock:
            self.times[kind].append(elapsed)
            if response.status_code not in ok:
                self.errors[kind].append(f"{response.status_code} {response.text[:200]}")
                return None
        return response


def _token(base: str, email: str) -> dict[str, str]:
    import requests

    said = "no answer"
    for _ in range(20):
        try:
            answer = requests.post(f"{base}/api/v1/auth/token", json={"email": email, "password": PASSWORD}, timeout=60)
        except requests.RequestException as exc:
            said = repr(exc)[:200]
            continue
        if answer.status_code == 200:
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}
        said = f"{answer.status_code} {answer.text[:200]}"
        time.sleep(1)
    raise SystemExit(f"could not sign in {email}: {said}")


def assessor_loop(base: str, headers: dict[str, str], org: str, stop: threading.Event, stats: Stats) -> None:
    import requests

    session = requests.Session()
    session.headers.update(headers)
    while not stop.is_set():
        claimed = stats.timed(
            "claim", (200, 204), session.post, f"{base}/api/v1/organisations/{org}/review-queue/claim", json={}
        )
        if claimed is None or claimed.status_code == 204:
            stop.wait(0.5)
            continue
        task = claimed.json()["task"]["id"] if "task" in claimed.json() else claimed.json()["id"]
        if stats.timed("open", (200,), session.get, f"{base}/api/v1/review-tasks/{task}") is None:
            continue
        scores = {
            "scores": [{"criterion_key": "quality", "level": 2, "feedback": "Clear evidence of impact."}],
            "summary": "The plan, the lesson and the reflection meet the standard.",
        }
        done = stats.timed("review", (200,), session.post, f"{base}/api/v1/review-tasks/{task}/submit", json=scores)
        if done is not None:
            with stats.lock:
                stats.reviews.append(task)
        stop.wait(random.uniform(0.2, 0.6))


def earner_loop(base: str, emails: list[str], version: str, stop: threading.Event, stats: Stats) -> None:
    import requests

    for email in emails:
        if stop.is_set():
            return
        session = requests.Session()
        session.headers.update(_token(base, email))
        started = stats.timed("start", (201,), session.post, f"{base}/api/v1/submissions", json={"version_id": version})
        if started is None:
            continue
        sub = started.json()["id"]
        answers = {
            "answers": {"reflection": "I planned, taught and reflected on questioning.", "video": "https://v.example/1"}
        }
        if stats.timed("answer", (200,), session.patch, f"{base}/api/v1/submissions/{sub}", json=answers) is None:
            continue
        uploaded = stats.timed(
            "upload",
            (201,),
            session.post,
            f"{base}/api/v1/submissions/{sub}/files",
            data={"requirement_key": "artefact"},
            files={"file": ("plan.pdf", _pdf(), "application/pdf")},
        )
        if uploaded is None:
            continue
        with stats.lock:
            stats.uploads.extend(f["id"] for f in uploaded.json())
        stats.timed("submit", (200,), session.post, f"{base}/api/v1/submissions/{sub}/submit", json={})
        stop.wait(random.uniform(0.5, 1.5))


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+)", text)
        total += int(match.group(1)) if match else 0
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wrk_verify(base: str, jwts: list[str], seconds: int, connections: int) -> str:
    script = Path(tempfile.mkdtemp()) / "verify.lua"
    bodies = ",\n".join('"{\\"credential\\": \\"' + j + '\\"}"' for j in jwts)
    script.write_text(
        f'local bodies = {{{bodies}}}\nlocal i = 0\nwrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'request = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, "/api/v1/verify", nil, bodies[i])\nend\n'
    )
    done = subprocess.run(  # noqa: S603
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), base],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def check_writes(settings: dict[str, Any], stats: Stats) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(settings["DATABASE_URL"], poolclass=sa.pool.NullPool)
    lines = []
    with engine.connect() as db:
        files = {str(r[0]): r[1] for r in db.execute(sa.text("SELECT id, sha256 FROM evidence_files"))}
        lost_files = [f for f in stats.uploads if f not in files]
        reviews = {str(r[0]): r[1] for r in db.execute(sa.text("SELECT task_id, state FROM reviews"))}
        lost_reviews = [t for t in stats.reviews if reviews.get(t) != "submitted"]
        double_claims = db.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT submission_id, slot FROM review_tasks WHERE claimed_by_id IS NOT NULL"
                " AND kind = 'review' GROUP BY submission_id, slot HAVING count(*) > 1) d"
            )
        ).scalar()
        double_reviews = db.execute(
            sa.text("SELECT count(*) FROM (SELECT task_id FROM reviews GROUP BY task_id HAVING count(*) > 1) d")
        ).scalar()
        passed_without_one_badge = db.execute(
            sa.text(
                "SELECT count(*) FROM submissions s WHERE s.state = 'passed' AND"
                " (SELECT count(*) FROM badges b WHERE b.submission_id = s.id) <> 1"
            )
        ).scalar()
        passed = db.execute(sa.text("SELECT count(*) FROM submissions WHERE state = 'passed'")).scalar()
    engine.dispose()
    from core import create_app, storage

    app = create_app(settings)
    with app.app_context():
        store = storage.backend()
        missing_objects = [f for f in stats.uploads if f in files and not store.exists(files[f])]
    lines.append(f"lost uploads: {len(lost_files)} of {len(stats.uploads)} (rows), {len(missing_objects)} (S3 objects)")
    lines.append(f"lost reviews: {len(lost_reviews)} of {len(stats.reviews)}")
    lines.append(f"double claims: {double_claims}; tasks reviewed twice: {double_reviews}")
    lines.append(f"passed submissions: {passed}; without exactly one badge: {passed_without_one_badge}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database (wiped)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (4 threads each)")
    parser.add_argument("--assessors", type=int, default=50)
    parser.add_argument("--earners", type=int, default=10, help="earner threads (each works through accounts)")
    parser.add_argument("--verify-connections", type=int, default=4)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    import boto3
    from evidence_upload import _start_moto  # the same moto server the upload bench uses

    moto, endpoint = _start_moto()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t",
                      aws_secret_access_key="t")  # noqa: S106 - the local moto server  # fmt: skip
    s3.create_bucket(Bucket="soak")
    port = _free_port()
    prefix = f"soak-{uuid.uuid4().hex[:8]}"
    settings: dict[str, Any] = {
        "APP_ENV": "development",
        "DATABASE_URL": args.database_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "STORAGE_URL": f"s3://soak/{prefix}",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "t",
        "S3_SECRET_ACCESS_KEY": "t",
        "TASK_QUEUE_URL": args.redis_url,
        "TASK_QUEUE_PREFIX": prefix,
        "RATELIMIT_STORAGE_URI": args.redis_url,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "ACCESS_TOKEN_TTL": 7200,  # the assessors sign in once, before the load
        "VERIFY_RATE_LIMIT": "10000000 per minute",
        "LOG_LEVEL": "WARNING",
    }
    minutes_earners = max(1, int(args.minutes * 60 / 2))  # accounts each earner thread may use (one per ~2 s)
    print(f"seeding: {args.assessors} assessors, {args.earners * minutes_earners} earner accounts ...", flush=True)
    info = seed(settings, args.assessors, args.earners * minutes_earners, badges=20)
    env = {**os.environ, **{k: str(v) for k, v in settings.items()}, "FLASK_APP": "wsgi", "GUNICORN_CMD_ARGS": ""}
    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    gunicorn = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", "4", "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=ROOT, env=env, stdout=(logs / "gunicorn.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "worker", "--threads", "2"],
        cwd=ROOT, env=env, stdout=(logs / "worker.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    import requests

    try:
        _wait(lambda: requests.get(base + "/healthz", timeout=2).ok, "gunicorn")
        pids = _children(gunicorn.pid)
        rss_first = _rss_kb(pids)
        stats, stop = Stats(), threading.Event()
        print("signing the assessors in ...", flush=True)
        tokens = [_token(base, e) for e in info["assessors"]]  # one by one: sign-in hashing is costly on purpose
        threads = [
            threading.Thread(target=assessor_loop, args=(base, t, info["org"], stop, stats), daemon=True)
            for t in tokens
        ]
        accounts = info["earners"]
        for i in range(args.earners):
            mine = accounts[i :: args.earners]
            threads.append(
                threading.Thread(target=earner_loop, args=(base, mine, info["version"], stop, stats), daemon=True)
            )
        print(
            f"running {args.minutes} min: wrk on /api/v1/verify, {args.assessors} assessors, {args.earners} earners",
            flush=True,
        )
        for t in threads:
            t.start()
        wrk_out = wrk_verify(base, info["jwts"], int(args.minutes * 60), args.verify_connections)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        rss_last = _rss_kb(_children(gunicorn.pid))
        time.sleep(3)  # let the last issuing jobs and commits land
        rate = re.search(r"Requests/sec:\s+([\d.]+)", wrk_out)
        p99 = re.search(r"99%\s+(\S+)", wrk_out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_out)
        sockerr = re.search(r"Socket errors: (.*)", wrk_out)
        print(f"\nverify (wrk, {args.verify_connections} connections): {rate.group(1) if rate else '?'} req/s, "
              f"p99 {p99.group(1) if p99 else '?'}, non-2xx {non2xx.group(1) if non2xx else 0}, "
              f"socket errors: {sockerr.group(1) if sockerr else 'none'}")  # fmt: skip
        for kind in ("claim", "open", "review", "start", "answer", "upload", "submit"):
            times = stats.times.get(kind, [])
            errors = stats.errors.get(kind, [])
            print(f"{kind:7} {len(times):6} requests, {len(errors):3} errors, p50 {_p(times, 50):7.1f} ms, "
                  f"p99 {_p(times, 99):7.1f} ms" + (f"  e.g. {errors[0]}" if errors else ""))  # fmt: skip
        for line in check_writes(settings, stats):
            print(line)
        print(f"gunicorn workers' RSS: {rss_first / 1024:.0f} MB at start, {rss_last / 1024:.0f} MB at the end "
              f"({(rss_last - rss_first) / 1024:+.0f} MB)")  # fmt: skip
    finally:
        for process in (gunicorn, worker):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=45)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        moto.terminate()


if __name__ == "__main__":
    main()
