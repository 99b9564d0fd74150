"""Benchmark: evidence upload throughput (MB/s) and peak memory for 1, 50 and 200 MB files, local disk and S3.

    .venv/bin/python bench/evidence_upload.py                  # both backends, 1 / 50 / 200 MB
    .venv/bin/python bench/evidence_upload.py --sizes 1 50     # fewer sizes

S3 is a moto server (``moto[server]``, a dev dependency) started on a free port, spoken to over HTTP, as the
tests do; a real store's figures depend on its network. Each case runs in a fresh subprocess so its peak
memory (VmHWM from /proc/self/status) is its own; "above baseline" is that peak minus the resident size just
before the upload (after imports; the peak is reset through /proc/self/clear_refs first). Each case runs
``--repeat`` times: the table shows the median speed and the largest peak. Target (shared/PERFORMANCE.md):
200 MB with memory flat (< 50 MB above baseline), >= 100 MB/s to local disk.

Three timings per case:
- ``copy``: a bare ``shutil.copyfileobj`` of the source into the staging directory, the in-run baseline;
- ``store``: ``core.storage.receive`` + ``keep``: stream, SHA-256, size limit, fsync, sniff, then a rename
  (local) or a multipart upload (S3);
- ``request``: Werkzeug parsing the multipart request body (from a file, as a server streams it) with the
  app's stream factory, which writes the file part straight into staging while hashing it, then ``receive`` +
  ``keep`` on that staged file: the whole upload path minus the database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
BOUNDARY = "benchBoundary7MA4YWxkTrZu0gW"
S3_SETTINGS = {
    "S3_REGION": "us-east-1",
    "S3_ACCESS_KEY_ID": "bench",
    "S3_SECRET_ACCESS_KEY": "bench",
    "S3_PRESIGN_TTL": 60,
}


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _make_source(directory: Path, size_mb: int) -> tuple[Path, Path]:
    """A PDF-looking file of ``size_mb`` MB and a multipart request body carrying it."""
    source = directory / f"source-{size_mb}.pdf"
    body = directory / f"body-{size_mb}.multipart"
    if not source.exists():
        with source.open("wb") as f:
            f.write(b"%PDF-1.7\n")
            remaining = size_mb * MB - 9
            while remaining > 0:
                chunk = os.urandom(min(MB, remaining))
                f.write(chunk)
                remaining -= len(chunk)
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="requirement_key"\r\n\r\nartefact\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="evidence.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        with body.open("wb") as out, source.open("rb") as src:
            out.write(head)
            shutil.copyfileobj(src, out, MB)
            out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return source, body


def child(args: argparse.Namespace) -> None:
    """One case in a fresh process: print a JSON line with timings and memory."""
    from werkzeug.formparser import FormDataParser

    from core import storage

    workdir = Path(args.workdir)
    if args.backend == "local":
        store: Any = storage.LocalBackend(workdir / f"store-{args.mode}-{args.size}")
    else:
        store = storage.S3Backend(
            "bench", f"{args.mode}-{args.size}", {"S3_ENDPOINT_URL": args.endpoint, **S3_SETTINGS}
        )
    source, body = _make_source(workdir, args.size)
    store.staging_dir.mkdir(parents=True, exist_ok=True)
    limit = 1024 * MB
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM, so the peak read below is this upload's
    before = _status("VmRSS")
    started = time.perf_counter()
    if args.mode == "copy":
        target = store.staging_dir / "copy"
        with source.open("rb") as src, target.open("wb") as out:
            shutil.copyfileobj(src, out, MB)
            out.flush()
            os.fsync(out.fileno())
        target.unlink()
    elif args.mode == "store":
        with source.open("rb") as src, storage.receive(src, max_size=limit, store=store) as upload:
            storage.keep(upload, store)
    else:
        created: list[storage.StagedFile] = []
        factory = storage.staging_stream_factory(store, limit, created)  # as credentials.portfolios.api does
        parser = FormDataParser(stream_factory=factory, max_content_length=limit + MB, silent=False)
        with body.open("rb") as stream:
            _, _form, files = parser.parse(stream, "multipart/form-data", body.stat().st_size, {"boundary": BOUNDARY})
        part = files["file"]
        with storage.receive(part.stream, max_size=limit, store=store) as upload:
            storage.keep(upload, store)
        part.close()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "mb_per_s": args.size / elapsed,
                "above_baseline_mb": (_status("VmHWM") - before) / MB,
                "baseline_mb": before / MB,
            }
        )
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    import boto3

    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()  # noqa: S310 (local server)
            break
        except OSError:
            time.sleep(0.05)
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 (the local test server)
    ).create_bucket(Bucket="bench")
    return process, endpoint


def _run_child(backend: str, mode: str, size: int, workdir: str, endpoint: str) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            __file__,
            "--child",
            f"--backend={backend}",
            f"--mode={mode}",
            f"--size={size}",
            f"--workdir={workdir}",
            f"--endpoint={endpoint}",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{backend} {mode} {size} MB failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 50, 200], help="file sizes in MB")
    parser.add_argument("--backends", nargs="+", default=["local", "s3"], choices=["local", "s3"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (median speed, largest peak)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    moto, endpoint = (None, "")
    if "s3" in args.backends:
        moto, endpoint = _start_moto()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-evidence-") as workdir:
            for size in args.sizes:
                _make_source(Path(workdir), size)
            for backend in args.backends:
                for size in args.sizes:
                    result: dict[str, dict[str, float]] = {}
                    for mode in ("copy", "store", "request"):
                        runs = [_run_child(backend, mode, size, workdir, endpoint) for _ in range(args.repeat)]
                        result[mode] = {
                            "mb_per_s": statistics.median(r["mb_per_s"] for r in runs),
                            "above_baseline_mb": max(r["above_baseline_mb"] for r in runs),
                        }
                    rows.append((backend, size, result))
                    print(f"done: {backend} {size} MB", file=sys.stderr)
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(timeout=10)

    header = (
        "| backend | size | copy MB/s (baseline) | store MB/s | ratio | request MB/s | "
        "peak above baseline: store / request |"
    )
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, size, r in rows:
        print(
            f"| {backend} | {size} MB | {r['copy']['mb_per_s']:.0f} | {r['store']['mb_per_s']:.0f} | "
            f"{r['store']['mb_per_s'] / r['copy']['mb_per_s']:.2f} | {r['request']['mb_per_s']:.0f} | "
            f"{r['store']['above_baseline_mb']:.1f} MB / {r['request']['above_baseline_mb']:.1f} MB |"
        )


if __name__ == "__main__":
    main()
