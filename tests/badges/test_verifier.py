"""The verifier's steps on the 1EdTech vectors and on credentials signed here; status lists; SSRF-safe fetching."""

from __future__ import annotations

import base64
import copy
import gzip
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier

from badges import baking, fetching, proofs, verifier
from badges.fetching import Fetched, FetchError
from badges.verifier import NotACredential, verify
from tests.badges.samples import ISSUER, credential, data, ed25519_key, rsa_key

KID = f"{ISSUER}/keys/k1"
LIST_URL = "https://issuer.example/status-lists/3"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _jwk(public_key: Any, kid: str = KID) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def _encoded_list(*set_bits: int, size: int = 131072) -> str:
    bits = bytearray(size // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()


def _status_list(*set_bits: int, issuer: str = ISSUER, purpose: str = "revocation", key: Any = None) -> str:
    listed = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": issuer, "type": ["Profile"]},
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": _encoded_list(*set_bits),
        },
    }
    return proofs.sign_vc_jwt(listed, key or rsa_key(), KID)


def _entry(index: int = 94567, purpose: str = "revocation") -> dict[str, Any]:
    return {
        "id": f"{LIST_URL}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": LIST_URL,
    }


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The issuer's web as the verifier sees it: URL → body (bytes/str/dict), or an exception to raise."""
    pages: dict[str, Any] = {KID: _jwk(rsa_key().public_key()), LIST_URL: _status_list()}

    def fake_fetch(url: str, *, accept: str = "application/json") -> Fetched:
        if url not in pages:
            raise FetchError(f"{url} answered HTTP 404")
        body = pages[url]
        if isinstance(body, Exception):
            raise body
        if isinstance(body, dict | list):
            body = json.dumps(body)
        return Fetched(url, 200, "application/json", body.encode() if isinstance(body, str) else body)

    monkeypatch.setattr(verifier, "fetch", fake_fetch)
    return pages


