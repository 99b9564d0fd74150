"""Benchmark: issuing with both proofs, and serving /badges/<id> with 1,000,000 badges.

    .venv/bin/python bench/issuing.py                                   # SQLite in a temporary file
    .venv/bin/python bench/issuing.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_7

The database is WIPED (PostgreSQL: its public schema is dropped) and rebuilt by the migrations: use a scratch one.

Part 1 — issuing: ``issuing.issue`` end to end (status index, keys, document, eddsa-rdfc-2022 proof, RS256 VC-JWT,
insert, audit, commit per badge) against baselines measured in the same run: bare Ed25519 and RSA-2048 signatures,
RDFC-1.0 canonicalisation of the credential (the fast path ``jsonld.canonical_nquads`` and plain PyLD), the whole DI
signature, and the VC-JWT encoding; then the same badges in one transaction (the bulk-import path). The per-core
figure is this process's CPU time per badge when batched (wall time also waits for SQLite's fsync or the PostgreSQL
server). Target (PERFORMANCE.md): ≥ 1,000 badges/s per core.

Part 2 — serving: bulk-inserts synthetic badge rows (copies of a real signed badge under new ids) up to
``--badges``, starts gunicorn (2 gthread workers x 4 threads) and drives it with a Python client (threads, keep-alive
``http.client``; it shares the cores, so rates are underestimates) for the HTML page, the JSON by Accept, and a
static 2 KB JSON endpoint on the same server as the baseline. Target: ≥ 50 % of the static endpoint; p99 < 20 ms.
``bench/badge_pages.py`` measures the public badge URLs with wrk on the demo database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATIC_BODY = json.dumps({"padding": "x" * 2000})
# gunicorn would otherwise read the project's gunicorn.conf.py (access log on, worker count from the environment).
EMPTY_CONFIG = Path(tempfile.gettempdir()) / "bench_issuing_gunicorn.conf.py"


def make_app(database_url: str | None = None) -> Any:
    """The service plus one static-JSON route (the baseline); gunicorn calls this as ``bench.issuing:make_app()``."""
    from core import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url or os.environ["BENCH_DATABASE_URL"],
            "BASE_URL": "http://127.0.0.1:8765",
            "RATELIMIT_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )

    @app.get("/bench/static")
    def static_json() -> Any:
        return app.response_class(STATIC_BODY, mimetype="application/json")

    return app


def _timeit(fn: Any, n: int) -> float:
    """CPU seconds of this process per call (best of three runs of ``n``): compared with the CPU time per issued
    badge, so that a loaded machine (other processes taking the cores) moves both sides alike."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - start) / n)
    return best


def _fixture() -> tuple[Any, Any, list[Any]]:
    """An organisation, a published version with a 3-criterion rubric and an alignment, and earners."""
    from core.db import db
    from core.models import Organisation, User
    from credentials.authoring.models import (
        CredentialVersion,
        MicroCredential,
        Requirement,
        RubricCriterion,
        RubricLevel,
    )

    run = uuid.uuid4().hex[:8]  # a database kept from an earlier run may already hold a bench organisation
    organisation = Organisation(
        slug=f"bench-{run}", name="Bench District", url="https://bench.example", email="b@bench.example"
    )
    db.session.add(organisation)
    db.session.flush()
    mc = MicroCredential(organisation_id=organisation.id)
    db.session.add(mc)
    db.session.flush()
    version = CredentialVersion(
        micro_credential_id=mc.id,
        organisation_id=organisation.id,
        number=1,
        state="published",
        title="Close Reading of Complex Texts",
        short_description="Lead close reading so that students cite textual evidence.",
        competency_statement="The educator plans and leads close reading of a complex text.",
        key_method="Plan three reads, write text-dependent questions, model annotation.",
        validity_days=1095,
        passing_level="Proficient",
    )
    db.session.add(version)
    db.session.flush()
    version.requirements.append(
        Requirement(key="plan", position=0, title="Lesson plan", prompt="Upload it.", evidence_kind="text")
    )
    for position, key in enumerate(("planning", "questions", "analysis")):
        criterion = RubricCriterion(key=key, position=position, name=key.title(), requirement_keys=["plan"])
        for level, name in enumerate(("Not yet", "Developing", "Proficient", "Exemplary")):
            criterion.levels.append(RubricLevel(position=level, name=name, descriptor=f"{name} work.", points=level))
        version.criteria.append(criterion)
    earners = [User(email=f"earner{i}-{run}@bench.example", name=f"Earner {i}") for i in range(2000)]
    db.session.add_all(earners)
    db.session.commit()
    return organisation, version, earners


