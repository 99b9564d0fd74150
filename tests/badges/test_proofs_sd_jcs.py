"""ecdsa-sd-2023 derived proofs and the JCS suites (eddsa-jcs-2022, ecdsa-jcs-2019) against the W3C vectors
(tests/badges/data/SOURCES.md), byte for byte, and tampered variants of each."""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

import cbor2
import pytest
import rfc8785

from badges import proofs, proofs_jcs, proofs_sd
from badges.proofs import ProofError
from badges.verifier import verify
from tests.badges.samples import ISSUER, credential, ed25519_key, p256_key
from tests.badges.test_proofs import _w3c_ecdsa_private_key, _w3c_private_key, data, examples_context  # noqa: F401

W3C_EDDSA_KEY = data("w3c-eddsa/keyPair.json")["publicKeyMultibase"]
W3C_P256_KEY = data("w3c-ecdsa/p256KeyPair.json")["publicKeyMultibase"]
SD_KEYS = data("w3c-ecdsa/sd-key-material.json")
# w3c/vc-di-eddsa TestVectors/eddsa-jcs-2022: docHashJCS.txt, proofCanonJCS.txt, proofHashJCS.txt
JCS_DOC_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
JCS_PROOF_CANON = (
    '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],'
    '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod",'
    '"type":"DataIntegrityProof","verificationMethod":"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'
    '#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'
)
JCS_PROOF_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
# w3c/vc-di-ecdsa TestVectors/ecdsa-jcs-2019-p256/combinedHashJCSECDSAP256.txt
ECDSA_JCS_COMBINED = "9c4b552d65fcb106b6b27ec2436d8ae81b319afc7aeaab7964b2938cd120cec3" + JCS_DOC_HASH
# w3c/vc-di-ecdsa TestVectors/ecdsa-sd-2023/prc/verifyCreateVerifyData.json: proofHash (the same proof options)
SD_PROOF_HASH = "9c5c9b189f06cfa9d9f21a838ccb9b04316f07ad1a517bfd4955ee28c6a8229c"
CREATED = "2025-01-01T00:00:00Z"


def _key(multikey: str) -> Any:
    return proofs.verification_key_from_multikey(multikey)


# -- eddsa-jcs-2022 / ecdsa-jcs-2019 --------------------------------------------------------------------------


def test_eddsa_jcs_vector_verifies_and_is_reproduced_byte_for_byte() -> None:
    signed = data("w3c-eddsa/eddsa-jcs-2022-signed.json")
    proof = signed["proof"]
    proofs.verify_proof(signed, proof, _key(W3C_EDDSA_KEY))
    assert proofs_jcs.hash_data(signed, proof)[32:].hex() == JCS_DOC_HASH
    published = {**{k: v for k, v in proof.items() if k != "proofValue"}}
    published["verificationMethod"] = f"did:key:{W3C_EDDSA_KEY}#{W3C_EDDSA_KEY}"
    assert rfc8785.dumps(published).decode() == JCS_PROOF_CANON
    assert hashlib.sha256(JCS_PROOF_CANON.encode()).hexdigest() == JCS_PROOF_HASH
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    again = proofs_jcs.sign(unsigned, _w3c_private_key(), proof["verificationMethod"], proof["created"])
    assert again["proof"] == [proof]  # Ed25519 is deterministic


def test_ecdsa_jcs_vector_verifies_with_the_published_hash() -> None:
    signed = data("w3c-ecdsa/ecdsa-jcs-2019-p256-signed.json")
    proof = signed["proof"]
    assert proofs_jcs.hash_data(signed, proof, with_document_context=False).hex() == ECDSA_JCS_COMBINED
    proofs.verify_proof(signed, proof, _key(W3C_P256_KEY))
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    again = proofs_jcs.sign(unsigned, _w3c_ecdsa_private_key("p256"), proof["verificationMethod"], proof["created"])
    proofs.verify_proof(again, again["proof"][0], _key(W3C_P256_KEY))  # today's form, with @context in the proof