def _di(doc: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    key = key or ed25519_key()
    vm = f"{ISSUER}#{proofs.multikey(key.public_key())}"
    return proofs.sign_eddsa_rdfc_2022(doc, key, vm, "2025-01-01T00:00:00Z")


def _steps(report: verifier.Report) -> dict[str, list[bool]]:
    out: dict[str, list[bool]] = {}
    for check in report.checks:
        out.setdefault(check["step"], []).append(check["passed"])
    return out


def _failed(report: verifier.Report) -> list[str]:
    return [f"{c['step']}: {c['detail']}" for c in report.checks if not c["passed"]]


# -- 1EdTech vectors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["signed-credential.json", "simple-jwt.png", "simple-jwt.svg"])
def test_1edtech_vectors_verify(name: str) -> None:
    report = verify(data(name) if not name.endswith(".json") else json.dumps(data(name)), now=NOW)
    assert report.status == "valid", _failed(report)
    assert report.verified
    assert [c["step"] for c in report.checks] == [
        "parse", "context", "type", "schema", "subject", "issuer", "proof", "validity"
    ]  # fmt: skip
    assert report.credential["issuer"]["name"] == "Example Corp"


def test_tampered_1edtech_image_is_invalid() -> None:
    token = baking.extract_png(data("simple-jwt.png"))
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["name"] = "Forged Badge"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    forged = baking.bake_png(data("simple-jwt.png"), f"{head}.{forged_body}.{sig}")
    report = verify(forged, now=NOW)
    assert report.status == "invalid"
    assert _steps(report)["proof"] == [False]


# -- our own kinds of badge -----------------------------------------------------------------------------------


def test_data_integrity_badge_is_valid(web: dict) -> None:
    report = verify(_di(credential()), now=NOW)
    assert report.status == "valid", _failed(report)
    assert "key from the verificationMethod" in report.checks[6]["detail"]


def test_vc_jwt_with_kid_url_and_both_proofs(web: dict) -> None:
    token = proofs.sign_vc_jwt(_di(credential(credentialStatus=_entry())), rsa_key(), KID)
    report = verify(token, now=NOW)
    assert report.status == "valid", _failed(report)
    assert _steps(report)["proof"] == [True, True]
    assert _steps(report)["status"] == [True]
    assert "proof" in report.credential and "iss" not in report.credential


def test_baked_png_and_svg_of_our_badge(web: dict) -> None:
    token = proofs.sign_vc_jwt(credential(), rsa_key(), KID)
    png = data("simple-jwt.png")
    assert verify(baking.bake_png(png, token), now=NOW).status == "valid"
    svg = baking.bake_svg('<svg xmlns="http://www.w3.org/2000/svg"/>', credential_json=json.dumps(_di(credential())))
    report = verify(svg.encode(), now=NOW)
    assert report.status == "valid", _failed(report)
    assert report.source == "svg"


def _tampers() -> list[tuple[str, Callable[[dict], None]]]:
    def subject(doc: dict) -> None:
        doc["credentialSubject"]["id"] = "did:example:mallory"

    def achievement(doc: dict) -> None:
        doc["credentialSubject"]["achievement"]["name"] = "Rocket Science"

    def dates(doc: dict) -> None:
        doc["validFrom"] = "2024-01-01T00:00:00Z"

    def status(doc: dict) -> None:
        doc["credentialStatus"] = _entry(5)

    return [(f.__name__, f) for f in (subject, achievement, dates, status)]


@pytest.mark.parametrize(("what", "tamper"), _tampers(), ids=[w for w, _ in _tampers()])
def test_tampered_data_integrity_badge_is_invalid(web: dict, what: str, tamper: Callable[[dict], None]) -> None:
    doc = _di(credential(credentialStatus=_entry()))
    tamper(doc)
    report = verify(doc, now=NOW)
    assert report.status == "invalid"
    assert _steps(report)["proof"] == [False]


def test_tampered_jwt_is_invalid(web: dict) -> None:
    token = proofs.sign_vc_jwt(credential(), rsa_key(), KID)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["credentialSubject"]["id"] = "did:example:mallory"
    payload["sub"] = "did:example:mallory"
    forged = f"{head}.{base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b'=').decode()}.{sig}"
    report = verify(forged, now=NOW)
    assert report.status == "invalid"
    assert "signature" in _failed(report)[0]


def test_jwt_key_must_live_on_the_issuers_origin(web: dict) -> None:
    evil_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    web["https://evil.example/key"] = _jwk(evil_key.public_key(), "https://evil.example/key")
    token = proofs.sign_vc_jwt(credential(), evil_key, "https://evil.example/key")
    report = verify(token, now=NOW)
    assert report.status == "invalid"
    assert "not on the issuer's origin" in _failed(report)[0]


def test_jwt_key_from_jwks_and_unreachable_kid(web: dict) -> None:
    jwks_url = f"{ISSUER}/jwks.json"
    web[jwks_url] = {"keys": [_jwk(rsa_key().public_key(), jwks_url)]}
    assert verify(proofs.sign_vc_jwt(credential(), rsa_key(), jwks_url), now=NOW).status == "valid"
    web.pop(KID)
    report = verify(proofs.sign_vc_jwt(credential(), rsa_key(), KID), now=NOW)
    assert report.status == "invalid"
    assert "404" in _failed(report)[0]


def test_did_key_and_foreign_verification_methods(web: dict) -> None:
    key = Ed25519PrivateKey.generate()
    did = "did:key:" + proofs.multikey(key.public_key())
    doc = credential(issuer={"id": did, "type": ["Profile"], "name": "Self"})
    signed = proofs.sign_eddsa_rdfc_2022(doc, key, f"{did}#{proofs.multikey(key.public_key())}", "2025-01-01T00:00:00Z")
    assert verify(signed, now=NOW).status == "valid"
    stolen = _di(credential(), key)
    stolen["proof"][0]["verificationMethod"] = f"{did}#{proofs.multikey(key.public_key())}"
    report = verify(stolen, now=NOW)
    assert report.status == "invalid"
    assert "not the issuer" in _failed(report)[0]


def _bare_did_key(issuer: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    doc = credential(issuer={"id": issuer, "type": ["Profile"], "name": "Someone"})
    return proofs.sign_eddsa_rdfc_2022(doc, key, "did:key:" + proofs.multikey(key.public_key()), "2025-01-01T00:00:00Z")


def test_a_bare_did_key_is_accepted_with_a_warning_only_for_an_issuer_that_publishes_no_keys(web: dict) -> None:
    key = Ed25519PrivateKey.generate()
    report = verify(_bare_did_key("urn:uuid:6f2e33e5-7a29-4155-840a-59483ba10164", key), now=NOW)
    assert report.status == "valid" and report.verified
    assert [w["kind"] for w in report.warnings] == ["authenticity"]
    assert "not shown to belong to the issuer" in report.warnings[0]["detail"]
    # An issuer that can publish keys (web or DID) must have signed with one of its own.
    for issuer in (ISSUER, "did:web:issuer.example", "did:key:" + proofs.multikey(ed25519_key().public_key())):
        report = verify(_bare_did_key(issuer, key), now=NOW)
        assert report.status == "invalid", issuer
        assert "publishes its own keys" in _failed(report)[0]
    # A did:key that names itself as controller (…#z6Mk…) must be the issuer, as in the 1EdTech validator.
    named = _bare_did_key("urn:uuid:6f2e33e5-7a29-4155-840a-59483ba10164", key)
    did = named["proof"][0]["verificationMethod"]
    named["proof"][0]["verificationMethod"] = f"{did}#{did.removeprefix('did:key:')}"
    assert verify(named, now=NOW).status == "invalid"
    # The warning never hides a forgery.
    forged = _bare_did_key("urn:uuid:6f2e33e5-7a29-4155-840a-59483ba10164", key)
    forged["name"] = "Forged"
    report = verify(forged, now=NOW)
    assert report.status == "invalid" and not report.warnings


def test_ed25519_signature_2020_badge_with_its_context(web: dict) -> None:
    key = ed25519_key()
    doc = credential()
    doc["@context"] = [*doc["@context"], "https://w3id.org/security/suites/ed25519-2020/v1"]
    signed = proofs.sign_ed25519_signature_2020(
        doc, key, f"{ISSUER}#{proofs.multikey(key.public_key())}", "2025-01-01T00:00:00Z"
    )
    report = verify(signed, now=NOW)
    assert report.status == "valid", _failed(report)
    assert "Ed25519Signature2020 signature valid" in _steps_detail(report, "proof")
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    assert verify(signed, now=NOW).status == "invalid"


@pytest.mark.parametrize("curve", ["P-256", "P-384"])
def test_ecdsa_rdfc_2019_badge(web: dict, curve: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1() if curve == "P-256" else ec.SECP384R1())
    method = f"{ISSUER}#{proofs.ec_multikey(key.public_key())}"
    signed = proofs.sign_ecdsa_rdfc_2019(credential(), key, method, "2025-01-01T00:00:00Z")
    report = verify(signed, now=NOW)
    assert report.status == "valid", _failed(report)
    assert "Data Integrity ecdsa-rdfc-2019 signature valid" in _steps_detail(report, "proof")
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    assert verify(signed, now=NOW).status == "invalid"


def test_ecdsa_did_web_key_as_jwk(web: dict) -> None:
    """A did:web document may give the P-256 key as a JWK instead of a Multikey."""
    from cryptography.hazmat.primitives.asymmetric import ec

    did = "did:web:issuer.example:issuers:7"
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    web["https://issuer.example/issuers/7/did.json"] = {
        "id": did,
        "verificationMethod": [{"id": f"{did}#key-2", "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk}],
    }
    doc = credential(issuer={"id": did, "type": ["Profile"], "name": "DID issuer"})
    signed = proofs.sign_ecdsa_rdfc_2019(doc, key, f"{did}#key-2", "2025-01-01T00:00:00Z")
    assert verify(signed, now=NOW).status == "valid"
    other = proofs.sign_ecdsa_rdfc_2019(doc, ec.generate_private_key(ec.SECP256R1()), f"{did}#key-2", "2025-01-01")
    assert "ecdsa-rdfc-2019 signature does not match" in " ".join(_failed(verify(other, now=NOW)))


def test_ed25519_signature_2018_badge_with_a_did_document_key(web: dict) -> None:
    """Ed25519Signature2018 as its issuers publish keys: an Ed25519VerificationKey2018 with publicKeyBase58."""
    did = "did:web:issuer.example:issuers:7"
    key = Ed25519PrivateKey.generate()
    web["https://issuer.example/issuers/7/did.json"] = {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Ed25519VerificationKey2018",
                "controller": did,
                "publicKeyBase58": proofs.base58btc_encode(key.public_key().public_bytes_raw()),
            }
        ],
    }
    doc = credential(issuer={"id": did, "type": ["Profile"], "name": "DID issuer"})
    doc["@context"] = [*doc["@context"], "https://w3id.org/security/suites/ed25519-2018/v1"]
    signed = proofs.sign_ed25519_signature_2018(doc, key, f"{did}#key-1", "2025-01-01T00:00:00Z")
    report = verify(signed, now=NOW)
    assert report.status == "valid", _failed(report)
    assert "Ed25519Signature2018 signature valid" in _steps_detail(report, "proof")
    signed["credentialSubject"]["achievement"]["name"] = "Something else"
    assert "Ed25519Signature2018 signature does not match" in " ".join(_failed(verify(signed, now=NOW)))
    web["https://issuer.example/issuers/7/did.json"]["verificationMethod"][0]["publicKeyBase58"] = "abc"
    assert "publicKeyBase58 is not a 32-byte" in " ".join(_failed(verify(signed, now=NOW)))


def test_did_web_verification_method(web: dict) -> None:
    did = "did:web:issuer.example:issuers:7"
    key = Ed25519PrivateKey.generate()
    web["https://issuer.example/issuers/7/did.json"] = {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": proofs.multikey(key.public_key()),
            }
        ],
    }
    doc = credential(issuer={"id": did, "type": ["Profile"], "name": "DID issuer"})
    signed = proofs.sign_eddsa_rdfc_2022(doc, key, f"{did}#key-1", "2025-01-01T00:00:00Z")
    report = verify(signed, now=NOW)
    assert report.status == "valid", _failed(report)
    assert "did:web" in _steps_detail(report, "proof")