def bench_issuing(n: int) -> tuple[dict[str, float], Any]:
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
    from cryptography.hazmat.primitives.hashes import SHA256

    from assessors.issuance import CriterionResult
    from badges import documents, issuing, jsonld, proofs, signing
    from badges.models import Badge, BadgeSource
    from core import clock
    from core.db import db
    from credentials.authoring.models import CredentialVersion

    _, version, earners = _fixture()
    version_id = version.id
    people = [(e.email, e.name, e.id) for e in earners]
    results_in = [CriterionResult(k, 2) for k in ("planning", "questions", "analysis")]
    db.session.expunge_all()

    def issue_one(i: int, commit: bool = True) -> uuid.UUID:
        """One badge as one request would issue it: load the version, issue, commit, forget the session."""
        email, name, user_id = people[i % len(people)]
        current = db.session.get(CredentialVersion, version_id)
        badge = issuing.issue(
            version=current,
            recipient=signing.Recipient(email=email, name=name, user_id=user_id),
            results=issuing.results_for(current, results_in),
            evidence=[{"type": ["Evidence"], "name": "Evidence portfolio", "narrative": "Lesson plan and reflection."}],
            awarded_at=clock.now(),
            source=BadgeSource.ASSESSMENT,
            issue_key=f"bench:{i}:{uuid.uuid4()}",
        )
        badge_id = badge.id
        if commit:
            db.session.commit()
            db.session.expunge_all()
        return badge_id

    sample_id = issue_one(0)  # also warms keys, contexts, caches
    sample = db.session.get(Badge, sample_id)
    unsigned = {k: v for k, v in sample.credential.items() if k != "proof"}
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vm = f"{unsigned['issuer']['id']}#{proofs.multikey(ed.public_key())}"
    created = documents.iso(clock.now())
    per = {
        "ed25519_sign": _timeit(lambda: ed.sign(b"x" * 64), 2000),
        "rsa2048_sign": _timeit(lambda: rsa_key.sign(b"x" * 64, padding.PKCS1v15(), SHA256()), 300),
        "canonicalise_fast": _timeit(lambda: jsonld.canonical_nquads(unsigned), 100),
        "canonicalise_pyld": _timeit(lambda: jsonld.canonical_nquads_pyld(unsigned), 30),
        "di_sign": _timeit(lambda: proofs.sign_eddsa_rdfc_2022(unsigned, ed, vm, created), 100),
        "vc_jwt_sign": _timeit(lambda: proofs.sign_vc_jwt(sample.credential, rsa_key, "kid"), 200),
    }
    # Wall time, and this process's CPU time: a commit per badge waits for the disk (SQLite's fsync) or the
    # server (PostgreSQL), which costs no CPU of this core; the CPU figure is the per-core ceiling.
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(1, n + 1):
        issue_one(i)
    per["issue_end_to_end"] = (time.perf_counter() - start) / n
    per["issue_end_to_end_cpu"] = (time.process_time() - cpu) / n
    # The bulk-import path: the same work, one commit for the whole batch.
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n + 1, 2 * n + 1):
        issue_one(i, commit=False)
    db.session.commit()
    per["issue_batched"] = (time.perf_counter() - start) / n
    per["issue_batched_cpu"] = (time.process_time() - cpu) / n
    db.session.expunge_all()
    # The same in a ``signing.batch`` (what an import chunk uses): indexes reserved, keys and stacks read once.
    start, cpu = time.perf_counter(), time.process_time()
    with signing.batch(n):
        for i in range(2 * n + 1, 3 * n + 1):
            issue_one(i, commit=False)
    db.session.commit()
    per["issue_batch_api"] = (time.perf_counter() - start) / n
    per["issue_batch_api_cpu"] = (time.process_time() - cpu) / n
    db.session.expunge_all()
    return per, sample_id


