"""Third-party credentials from public conformance suites (tests/badges/thirdparty/README.md): the verifier
must reach the verdict their suites state, and must refuse a tampered copy of each that verifies."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from badges.jsonld import canonical_nquads, canonical_nquads_pyld
from badges.verifier import Report, verify

HERE = Path(__file__).resolve().parent / "thirdparty"
EXPECTED: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 4, tzinfo=UTC)

# Verdicts we do not reach yet, and why. strict: fixing one fails its test until the mark goes.
NOT_YET: dict[str, str] = {
    "1edtech-simple_v1.json": "names the unversioned 2022 context.json, which is not bundled",
    "1edtech-simple-multiple-proofs.json": "names the unversioned 2022 context.json, which is not bundled",
}


def _cases() -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[name])) if name in NOT_YET else name
        for name in EXPECTED
    ]


def _load(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def _explain(report: Report) -> list[str]:
    return [f"{c['step']}: {c['detail']}" for c in report.checks if not c["passed"]]


def test_every_file_has_an_expected_verdict_and_a_source() -> None:
    files = {path.name for path in HERE.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)
    assert set(NOT_YET) <= files


@pytest.mark.parametrize("name", _cases())
def test_verdict_agrees_with_the_suite(name: str) -> None:
    expected = EXPECTED[name]
    report = verify(_load(name), now=NOW)
    assert report.status == expected["status"], _explain(report)
    assert report.verified == (expected["status"] == "valid")
    failed = {c["step"] for c in report.checks if not c["passed"]}
    assert set(expected.get("failed", [])) <= failed, _explain(report)
    if "warning" in expected:
        warnings = report.as_dict().get("warnings", [])
        assert any(expected["warning"] in w["detail"] for w in warnings), warnings


def _tampered_cases() -> list[Any]:
    names = [name for name, e in EXPECTED.items() if e["status"] != "invalid"]
    return [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[name])) if name in NOT_YET
            else name for name in names]  # fmt: skip


@pytest.mark.parametrize("name", _tampered_cases())
def test_a_tampered_copy_is_invalid(name: str) -> None:
    """The untampered file must verify first (so the test cannot pass for the wrong reason)."""
    credential = _load(name)
    assert verify(credential, now=NOW).status == EXPECTED[name]["status"]
    forged = copy.deepcopy(credential)
    forged["name"] = str(credential.get("name", "")) + " (forged)"
    report = verify(forged, now=NOW)
    assert report.status == "invalid"
    assert not all(c["passed"] for c in report.checks if c["step"] == "proof"), _explain(report)


@pytest.mark.parametrize("name", [n for n in EXPECTED if n not in NOT_YET])
def test_fast_canonical_form_is_pyld_s(name: str) -> None:
    """Our fast path gives the reference algorithm's bytes on every third-party shape (twice: templates)."""
    credential = _load(name)
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    reference = canonical_nquads_pyld(unsigned)
    assert canonical_nquads(unsigned) == reference
    assert canonical_nquads(copy.deepcopy(unsigned)) == reference