def test_status_list_issued_by_the_did_web_alias_of_an_https_issuer(web: dict) -> None:
    """A badge naming the https issuer id, whose status list is issued by the issuer's did:web DID: accepted
    when the DID document (same host) names the https id in alsoKnownAs, and only then."""
    did = "did:web:issuer.example:issuers:7"
    key = rsa_key()
    web[LIST_URL] = _status_list(94567, issuer=did, key=key)
    web[KID] = _jwk(key.public_key())
    doc = _di(credential(credentialStatus=_entry()))
    web["https://issuer.example/issuers/7/did.json"] = {"id": did, "alsoKnownAs": [ISSUER]}
    assert verify(doc, now=NOW).status == "revoked"
    for document in ({"id": did}, {"id": did, "alsoKnownAs": ["https://issuer.example/issuers/8"]}):
        web["https://issuer.example/issuers/7/did.json"] = document
        report = verify(doc, now=NOW)
        assert report.status == "invalid" and "not by the credential's issuer" in _failed(report)[0]
    elsewhere = "did:web:other.example:issuers:7"
    web[LIST_URL] = _status_list(94567, issuer=elsewhere, key=key)
    web["https://other.example/issuers/7/did.json"] = {"id": elsewhere, "alsoKnownAs": [ISSUER]}
    assert verify(doc, now=NOW).status == "invalid"


