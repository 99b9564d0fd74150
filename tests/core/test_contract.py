"""The API keeps its OpenAPI contract: schemathesis (``bench/contract.py``) draws a request for every operation of
/api/v1/openapi.json against a fresh service with the demo data, as its org admin, and one the document calls
invalid; no answer is a 5xx, has a status code the document does not list, or a body or Content-Type that
contradicts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_operation_keeps_the_openapi_contract(tmp_path: Path) -> None:
    # A process of its own: the run needs its own service and database, not the suite's app and transaction.
    done = subprocess.run(  # noqa: S603 (our interpreter and script, fixed arguments)
        [
            sys.executable,
            str(ROOT / "bench/contract.py"),
            "--negative",
            "--examples",
            "1",
            "--database-url",
            f"sqlite:///{tmp_path / 'contract.sqlite3'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    report = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("INFO"))
    assert done.returncode == 0, report + done.stderr[-3000:]
    operations = int(report.strip().splitlines()[-1].split()[0])
    assert operations >= 90, report  # every operation of the document was exercised
