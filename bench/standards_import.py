"""Benchmark: CASE import time and peak memory, and item search latency, on SQLite or PostgreSQL.

    .venv/bin/python bench/standards_import.py                       # SQLite in a temporary file
    .venv/bin/python bench/standards_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_standards

The database is WIPED (PostgreSQL: its public schema is dropped) and rebuilt by the migrations: use a scratch one
(`createdb -h 127.0.0.1 -U postgres bench_standards`). Each import runs in a fresh subprocess so that its peak
memory (ru_maxrss) is its own. Targets (shared/PERFORMANCE.md): 50,000 items in < 30 s and < 500 MB.

Figures are compared with baselines measured in the same run: `json.loads` of the same file, and a bare Core
executemany of the same number of item rows (the least any import must do); search with a primary-key lookup.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = [
    "analyze",
    "apply",
    "argue",
    "build",
    "calculate",
    "cite",
    "classify",
    "compare",
    "compose",
    "construct",
    "count",
    "create",
    "define",
    "describe",
    "determine",
    "develop",
    "draw",
    "estimate",
    "evaluate",
    "explain",
    "express",
    "find",
    "generalize",
    "graph",
    "identify",
    "interpret",
    "know",
    "measure",
    "model",
    "multiply",
    "organize",
    "plan",
    "predict",
    "prove",
    "reason",
    "recognize",
    "represent",
    "research",
    "solve",
    "summarize",
    "understand",
    "use",
    "write",
    "ratio",
    "rate",
    "fraction",
    "decimal",
    "number",
    "equation",
    "expression",
    "function",
    "variable",
    "graph",
    "coordinate",
    "plane",
    "angle",
    "area",
    "volume",
    "perimeter",
    "probability",
    "data",
    "distribution",
    "sample",
    "evidence",
    "claim",
    "text",
    "argument",
    "author",
    "theme",
    "character",
    "setting",
    "narrative",
    "poem",
    "source",
    "context",
    "culture",
    "community",
    "learner",
    "teacher",
    "lesson",
    "feedback",
    "assessment",
    "inquiry",
    "collaboration",
    "reflection",
    "practice",
    "standard",
    "literacy",
    "equity",
    "leadership",
    "technology",
    "design",
    "energy",
    "matter",
    "force",
    "motion",
    "ecosystem",
    "cell",
    "system",
    "structure",
    "property",
    "pattern",
    "cycle",
]


# --- the synthetic package ---------------------------------------------------------------------------


def synthetic_package(items: int, seed: int = 42) -> dict[str, Any]:
    """A CASE 1.1 package of ``items`` items, four levels deep, with some associations leaving the package."""
    rng = random.Random(seed)
    doc_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    cf_items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def add(code: str, kind: str, parent: str, sequence: int) -> str:
        identifier = new_id()
        statement = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "."
        cf_items.append(
            {
                "identifier": identifier,
                "uri": f"https://case.example.org/uri/{identifier}",
                "humanCodingScheme": code,
                "fullStatement": statement,
                "abbreviatedStatement": statement[:40],
                "CFItemType": kind,
                "educationLevel": [f"{rng.randint(1, 12):02d}"],
                "language": "en",
                "lastChangeDateTime": "2024-01-01T00:00:00+00:00",
            }
        )
        associations.append(
            {
                "identifier": new_id(),
                "associationType": "isChildOf",
                "sequenceNumber": sequence,
                "originNodeURI": {"identifier": identifier, "uri": f"https://case.example.org/uri/{identifier}"},
                "destinationNodeURI": {"identifier": parent, "uri": f"https://case.example.org/uri/{parent}"},
            }
        )
        return identifier

    # 10 domains x 50 clusters x n standards x 3 components, trimmed to ``items``.
    per_cluster = max(1, round(items / (10 * 50 * 4)))
    count = 0
    for d in range(1, 11):
        if count >= items:
            break
        domain = add(f"SYN.D{d}", "Domain", doc_id, d)
        count += 1
        for c in range(1, 51):
            if count >= items:
                break
            cluster = add(f"SYN.D{d}.C{c}", "Cluster", domain, c)
            count += 1
            for s in range(1, per_cluster + 1):
                if count >= items:
                    break
                standard = add(f"SYN.D{d}.C{c}.S{s}", "Standard", cluster, s)
                count += 1
                for k, letter in enumerate("abc", start=1):
                    if count >= items:
                        break
                    add(f"SYN.D{d}.C{c}.S{s}{letter}", "Component", standard, k)
                    count += 1
    while count < items:  # top up under the last cluster
        add(f"SYN.X{count}", "Standard", cf_items[1]["identifier"], count)
        count += 1
    for n in range(len(cf_items) // 25):  # 4 % of items also match something outside the package
        origin = rng.choice(cf_items)["identifier"]
        associations.append(
            {
                "identifier": new_id(),
                "associationType": rng.choice(["exactMatchOf", "isRelatedTo", "precedes"]),
                "originNodeURI": {"identifier": origin, "uri": f"https://case.example.org/uri/{origin}"},
                "destinationNodeURI": {"identifier": f"external-{n}", "uri": f"https://other.example.org/{n}"},
            }
        )
    return {
        "CFDocument": {
            "identifier": doc_id,
            "uri": f"https://case.example.org/uri/{doc_id}",
            "title": f"Synthetic framework ({items} items)",
            "creator": "bench/standards_import.py",
            "lastChangeDateTime": "2024-01-01T00:00:00+00:00",
            "caseVersion": "1.1",
        },
        "CFItems": cf_items,
        "CFAssociations": associations,
    }


def touched(package: dict[str, Any], share: float, seed: int = 7) -> dict[str, Any]:
    """The package with ``share`` of its statements changed and 1 % of its items (leaves) removed."""
    rng = random.Random(seed)
    items = package["CFItems"]
    leaves = [i for i in items if i["CFItemType"] == "Component"]  # removing them orphans nothing
    removed = {i["identifier"] for i in rng.sample(leaves, len(items) // 100)}
    for item in rng.sample(items, int(len(items) * share)):
        item["fullStatement"] += " Revised."
    package["CFItems"] = [i for i in items if i["identifier"] not in removed]
    package["CFAssociations"] = [
        a
        for a in package["CFAssociations"]
        if a["originNodeURI"]["identifier"] not in removed and a["destinationNodeURI"]["identifier"] not in removed
    ]
    return package


# --- workers (each runs in its own process) ----------------------------------------------------------


def _app(database_url: str) -> Any:
    from core import create_app

    return create_app({"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "BASE_URL": "http://bench.example"})


def _peak_mb() -> float:
    """Peak resident memory of this process. VmHWM starts afresh at exec; ru_maxrss (the fallback off Linux)
    may carry over the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_import(database_url: str, path: str) -> dict[str, Any]:
    from core.cli import console_operator
    from core.db import unit_of_work
    from standards import imports

    app = _app(database_url)
    with app.app_context():
        start_mb = _peak_mb()
        started = time.perf_counter()
        with unit_of_work():
            report = imports.import_package(actor=console_operator(), data=Path(path).read_bytes(), source_note="bench")
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "start_mb": start_mb,
        "items": report.items,
        "added": report.items_added,
        "updated": report.items_updated,
        "obsoleted": report.items_obsoleted,
        "associations": report.associations,
        "framework_id": str(report.framework_id),
    }