def _steps_detail(report: verifier.Report, step: str) -> str:
    return " ".join(c["detail"] for c in report.checks if c["step"] == step)


# -- status and dates -----------------------------------------------------------------------------------------


def test_revoked_by_bitstring_status_list(web: dict) -> None:
    web[LIST_URL] = _status_list(94567)
    report = verify(_di(credential(credentialStatus=_entry())), now=NOW)
    assert report.status == "revoked"
    assert not report.verified
    assert "revoked" in _steps_detail(report, "status")
    assert verify(_di(credential(credentialStatus=_entry(94568))), now=NOW).status == "valid"


@pytest.mark.parametrize(
    ("purpose", "expected"),
    [("revocation", "revoked"), ("suspension", "suspended"), ("message", "valid"), ("refresh", "valid")],
)
def test_a_set_bit_counts_by_the_purpose_of_its_list(web: dict, purpose: str, expected: str) -> None:
    # A suspended badge is not a revoked one, and a set "message" bit says nothing about validity.
    web[LIST_URL] = _status_list(94567, purpose=purpose)
    report = verify(_di(credential(credentialStatus=_entry(purpose=purpose))), now=NOW)
    assert report.status == expected, _failed(report)
    detail = _steps_detail(report, "status")
    assert (expected in detail) if expected != "valid" else ("does not affect validity" in detail)
    clear = verify(_di(credential(credentialStatus=_entry(94568, purpose=purpose))), now=NOW)
    assert clear.status == "valid" and f"not {purpose}" in _steps_detail(clear, "status")


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (lambda: _status_list(issuer="https://evil.example/issuers/1"), "not by the credential's issuer"),
        (lambda: _status_list(purpose="suspension"), "statusPurpose"),
        (lambda: _status_list(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), "signature"),
        (lambda: {"id": LIST_URL, "type": ["VerifiableCredential", "BitstringStatusListCredential"]}, "not signed"),
        (lambda: FetchError("refused: 10.0.0.1"), "refused"),
        (lambda: "garbage", "neither"),
    ],
    ids=["other-issuer", "purpose", "bad-signature", "unsigned", "unreachable", "garbage"],
)
def test_status_list_that_cannot_be_trusted_makes_the_badge_invalid(web: dict, page: Callable, reason: str) -> None:
    web[LIST_URL] = page()
    report = verify(_di(credential(credentialStatus=_entry())), now=NOW)
    assert report.status == "invalid"
    assert reason in _failed(report)[0]


