"""Benchmark: public badge URLs under wrk, as a new user would try them (issue 16).

    apt-get install wrk                                                  # Debian's package
    .venv/bin/python bench/badge_pages.py                                # SQLite in a temporary file
    createdb -h 127.0.0.1 -U postgres bench_pages                        # a scratch database: it is wiped
    .venv/bin/python bench/badge_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_pages

Builds the database with the migrations and ``flask demo`` (the README's first command), serves ``wsgi:app`` with
gunicorn (2 gthread workers x 4 threads, no access log) and runs ``wrk`` (8 connections, 2 threads, ``--latency``)
against ``/healthz`` (the in-run static baseline) and the demo's valid badge: the HTML page, the JSON by Accept,
``.json``, ``.jwt`` and the baked ``.png``, plus a revalidation (``If-None-Match`` → 304) of the PNG. Each URL is
measured ``--runs`` times, interleaved with the baseline; every line prints requests/s, p50 and p99 and the ratio to
the baseline of the same round. Target (PERFORMANCE.md): ≥ 50 % of static; p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EMPTY_CONFIG = Path(tempfile.gettempdir()) / "bench_badge_pages_gunicorn.conf.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "DATABASE_URL": database_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


def prepare(database_url: str, env: dict[str, str]) -> str:
    """Migrations and demo data; returns the id of the demo's valid badge."""
    from core.db import empty_postgresql_schema

    empty_postgresql_schema(database_url)
    flask = str(ROOT / ".venv/bin/flask")
    subprocess.run([flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    out = subprocess.run([flask, "demo"], env=env, cwd=ROOT, check=True, capture_output=True, text=True)  # noqa: S603
    found = re.search(r"/badges/([0-9a-f-]{36}) valid", out.stdout)
    if found is None:
        raise SystemExit(f"flask demo printed no valid badge:\n{out.stdout}")
    return found.group(1)


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value).group(0))  # type: ignore[union-attr]
    if value.endswith("us"):
        return number / 1000
    if value.endswith("ms"):
        return number
    if value.endswith("s"):
        return number * 1000
    return number


def wrk(port: int, path: str, seconds: int, headers: dict[str, str]) -> dict[str, float]:
    args = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], check=True, capture_output=True, text=True)  # noqa: S603
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": float(bad.group(1)) if bad else 0.0}


def _etag(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        raise SystemExit(f"GET {path}: {response.status}")
    return response.headers["ETag"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=int, default=8, help="per wrk run")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="bench-pages-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    port = _free_port()
    env = _env(url, port)
    badge_id = prepare(url, env)
    EMPTY_CONFIG.write_text("")
    server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers=2",
            "--worker-class=gthread",
            "--threads=4",
            f"--bind=127.0.0.1:{port}",
            f"--config={EMPTY_CONFIG}",
            "--log-level=warning",
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(150):
            try:
                _etag(port, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        badge = f"/badges/{badge_id}"
        png_etag = _etag(port, f"{badge}.png")  # the first download (bakes it, if not already kept)
        cases = [
            ("badge HTML", badge, {"Accept": "text/html"}),
            ("badge JSON (Accept)", badge, {"Accept": "application/vc+ld+json"}),
            ("badge .json", f"{badge}.json", {}),
            ("badge .jwt", f"{badge}.jwt", {}),
            ("baked .png", f"{badge}.png", {}),
            ("baked .png, 304", f"{badge}.png", {"If-None-Match": png_etag}),
        ]
        for path, headers in ((p, h) for _, p, h in cases):  # warm every worker's caches
            wrk(port, path, 1, headers)
        print(f"\n/badges/<id> on {url.split(':', 1)[0]}: gunicorn 2 gthread workers x 4 threads; wrk -t2 -c8")
        print(f"  {'what':22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs static':>10}")
        for run in range(1, args.runs + 1):
            for name, path, headers in cases:
                static = wrk(port, "/healthz", args.seconds, {})
                r = wrk(port, path, args.seconds, headers)
                print(
                    f"  {'/healthz (baseline)':22} {static['rps']:8,.0f} {static['p50']:8.2f} {static['p99']:8.2f}"
                    f" {'100%':>10}   run {run}"
                )
                print(
                    f"  {name:22} {r['rps']:8,.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps'] / static['rps']:10.0%}"
                    + (f"   errors {r['errors']:.0f}" if r["errors"] else ""),
                    flush=True,
                )
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


if __name__ == "__main__":
    main()