def worker_json_baseline(path: str) -> dict[str, Any]:
    started = time.perf_counter()
    json.loads(Path(path).read_bytes())
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb()}


def worker_insert_baseline(database_url: str, rows: int) -> dict[str, Any]:
    """A bare Core executemany of ``rows`` item rows (rolled back): the floor under any import's writes."""
    import sqlalchemy as sa

    from core import clock
    from core.db import db
    from standards.models import Framework, StandardItem

    app = _app(database_url)
    with app.app_context():
        framework_id = uuid.uuid4()
        now = clock.now()
        table = StandardItem.__table__
        data = [
            {
                "id": uuid.uuid4(),
                "framework_id": framework_id,
                "case_identifier": f"baseline-{n}",
                "uri": f"https://case.example.org/uri/baseline-{n}",
                "human_coding_scheme": f"B.{n}",
                "full_statement": "A statement of a typical length for a standard in a framework of many.",
                "abbreviated_statement": "A statement of a typical length",
                "item_type": "Standard",
                "education_level": ["05"],
                "language": "en",
                "position": n,
                "depth": 0,
                "path": f"{n:06d}",
                "search_text": "b n a statement of a typical length for a standard",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(rows)
        ]
        with db.engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(
                sa.insert(Framework.__table__).values(
                    id=framework_id,
                    case_identifier="baseline",
                    title="baseline",
                    subject=[],
                    source_note="",
                    item_count=0,
                    obsolete_item_count=0,
                    association_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            started = time.perf_counter()
            for start in range(0, rows, 2000):
                connection.execute(sa.insert(table), data[start : start + 2000])
            seconds = time.perf_counter() - started
            transaction.rollback()
    return {"seconds": seconds, "peak_mb": _peak_mb()}


def worker_search(database_url: str, framework_id: str, queries: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from core.db import db
    from standards import frameworks
    from standards.models import StandardItem

    rng = random.Random(3)
    app = _app(database_url)
    with app.app_context():
        fid = uuid.UUID(framework_id)
        ids = list(db.session.scalars(sa.select(StandardItem.id).where(StandardItem.framework_id == fid).limit(5000)))
        codes = list(
            db.session.scalars(
                sa.select(StandardItem.human_coding_scheme).where(StandardItem.framework_id == fid).limit(5000)
            )
        )
        kinds = {
            "code": lambda: rng.choice(codes),
            "code part": lambda: rng.choice(codes).split(".", 2)[-1],
            "one word": lambda: rng.choice(WORDS),
            "two words": lambda: f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
        }
        out: dict[str, Any] = {}
        for name, make in kinds.items():
            for _ in range(5):  # warm up
                frameworks.search_items(q=make(), page=1, page_size=20)
            timings = []
            hits = []
            for _ in range(queries):
                q = make()
                started = time.perf_counter()
                page = frameworks.search_items(q=q, page=1, page_size=20)
                timings.append((time.perf_counter() - started) * 1000)
                hits.append(page.total)
                db.session.rollback()
            out[name] = _percentiles(timings) | {"median_hits": statistics.median(hits)}
        timings = []
        for _ in range(queries):
            item_id = rng.choice(ids)
            started = time.perf_counter()
            db.session.get(StandardItem, item_id)
            timings.append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()
        out["baseline: get by id"] = _percentiles(timings)
    return out


def _percentiles(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_ms": ordered[len(ordered) // 2],
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


# --- the driver --------------------------------------------------------------------------------------


def run_worker(*args: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"worker {args[0]} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_database(url: str) -> None:
    from flask_migrate import upgrade

    from core.db import empty_postgresql_schema

    empty_postgresql_schema(url)
    app = _app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a scratch database (default: SQLite in a temporary directory)")
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, *rest = args.worker
        if kind == "import":
            result = worker_import(rest[0], rest[1])
        elif kind == "json":
            result = worker_json_baseline(rest[0])
        elif kind == "insert":
            result = worker_insert_baseline(rest[0], int(rest[1]))
        else:
            result = worker_search(rest[0], rest[1], int(rest[2]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        dialect = url.split(":", 1)[0]
        print(f"Standards import benchmark on {dialect}, Python {sys.version.split()[0]}")
        prepare_database(url)

        largest = max(
            (ROOT / "standards" / "data").glob("*/*.json"),
            key=lambda p: p.stat().st_size if "schema" not in p.parts else 0,
        )
        result = run_worker("import", url, str(largest))
        print(
            f"\nLargest bundled framework ({largest.name}, {largest.stat().st_size / 1e6:.1f} MB): "
            f"{result['items']} items in {result['seconds']:.2f} s, peak memory {result['peak_mb']:.0f} MB "
            f"(process before import {result['start_mb']:.0f} MB)"
        )

        package = synthetic_package(args.items)
        path = Path(tmp) / "synthetic.json"
        path.write_text(json.dumps(package))
        size_mb = path.stat().st_size / 1e6
        json_base = run_worker("json", str(path))
        insert_base = run_worker("insert", url, str(args.items))
        first = run_worker("import", url, str(path))
        print(
            f"\nSynthetic package: {first['items']} items, {first['associations']} non-tree associations, "
            f"{size_mb:.1f} MB"
        )
        print(
            f"  baseline json.loads:                  {json_base['seconds']:6.2f} s"
            f"  peak {json_base['peak_mb']:4.0f} MB"
        )
        print(f"  baseline Core executemany of items:   {insert_base['seconds']:6.2f} s")
        print(
            f"  first import:                         {first['seconds']:6.2f} s  peak {first['peak_mb']:4.0f} MB"
            f"  ({first['items'] / first['seconds']:,.0f} items/s; "
            f"{first['seconds'] / (json_base['seconds'] + insert_base['seconds']):.1f}x the two baselines)"
        )
        again = run_worker("import", url, str(path))
        print(f"  same file again (no change):          {again['seconds']:6.2f} s  peak {again['peak_mb']:4.0f} MB")
        path.write_text(json.dumps(touched(package, share=0.10)))
        del package
        second = run_worker("import", url, str(path))
        print(
            f"  re-import, 10% changed, 1% removed:   {second['seconds']:6.2f} s  peak {second['peak_mb']:4.0f} MB"
            f"  ({second['updated']} updated, {second['obsoleted']} obsolete)"
        )
        target = "met" if first["seconds"] < 30 and first["peak_mb"] < 500 else "MISSED"
        print(f"  target < 30 s and < 500 MB: {target}")

        search = run_worker("search", url, first["framework_id"], str(args.queries))
        print(f"\nSearch at {first['items']} items (+ the bundled one), {args.queries} queries each, page of 20:")
        for name, figures in search.items():
            hits = f"  median hits {figures['median_hits']:,.0f}" if "median_hits" in figures else ""
            print(f"  {name:22} p50 {figures['p50_ms']:6.2f} ms   p99 {figures['p99_ms']:6.2f} ms{hits}")


if __name__ == "__main__":
    main()