STATUS_LIST_2021 = "https://w3id.org/vc/status-list/2021/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def _status_list_2021(*set_bits: int, list_type: str = "StatusList2021Credential") -> dict[str, Any]:
    """A StatusList2021 list as DCC issuers publish it: VCDM 1.1, base64url without multibase prefix, signed
    with Ed25519Signature2020 by the issuer's key."""
    listed = {
        "@context": [verifier.CREDENTIALS_V1, STATUS_LIST_2021, ED25519_2020],
        "id": LIST_URL,
        "type": ["VerifiableCredential", list_type],
        "issuer": ISSUER,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": LIST_URL + "#list",
            "type": "StatusList2021",
            "statusPurpose": "revocation",
            "encodedList": _encoded_list(*set_bits)[1:],
        },
    }
    key = ed25519_key()
    return proofs.sign_ed25519_signature_2020(
        listed, key, f"{ISSUER}#{proofs.multikey(key.public_key())}", "2025-01-01T00:00:00Z"
    )


def _entry_2021(index: int) -> dict[str, Any]:
    return {**_entry(index), "type": "StatusList2021Entry"}


def _with_2021_context(**changes: Any) -> dict[str, Any]:
    doc = credential(**changes)
    doc["@context"] = [*doc["@context"], STATUS_LIST_2021]
    return doc


def test_status_list_2021_revokes_and_clears(web: dict) -> None:
    web[LIST_URL] = _status_list_2021(94567)
    revoked = verify(_di(_with_2021_context(credentialStatus=_entry_2021(94567))), now=NOW)
    assert revoked.status == "revoked", _failed(revoked)
    assert "revoked: bit 94567 is set" in _steps_detail(revoked, "status")
    clear = verify(_di(_with_2021_context(credentialStatus=_entry_2021(94568))), now=NOW)
    assert clear.status == "valid", _failed(clear)


