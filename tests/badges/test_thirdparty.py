"""Third-party credentials from public conformance suites (tests/badges/thirdparty/README.md): the verifier
must reach the verdict their suites state, and must refuse a tampered copy of each that verifies."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from badges import verifier
from badges.fetching import Fetched, FetchError
from badges.jsonld import canonical_nquads, canonical_nquads_pyld
from badges.verifier import Report, verify

HERE = Path(__file__).resolve().parent / "thirdparty"
EXPECTED: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
NOW = datetime(2026, 12, 4, tzinfo=UTC)

# Verdicts we do not reach yet, and why. strict: fixing one fails its test until the mark goes.
NOT_YET: dict[str, str] = {}


def _cases() -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=NOT_YET[name])) if name in NOT_YET else name
        for name in EXPECTED
    ]


def _load(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


@contextmanager
def offline_web(name: str) -> Iterator[None]:
    """Serve the documents a credential's suite publishes beside it (its status list: ``web`` in expected.json,
    files under ``thirdparty/web/``) at their URLs; any other URL is a failed fetch, never the network."""
    pages = {url: (HERE / path).read_bytes() for url, path in EXPECTED[name].get("web", {}).items()}
    real = verifier.fetch

    def fetch(url: str, *, accept: str = "application/json") -> Fetched:
        if url not in pages:
            raise FetchError(f"{url} is not served in this test (offline)")
        return Fetched(url, 200, "application/json", pages[url])

    verifier.fetch = fetch  # type: ignore[assignment]
    try:
        yield
    finally:
        verifier.fetch = real  # type: ignore[assignment]


def _verify(name: str, credential: dict[str, Any]) -> Report:
    with offline_web(name):
        return verify(credential, now=NOW)


def _explain(report: Report) -> list[str]:
    return [f"{c['step']}: {c['detail']}" for c in report.checks if not c["passed"]]


def test_every_file_has_an_expected_verdict_and_a_source() -> None:
    files = {path.name for path in HERE.glob("*.json")} - {"expected.json"}
    assert files == set(EXPECTED)
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in files)
    assert set(NOT_YET) <= files
    served = {path for e in EXPECTED.values() for path in e.get("web", {}).values()}
    assert served == {f"web/{path.name}" for path in (HERE / "web").glob("*")}
    assert all(f"`{path}`" in readme for path in served)


@pytest.mark.parametrize("name", _cases())
def test_verdict_agrees_with_the_suite(name: str) -> None:
    expected = EXPECTED[name]
    report = _verify(name, _load(name))
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
    assert _verify(name, credential).status == EXPECTED[name]["status"]
    forged = copy.deepcopy(credential)
    forged["name"] = str(credential.get("name", "")) + " (forged)"
    report = _verify(name, forged)
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


@pytest.mark.parametrize("name", [n for n, e in EXPECTED.items() if e.get("web") and n not in NOT_YET])
def test_a_tampered_status_list_is_refused(name: str, tmp_path: Path) -> None:
    """The status list's own proof is checked: with one bit of its list changed, the badge cannot be trusted."""
    (url, path), *_ = EXPECTED[name]["web"].items()
    listed = json.loads((HERE / path).read_text(encoding="utf-8"))
    subject = listed["credentialSubject"]
    encoded = subject["encodedList"].removeprefix("u")
    bits = bytearray(gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))))
    bits[0] ^= 0x01  # flip bit 7 of the list
    subject["encodedList"] = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()
    real = verifier.fetch

    def fetch(target: str, *, accept: str = "application/json") -> Fetched:
        if target != url:
            raise FetchError(f"{target} is not served in this test (offline)")
        return Fetched(url, 200, "application/json", json.dumps(listed).encode())

    verifier.fetch = fetch  # type: ignore[assignment]
    try:
        report = verify(_load(name), now=NOW)
    finally:
        verifier.fetch = real  # type: ignore[assignment]
    assert report.status == "invalid"
    assert any(c["step"] == "status" and not c["passed"] and "signature does not match" in c["detail"]
               for c in report.checks), _explain(report)  # fmt: skip


DRAFT_2022 = ["1edtech-simple_v1.json", "1edtech-simple-multiple-proofs.json"]  # name the unversioned context.json


@pytest.mark.parametrize("name", DRAFT_2022)
@pytest.mark.parametrize("version", ["3.0.1", "3.0.2", "3.0.3"])
def test_a_2022_context_credential_is_not_verified_over_a_later_context(name: str, version: str) -> None:
    """The signature covers the 2022 draft's vocabulary: with a released OB context in its place it fails."""
    credential = _load(name)
    assert _verify(name, credential).status == "valid"
    credential["@context"][1] = f"https://purl.imsglobal.org/spec/ob/v3p0/context-{version}.json"
    report = _verify(name, credential)
    assert report.status == "invalid"
    assert any(c["step"] == "proof" and not c["passed"] and "does not match" in c["detail"]
               for c in report.checks), _explain(report)  # fmt: skip


@pytest.mark.parametrize("name", DRAFT_2022)
@pytest.mark.parametrize(
    "forge",
    [
        lambda c: c["credentialSubject"]["achievement"].update(
            name="Leadership Badge"
        ),  # a term the 2022 context scopes
        lambda c: c["issuer"].update(id="https://evil.example/issuers/1"),
        lambda c: c.update(issuanceDate="2009-01-01T00:00:00Z"),
        lambda c: c["credentialSubject"].update(id="did:example:someone-else"),
    ],
    ids=["achievement-name", "issuer-id", "issuance-date", "subject-id"],
)
def test_a_tampered_2022_context_credential_is_invalid(name: str, forge: Any) -> None:
    forged = _load(name)
    forge(forged)
    report = _verify(name, forged)
    assert report.status == "invalid"
    assert any(c["step"] == "proof" and not c["passed"] for c in report.checks), _explain(report)


def test_the_2022_context_cannot_follow_credentials_v2() -> None:
    """Its terms are unprotected: after credentials/v2 the proof fails with the JSON-LD error, never re-mapped."""
    credential = _load("1edtech-simple_v1.json")
    credential["@context"][0] = "https://www.w3.org/ns/credentials/v2"
    report = _verify("1edtech-simple_v1.json", credential)
    assert report.status == "invalid"
    assert any(c["step"] == "proof" and not c["passed"] and "redefine a protected term" in c["detail"]
               for c in report.checks), _explain(report)  # fmt: skip