@pytest.mark.parametrize("name", ["w3c-eddsa/eddsa-jcs-2022-signed.json", "w3c-ecdsa/ecdsa-jcs-2019-p256-signed.json"])
def test_jcs_vectors_tampered_or_with_another_key_are_rejected(name: str) -> None:
    signed = data(name)
    key = _key(W3C_EDDSA_KEY if "eddsa" in name else W3C_P256_KEY)
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_proof(forged, forged["proof"], key)
    reordered = dict(reversed(list(signed.items())))  # JCS: key order does not matter
    proofs.verify_proof(reordered, reordered["proof"], key)
    other = _key(W3C_P256_KEY if "eddsa" in name else W3C_EDDSA_KEY)
    with pytest.raises(ProofError, match=r"needs an? "):
        proofs.verify_proof(signed, signed["proof"], other)
    odd = copy.deepcopy(signed)
    odd["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    with pytest.raises(ProofError, match="not the start"):
        proofs.verify_proof(odd, odd["proof"], key)


@pytest.mark.parametrize("key", [ed25519_key, p256_key])
def test_jcs_badge_signed_here_verifies_and_tampering_is_refused(key: Any) -> None:
    private = key()
    multikey = proofs.multikey(private.public_key()) if key is ed25519_key else proofs.ec_multikey(private.public_key())
    signed = proofs_jcs.sign(credential(), private, f"{ISSUER}#{multikey}", CREATED)
    report = verify(signed, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert report.status == "valid", [c for c in report.checks if not c["passed"]]
    assert any("jcs" in c["detail"] and c["passed"] for c in report.checks if c["step"] == "proof")
    signed["credentialSubject"]["achievement"]["name"] = "Forged"
    assert verify(signed, now=datetime(2026, 1, 1, tzinfo=UTC)).status == "invalid"


# -- ecdsa-sd-2023 --------------------------------------------------------------------------------------------


def _sd() -> dict[str, Any]:
    return data("w3c-ecdsa/ecdsa-sd-2023-derived.json")


def _issuer_key() -> Any:
    return _key(SD_KEYS["baseKeyPair"]["publicKeyMultibase"])


def _with_parts(document: dict[str, Any], change: Any) -> dict[str, Any]:
    value = document["proof"]["proofValue"][1:]
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    parts = cbor2.loads(raw[3:])
    change(parts)
    encoded = base64.urlsafe_b64encode(raw[:3] + cbor2.dumps(parts)).rstrip(b"=").decode()
    forged = copy.deepcopy(document)
    forged["proof"]["proofValue"] = "u" + encoded
    return forged


def test_sd_vector_verifies_with_the_published_hashes() -> None:
    document = _sd()
    proofs.verify_proof(document, document["proof"], _issuer_key())
    verify_data = proofs_sd.create_verify_data(document, document["proof"])
    assert verify_data["proofHash"].hex() == SD_PROOF_HASH
    assert proofs.ec_multikey(_proof_key(verify_data["publicKey"])) == SD_KEYS["proofKeyPair"]["publicKeyMultibase"]
    assert len(verify_data["nonMandatory"]) == len(verify_data["signatures"]) == 6
    labels = proofs_sd.parse_derived_proof_value(document["proof"]["proofValue"])["labelMap"]
    assert all(q.count("_:c14n") == 0 for q in verify_data["nonMandatory"])  # every blank node relabelled
    assert all(label.startswith("u") and len(label) == 44 for label in labels.values())  # base64url HMAC-SHA-256


def _proof_key(raw: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])


def _drop_sail(document: dict[str, Any]) -> None:
    document["credentialSubject"]["sails"].pop()


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda d: d["credentialSubject"].update(sailNumber="Mars202"), "does not match"),
        (lambda d: d["credentialSubject"]["boards"][0].update(year=2024), "does not match"),
        (_drop_sail, "revealed statements"),
        (lambda d: d["credentialSubject"].update(extra="added"), "statement signatures for"),
        (lambda d: d.update(issuer="https://forger.example"), "base signature does not match"),
        (lambda d: d["proof"].update(created="2024-01-01T00:00:00Z"), "base signature does not match"),
    ],
)
def test_sd_vector_tampered_is_rejected(tamper: Any, reason: str) -> None:
    document = _sd()
    tamper(document)
    with pytest.raises(ProofError, match=reason):
        proofs.verify_proof(document, document["proof"], _issuer_key())


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda p: p.__setitem__(0, bytes(64)), "base signature does not match"),
        (lambda p: p[2].reverse(), "does not match its signature"),
        (lambda p: p.__setitem__(3, {}), "labelMap has no label"),
        (lambda p: p.__setitem__(4, [99]), "point past the revealed statements"),
        (lambda p: p.__setitem__(1, b"\x80\x24" + bytes(33)), "not a point on its curve"),
        (lambda p: p.__setitem__(3, {"0": b"x"}), "labelMap must map"),
        (lambda p: p.pop(), "five items"),
    ],
)
def test_sd_proof_value_altered_is_rejected(change: Any, reason: str) -> None:
    document = _with_parts(_sd(), change)
    with pytest.raises(ProofError, match=reason):
        proofs.verify_proof(document, document["proof"], _issuer_key())


@pytest.mark.parametrize(
    "value, reason",
    [
        ("u" + base64.urlsafe_b64encode(b"\xd9\x5d\x00" + cbor2.dumps([b"", b"", b"", [], []])).decode(), "base proof"),
        ("u" + base64.urlsafe_b64encode(b"\xd9\x5d\x01\xff\xff").decode(), "not CBOR"),
        ("u" + base64.urlsafe_b64encode(b"\x00\x01\x02").decode(), "derived-proof header"),
        ("z3abc", "base64url multibase"),
        ("u" + "A" * (proofs_sd.MAX_PROOF_VALUE + 1), "too long"),
        ("u" + base64.urlsafe_b64encode(b"\xd9\x5d\x01" + b"\x5b" + b"\xff" * 8).decode(), "not CBOR"),
    ],
)
def test_sd_malformed_proof_values_are_proof_errors(value: str, reason: str) -> None:
    document = _sd()
    document["proof"]["proofValue"] = value
    with pytest.raises(ProofError, match=reason):
        proofs.verify_proof(document, document["proof"], _issuer_key())


def test_sd_with_the_wrong_issuer_key_is_rejected() -> None:
    document = _sd()
    with pytest.raises(ProofError, match="base signature does not match"):
        proofs.verify_proof(document, document["proof"], _key(SD_KEYS["proofKeyPair"]["publicKeyMultibase"]))
    with pytest.raises(ProofError, match="needs a P-256"):
        proofs.verify_proof(document, document["proof"], ed25519_key().public_key())


def test_blank_node_text_inside_a_literal_is_not_relabelled() -> None:
    line = '_:c14n0 <https://example/p> "see _:c14n1 here" _:c14n2 .'
    renamed = proofs_sd._relabel_line(line, lambda m: "_:u" + m.group(1))
    assert renamed == '_:u0 <https://example/p> "see _:c14n1 here" _:u2 .'