def test_status_list_2021_that_cannot_be_trusted_makes_the_badge_invalid(web: dict) -> None:
    doc = _di(_with_2021_context(credentialStatus=_entry_2021(94567)))
    web[LIST_URL] = _status_list_2021(list_type="BitstringStatusListCredential")  # entry and list disagree
    assert "not a StatusList2021Credential" in _failed(verify(doc, now=NOW))[0]
    forged = _status_list_2021()
    forged["credentialSubject"]["encodedList"] = _status_list_2021(94567)["credentialSubject"]["encodedList"]
    web[LIST_URL] = forged
    report = verify(doc, now=NOW)
    assert report.status == "invalid"
    assert "Ed25519Signature2020 signature does not match" in _failed(report)[0]


def test_status_list_not_valid_yet_cannot_be_trusted(web: dict) -> None:
    listed = _status_list_2021()
    listed["validFrom"] = "2999-01-01T00:00:00Z"
    listed = proofs.sign_ed25519_signature_2020(
        {k: v for k, v in listed.items() if k != "proof"},
        ed25519_key(),
        f"{ISSUER}#{proofs.multikey(ed25519_key().public_key())}",
        "2025-01-01T00:00:00Z",
    )
    web[LIST_URL] = listed
    report = verify(_di(_with_2021_context(credentialStatus=_entry_2021(1))), now=NOW)
    assert report.status == "invalid"
    assert "not valid until 2999" in _failed(report)[0]


def test_status_index_outside_the_list(web: dict) -> None:
    report = verify(_di(credential(credentialStatus=_entry(200000))), now=NOW)
    assert report.status == "invalid"
    assert "outside the list" in _failed(report)[0]


def test_1edtech_revocation_list(web: dict) -> None:
    url = "https://issuer.example/revocations"
    doc = _di(credential(credentialStatus={"id": url, "type": "1EdTechRevocationList"}))
    web[url] = {"revokedCredential": [{"id": doc["id"], "revocationReason": "issued in error"}]}
    report = verify(doc, now=NOW)
    assert report.status == "revoked"
    assert "issued in error" in _steps_detail(report, "status")
    web[url] = {"revokedCredential": [{"id": "urn:uuid:other"}]}
    assert verify(doc, now=NOW).status == "valid"


def test_expired_and_not_yet_valid() -> None:
    doc = _di(credential(validUntil="2025-06-01T00:00:00Z"))
    assert verify(doc, now=NOW).status == "expired"
    assert verify(doc, now=datetime(2025, 3, 1, tzinfo=UTC)).status == "valid"
    assert verify(doc, now=datetime(2024, 3, 1, tzinfo=UTC)).status == "not_yet_valid"


# -- structure ------------------------------------------------------------------------------------------------


def test_schema_subject_issuer_context_and_type_failures() -> None:
    broken = credential()
    broken["credentialSubject"]["achievement"]["type"] = "Achievement"  # schema wants an array
    # Genuinely signed but breaking a rule: valid, with a conformance warning (the issuer did sign it so).
    report = verify(_di(broken), now=NOW)
    assert _steps(report)["schema"] == [False] and report.status == "valid" and report.verified
    assert "/credentialSubject/achievement/type" in _steps_detail(report, "schema")
    assert [(w["step"], w["kind"]) for w in report.as_dict()["warnings"]] == [("schema", "conformance")]
    # Unsigned, or signed and then changed, the same defect is a failure like any other.
    assert verify(broken, now=NOW).status == "invalid"
    forged = _di(broken)
    forged["name"] = "Forged"
    assert verify(forged, now=NOW).status == "invalid"
    assert all(c.get("severity") != "warning" for c in verify(forged, now=NOW).checks)

    anonymous = credential()
    del anonymous["credentialSubject"]["id"]
    report = verify(_di(anonymous), now=NOW)
    assert _steps(report)["subject"] == [False] and report.status == "valid"
    assert "neither an id nor an identifier" in report.warnings[0]["detail"]
    assert verify(anonymous, now=NOW).status == "invalid"

    bare_issuer = credential(issuer=ISSUER)
    assert _steps(verify(bare_issuer, now=NOW))["issuer"] == [False]

    reordered = credential()
    reordered["@context"] = list(reversed(reordered["@context"]))
    assert _steps(verify(reordered, now=NOW))["context"] == [False]

    untyped = credential(type=["VerifiableCredential"])
    assert _steps(verify(untyped, now=NOW))["type"] == [False]