def bulk_insert(sample: Any, total: int) -> list[uuid.UUID]:
    """Copy ``sample`` under fresh ids until there are ``total`` badges; returns a sample of ids to request."""
    import sqlalchemy as sa

    from badges.models import Badge, StatusList
    from core.db import db

    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Badge)) or 0
    need = total - existing
    if need <= 0:  # a database filled by an earlier run (pass its --database-url): request random existing badges
        return list(db.session.scalars(sa.select(Badge.id).order_by(sa.func.random()).limit(1000)))
    columns = {c.name for c in Badge.__table__.columns}
    row = {c: getattr(sample, c) for c in columns}
    ids: list[uuid.UUID] = []
    batch = 5000
    lists_needed = need // 98304 + 1
    lists = []
    for _ in range(lists_needed):
        status_list = StatusList(id=uuid.uuid4(), organisation_id=sample.organisation_id, allocated=98304)
        db.session.add(status_list)
        lists.append(status_list.id)
    db.session.commit()
    table = Badge.__table__
    start = time.perf_counter()
    done = 0
    while done < need:
        rows = []
        for j in range(min(batch, need - done)):
            k = done + j
            new_id = uuid.uuid4()
            rows.append(
                {
                    **row,
                    "id": new_id,
                    "issue_key": f"synthetic:{new_id}",
                    "submission_id": None,
                    "status_list_id": lists[k // 98304],
                    "status_index": k % 98304,
                }
            )
            if k % 997 == 0:
                ids.append(new_id)
        db.session.execute(table.insert(), rows)
        db.session.commit()
        done += len(rows)
        if done % 100000 < batch:
            print(
                f"  inserted {existing + done:,} badges ({done / (time.perf_counter() - start):,.0f} rows/s)",
                flush=True,
            )
    return ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drive(port: int, paths: list[str], headers: dict[str, str], seconds: float, threads: int) -> dict[str, float]:
    """Requests per second and latency percentiles from ``threads`` keep-alive clients."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        rng = random.Random()
        while time.perf_counter() < stop:
            path = rng.choice(paths)
            t0 = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "errors": errors[0],
    }


def bench_serving(database_url: str, ids: list[uuid.UUID], seconds: float, threads: int) -> dict[str, dict[str, float]]:
    port = _free_port()
    EMPTY_CONFIG.write_text("")
    env = {**os.environ, "BENCH_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers=2",
            "--worker-class=gthread",
            "--threads=4",
            f"--bind=127.0.0.1:{port}",
            f"--config={EMPTY_CONFIG}",
            "--log-level=warning",
            "bench.issuing:make_app()",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/bench/static")
                break
            except OSError:
                time.sleep(0.2)
        badge_paths = [f"/badges/{i}" for i in ids]
        out = {}
        for name, paths, headers in (
            ("static JSON", ["/bench/static"], {"Accept": "application/json"}),
            ("/badges/<id> JSON", badge_paths, {"Accept": "application/vc+ld+json"}),
            ("/badges/<id> HTML", badge_paths, {"Accept": "text/html"}),
        ):
            drive(port, paths, headers, 1.0, threads)  # warm-up
            out[name] = drive(port, paths, headers, seconds, threads)
        return out
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # threads still holding keep-alive connections
            server.kill()
            server.wait(10)


def main() -> None:
    from core.db import empty_postgresql_schema

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--issue", type=int, default=300, help="badges to issue end to end")
    parser.add_argument("--badges", type=int, default=1_000_000, help="total badges before serving")
    parser.add_argument("--issue-only", action="store_true", help="stop after the issuing part")
    parser.add_argument("--seconds", type=float, default=10.0, help="per serving measurement")
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-issuing-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    empty_postgresql_schema(url)
    app = make_app(url)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        per, sample_id = bench_issuing(args.issue)
        print(f"\nIssuing on {url.split(':', 1)[0]} ({args.issue} badges, both proofs, one commit each)")
        bare = per["di_sign"] + per["vc_jwt_sign"]
        for name, seconds in per.items():
            print(f"  {name:18} {seconds * 1000:8.3f} ms   {1 / seconds:10,.0f} /s")
        print(f"  commit per badge CPU / (DI sign + VC-JWT sign)  = {per['issue_end_to_end_cpu'] / bare:.2f}x")
        signatures = per["ed25519_sign"] + per["rsa2048_sign"]
        print(f"  commit per badge CPU / (Ed25519 + RSA signature) = {per['issue_end_to_end_cpu'] / signatures:.1f}x")
        print(
            f"  canonicalisation: fast path {per['canonicalise_pyld'] / per['canonicalise_fast']:.1f}x faster than PyLD"
        )
        print(f"  one transaction CPU / (DI sign + VC-JWT sign)   = {per['issue_batched_cpu'] / bare:.2f}x")
        print(f"  one transaction CPU / (Ed25519 + RSA signature) = {per['issue_batched_cpu'] / signatures:.1f}x")
        for label, key in (("one transaction", "issue_batched_cpu"), ("signing.batch", "issue_batch_api_cpu")):
            print(f"  {label:16} CPU / (DI sign + VC-JWT sign) = {per[key] / bare:.2f}x, {1 / per[key]:,.0f} badges/s")
        print(
            f"  target ≥ 1,000 badges/s per core: {1 / per['issue_batch_api_cpu']:,.0f} /s in signing.batch (CPU),"
            f" {1 / per['issue_batched_cpu']:,.0f} /s in one transaction (CPU),"
            f" {1 / per['issue_end_to_end_cpu']:,.0f} /s with a commit per badge (CPU)"
        )
        if args.issue_only:
            return
        start = time.perf_counter()
        from badges.models import Badge
        from core.db import db

        ids = bulk_insert(db.session.get(Badge, sample_id), args.badges)
        print(f"  bulk insert to {args.badges:,} badges took {time.perf_counter() - start:,.0f} s")
        from core.db import db

        db.session.remove()
        db.engine.dispose()
    results = bench_serving(url, ids, args.seconds, args.threads)
    static = results["static JSON"]["rps"]
    print(f"\nServing with {args.badges:,} badges (gunicorn: 2 gthread workers x 4 threads)")
    print(f"  client: Python http.client keep-alive, {args.threads} threads, same machine")
    for name, r in results.items():
        print(
            f"  {name:20} {r['rps']:8,.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
            f"  {r['rps'] / static:6.0%} of static  errors {r['errors']:.0f}"
        )


if __name__ == "__main__":
    main()