def test_no_proof_and_unknown_proof() -> None:
    report = verify(credential(), now=NOW)
    assert report.status == "invalid"
    assert "no proof" in _failed(report)[0]
    odd = credential(proof=[{"type": "BbsBlsSignature2020", "proofValue": "z1"}])
    assert "unsupported proof" in _failed(verify(odd, now=NOW))[0]
    malformed = credential(proof=[{"type": "Ed25519Signature2020", "proofValue": "z1"}])
    assert "no verificationMethod" in _failed(verify(malformed, now=NOW))[0]
    # Beside a proof that verifies, a proof we cannot check is a warning, not a failure.
    both = _di(credential(proof=[{"type": "BbsBlsSignature2020", "proofValue": "z1"}]))
    report = verify(both, now=NOW)
    assert report.status == "valid" and [w["kind"] for w in report.warnings] == ["proof"]


@pytest.mark.parametrize(
    "value",
    [
        {"foo": 1},
        [1, 2],
        "hello world",
        "",
        b"\x00\x01\x02\xff",
        "{not json",
        "[1]",
        "<html><body>hi</body></html>",
        "ftp://example.org/badge",
        "eyJhbGciOiJub25lIn0.bm90IGpzb24.",
        42,
    ],
)
def test_input_that_is_not_a_credential(value: Any) -> None:
    with pytest.raises(NotACredential):
        verify(value)


def test_png_without_a_credential_is_not_a_credential() -> None:
    png = data("simple-jwt.png")
    chunks = baking._png_chunks(png)
    plain = baking.PNG_SIGNATURE + b"".join(baking._chunk(k, b) for k, b in chunks if k != b"iTXt")
    with pytest.raises(NotACredential, match="not a baked badge"):
        verify(plain)


def test_deeply_nested_json_is_handled() -> None:
    with pytest.raises(NotACredential):
        verify("{" * 100000)
    deep: dict[str, Any] = credential()
    node = deep["credentialSubject"]
    for _ in range(30):
        node["x"] = {}
        node = node["x"]
    assert verify(copy.deepcopy(deep), now=NOW).status == "invalid"
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(NotACredential, match="nested"):
        verify(deep)


# -- fetching -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/badge",
        "http://10.1.2.3/badge",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/badge",
        "http://[::ffff:127.0.0.1]/badge",
        "http://192.168.0.1/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://localhost.localdomain:22/",
    ],
)
def test_private_addresses_are_refused(app: Flask, url: str) -> None:
    with app.app_context():
        report = verify(url)
    assert report.status == "invalid"
    assert report.checks[0]["step"] == "fetch" and not report.checks[0]["passed"]
    assert "refused" in report.checks[0]["detail"] or "cannot resolve" in report.checks[0]["detail"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x/", "http://user:pw@example.org/", "http:///nohost"])
def test_other_schemes_and_odd_urls_are_refused(app: Flask, url: str) -> None:
    with app.app_context(), pytest.raises(FetchError):
        fetching.fetch(url)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"no"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict]]:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_redirect_to_a_private_address_is_refused(
    app: Flask, server: tuple[str, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = server
    # Pretend the test server's loopback address is public, so only the redirect target is judged private.
    real = fetching.address_allowed
    monkeypatch.setattr(fetching, "address_allowed", lambda address: address == "127.0.0.1" or real(address))
    routes["/badge"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    with app.app_context():
        report = verify(f"{base}/badge")
    assert not report.checks[0]["passed"]
    assert "169.254.169.254" in report.checks[0]["detail"] and "refused" in report.checks[0]["detail"]


def test_fetch_follows_redirects_and_bounds_size_and_hops(app: Flask, server: tuple[str, dict]) -> None:
    base, routes = server
    doc = json.dumps(_di(credential())).encode()
    routes["/start"] = (301, {"Location": "/badge.json"}, b"")
    routes["/badge.json"] = (200, {"Content-Type": "application/json"}, doc)
    routes["/big"] = (200, {}, b"x" * 5000)
    routes["/loop"] = (302, {"Location": "/loop"}, b"")
    app.config.update(VERIFY_ALLOW_PRIVATE_URLS=True, VERIFY_MAX_BYTES=4096)
    try:
        with app.app_context():
            report = verify(f"{base}/start", now=NOW)
            assert report.status == "valid", _failed(report)
            assert report.source == "url"
            with pytest.raises(FetchError, match="larger than"):
                fetching.fetch(f"{base}/big")
            with pytest.raises(FetchError, match="redirects"):
                fetching.fetch(f"{base}/loop")
            with pytest.raises(FetchError, match="404"):
                fetching.fetch(f"{base}/missing")
    finally:
        app.config.update(VERIFY_ALLOW_PRIVATE_URLS=False, VERIFY_MAX_BYTES=1024 * 1024)


def test_our_own_urls_are_served_by_the_app_without_network(app: Flask) -> None:
    with app.app_context():
        assert fetching.is_local("http://localhost/api/v1/openapi.json")
        fetched = fetching.fetch("http://localhost/api/v1/openapi.json")
        assert fetched.status == 200 and json.loads(fetched.body)["openapi"]
        with pytest.raises(NotACredential):
            verify("http://localhost/verify")  # an HTML page, not a credential


def test_did_web_urls() -> None:
    assert fetching.did_web_url("did:web:example.org:issuers:7#key-1") == "https://example.org/issuers/7/did.json"
    assert fetching.did_web_url("did:web:example.org%3A8443") == "https://example.org:8443/.well-known/did.json"
    with pytest.raises(FetchError):
        fetching.did_web_url("did:web:evil.org%2Fx@internal")


def _paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


ODD_VALUES = [None, 1, 1e308, True, "", [], [None], {}, {"id": 5}, [{"a": [1]}], "did:web:127.0.0.1", {"@id": "_:b"}]


def test_odd_values_anywhere_give_a_report_never_an_exception(web: dict) -> None:
    base = _di(credential(credentialStatus=_entry()))
    for path in list(_paths(base))[1:]:
        for odd in ODD_VALUES:
            doc = copy.deepcopy(base)
            target = doc
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = copy.deepcopy(odd)
            try:
                report = verify(doc, now=NOW)
            except NotACredential:
                continue
            json.dumps(report.as_dict())
            assert report.status != "valid" or doc == base, (path, odd)


def test_data_integrity_signed_status_list_is_accepted(web: dict) -> None:
    listed = json.loads(
        base64.urlsafe_b64decode(_status_list(94567).split(".")[1] + "==")
    )  # the same list, as JSON with a DI proof instead of a JWT
    listed = {k: v for k, v in listed.items() if k not in proofs.REGISTERED_CLAIMS}
    web[LIST_URL] = _di(listed)
    report = verify(_di(credential(credentialStatus=_entry())), now=NOW)
    assert report.status == "revoked", _failed(report)
    tampered = _di(listed)
    tampered["credentialSubject"]["encodedList"] = _encoded_list()
    web[LIST_URL] = tampered
    assert verify(_di(credential(credentialStatus=_entry())), now=NOW).status == "invalid"


def test_tampered_baked_image_is_rejected_by_us_and_by_openbadgeslib(web: dict) -> None:
    token = proofs.sign_vc_jwt(credential(), rsa_key(), KID)
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    forged = f"{head}.{base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()}.{sig}"
    for image in (
        baking.bake_png(data("simple-jwt.png"), forged),
        baking.bake_svg('<svg xmlns="http://www.w3.org/2000/svg"/>', jws=forged).encode(),
    ):
        assert verify(image, now=NOW).status == "invalid"
        extracted = (
            baking.extract_png(image) if image.startswith(baking.PNG_SIGNATURE) else baking.extract_svg(image.decode())
        )
        with pytest.raises(OB3VerificationError):
            OB3Verifier(rsa_key().public_key()).verify(extracted)
    OB3Verifier(rsa_key().public_key()).verify(baking.extract_png(baking.bake_png(data("simple-jwt.png"), token)))
