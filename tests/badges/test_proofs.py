"""eddsa-rdfc-2022 and VC-JWT: the 1EdTech vector byte for byte, round trips, tampering, openbadgeslib agrees."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openbadgeslib.ob3.ldp import OB3LdpVerifier
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier

from badges import proofs
from badges.proofs import ProofError
from tests.badges.samples import ISSUER, credential, data, ed25519_key, p256_key, rsa_key

VECTOR = data("vector.json")


def _vector_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR["privateKeyHex"])[:32])


def test_multikey_round_trip_matches_the_vector() -> None:
    key = _vector_key().public_key()
    assert proofs.multikey(key) == VECTOR["publicKeyMultibase"]
    assert proofs.public_key_from_multikey(VECTOR["publicKeyMultibase"]).public_bytes_raw() == key.public_bytes_raw()


@pytest.mark.parametrize("value", ["", "6Mk", "zzzz", "z0OIl", "z" + proofs.base58btc_encode(b"\x12\x00" + bytes(32))])
def test_bad_multikeys_are_refused(value: str) -> None:
    with pytest.raises(ProofError):
        proofs.public_key_from_multikey(value)


def test_signing_reproduces_the_1edtech_vector_byte_for_byte() -> None:
    signed_vector = data("signed-credential.json")
    unsigned = {k: v for k, v in signed_vector.items() if k != "proof"}
    options = VECTOR["proofOptions"]
    signed = proofs.sign_eddsa_rdfc_2022(unsigned, _vector_key(), options["verificationMethod"], options["created"])
    assert signed["proof"] == [signed_vector["proof"]]
    assert signed["proof"][0]["proofValue"] == VECTOR["proofValue"]
    assert "proof" not in unsigned  # a new dict
    assert proofs._hash_data(unsigned, options).hex() == VECTOR["dataToSignHex"]


def test_the_1edtech_vector_verifies_with_the_key_from_its_verification_method() -> None:
    proofs.verify_eddsa_rdfc_2022(data("signed-credential.json"))


def _signed(**changes: Any) -> dict[str, Any]:
    key = ed25519_key()
    vm = f"{ISSUER}#{proofs.multikey(key.public_key())}"
    return proofs.sign_eddsa_rdfc_2022(credential(**changes), key, vm, "2025-01-01T00:00:00Z")


def test_round_trip_and_openbadgeslib_agrees() -> None:
    signed = _signed()
    proofs.verify_eddsa_rdfc_2022(signed)
    proofs.verify_eddsa_rdfc_2022(signed, ed25519_key().public_key())
    OB3LdpVerifier(ed25519_key().public_key()).verify(signed)


def _tampered() -> list[tuple[str, Any]]:
    def subject_id(doc: dict) -> None:
        doc["credentialSubject"]["id"] = "did:example:mallory"

    def name(doc: dict) -> None:
        doc["credentialSubject"]["achievement"]["name"] = "Rocket Science"

    def valid_from(doc: dict) -> None:
        doc["validFrom"] = "2024-01-01T00:00:00Z"

    def issuer_name(doc: dict) -> None:
        doc["issuer"]["name"] = "Harvard"

    def alignment(doc: dict) -> None:
        doc["credentialSubject"]["achievement"]["alignment"][0]["targetCode"] = "RL.9.1"

    def proof_created(doc: dict) -> None:
        doc["proof"][0]["created"] = "2025-01-02T00:00:00Z"

    def add_until(doc: dict) -> None:
        doc["validUntil"] = "2099-01-01T00:00:00Z"

    return [(f.__name__, f) for f in (subject_id, name, valid_from, issuer_name, alignment, proof_created, add_until)]


@pytest.mark.parametrize(("what", "tamper"), _tampered(), ids=[w for w, _ in _tampered()])
def test_tampering_is_rejected_by_us_and_by_openbadgeslib(what: str, tamper: Any) -> None:
    doc = _signed()
    tamper(doc)
    with pytest.raises(ProofError):
        proofs.verify_eddsa_rdfc_2022(doc, ed25519_key().public_key())
    with pytest.raises(OB3VerificationError):
        OB3LdpVerifier(ed25519_key().public_key()).verify(doc)


def test_wrong_key_and_foreign_verification_method_are_rejected() -> None:
    doc = _signed()
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_eddsa_rdfc_2022(doc, Ed25519PrivateKey.generate().public_key())
    forged = copy.deepcopy(doc)
    other = Ed25519PrivateKey.generate()
    forged = proofs.sign_eddsa_rdfc_2022(
        {k: v for k, v in doc.items() if k != "proof"},
        other,
        f"https://evil.example#{proofs.multikey(other.public_key())}",
        "2025-01-01T00:00:00Z",
    )
    with pytest.raises(ProofError, match="not controlled by the issuer"):
        proofs.verify_eddsa_rdfc_2022(forged)


@pytest.mark.parametrize(
    "proof",
    [
        None,
        {},
        {"cryptosuite": "eddsa-rdfc-2022", "type": "DataIntegrityProof", "proofPurpose": "assertionMethod"},
        {
            "cryptosuite": "eddsa-rdfc-2022",
            "type": "DataIntegrityProof",
            "proofPurpose": "assertionMethod",
            "proofValue": "zzz",
        },
        {
            "cryptosuite": "eddsa-rdfc-2022",
            "type": "DataIntegrityProof",
            "proofPurpose": "authentication",
            "proofValue": "z1",
        },
    ],
)
def test_malformed_proofs_are_rejected(proof: Any) -> None:
    doc = credential(proof=proof)
    with pytest.raises(ProofError):
        proofs.verify_eddsa_rdfc_2022(doc, ed25519_key().public_key())


def test_a_second_proof_keeps_the_first() -> None:
    doc = _signed()
    other = Ed25519PrivateKey.generate()
    both = proofs.sign_eddsa_rdfc_2022(
        doc, other, f"{ISSUER}#{proofs.multikey(other.public_key())}", "2025-01-02T00:00:00Z"
    )
    assert len(both["proof"]) == 2
    proofs.verify_eddsa_rdfc_2022(both, other.public_key())
    proofs.verify_eddsa_rdfc_2022(both, ed25519_key().public_key())


# -- VC-JWT ---------------------------------------------------------------------------------------------------


KID = "https://issuer.example/issuers/7/keys/k1"


def _keys() -> list[tuple[str, Any]]:
    return [("RS256", rsa_key()), ("ES256", p256_key()), ("EdDSA", ed25519_key())]


@pytest.mark.parametrize(("alg", "key"), _keys(), ids=[a for a, _ in _keys()])
def test_vc_jwt_round_trip_and_openbadgeslib_agrees(alg: str, key: Any) -> None:
    cred = credential(validUntil="2099-01-01T00:00:00Z")
    token = proofs.sign_vc_jwt(cred, key, KID, alg)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": alg, "kid": KID, "typ": "JWT"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iss"] == ISSUER and payload["sub"] == "did:example:earner1" and payload["jti"] == cred["id"]
    assert payload["nbf"] == 1735689600 and payload["exp"] == 4070908800
    seen: list[dict] = []
    assert proofs.decode_vc_jwt(token, lambda h: seen.append(h) or key.public_key()) == cred
    assert seen[0]["kid"] == KID
    OB3Verifier(key.public_key()).verify(token)


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def test_vc_jwt_tampering_is_rejected_by_us_and_by_openbadgeslib() -> None:
    token = proofs.sign_vc_jwt(credential(), rsa_key(), KID)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    forged = f"{head}.{_b64(payload)}.{sig}"
    with pytest.raises(ProofError, match="signature"):
        proofs.decode_vc_jwt(forged, lambda h: rsa_key().public_key())
    with pytest.raises(OB3VerificationError):
        OB3Verifier(rsa_key().public_key()).verify(forged)


def test_vc_jwt_wrong_key_and_alg_none_are_rejected() -> None:
    token = proofs.sign_vc_jwt(credential(), rsa_key(), KID)
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ProofError, match="signature"):
        proofs.decode_vc_jwt(token, lambda h: other.public_key())
    unsigned = f"{_b64({'alg': 'none', 'kid': KID})}.{token.split('.')[1]}."
    with pytest.raises(ProofError, match="alg"):
        proofs.decode_vc_jwt(unsigned, lambda h: rsa_key().public_key())
    hs = jwt.encode(credential(), "s" * 32, algorithm="HS256", headers={"kid": KID})
    with pytest.raises(ProofError, match="alg"):
        proofs.decode_vc_jwt(hs, lambda h: "s" * 32)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"sub": "did:example:mallory"}, "sub"),
        ({"jti": "urn:uuid:other"}, "jti"),
        ({"nbf": 1}, "nbf"),
    ],
)
def test_vc_jwt_claims_must_agree_with_the_credential(claims: dict, reason: str) -> None:
    cred = credential()
    payload = {**cred, **proofs.jwt_claims(cred), **claims}
    token = jwt.encode(payload, rsa_key(), algorithm="RS256", headers={"kid": KID})
    with pytest.raises(ProofError, match=reason):
        proofs.decode_vc_jwt(token, lambda h: rsa_key().public_key())


def test_vc_jwt_needs_exp_when_the_credential_expires_and_refuses_private_jwks() -> None:
    cred = credential(validUntil="2099-01-01T00:00:00Z")
    payload = {k: v for k, v in {**cred, **proofs.jwt_claims(cred)}.items() if k != "exp"}
    token = jwt.encode(payload, rsa_key(), algorithm="RS256", headers={"kid": KID})
    with pytest.raises(ProofError, match="exp"):
        proofs.decode_vc_jwt(token, lambda h: rsa_key().public_key())
    leaky = jwt.encode(cred, rsa_key(), algorithm="RS256", headers={"jwk": {"kty": "RSA", "d": "x"}})
    with pytest.raises(ProofError, match="private"):
        proofs.decode_vc_jwt(leaky, lambda h: rsa_key().public_key())


@pytest.mark.parametrize("token", ["", "a.b", "not a token", "a.b.c", "....", 42])
def test_garbage_tokens_are_proof_errors(token: Any) -> None:
    with pytest.raises(ProofError):
        proofs.decode_vc_jwt(token, lambda h: rsa_key().public_key())


def test_vcdm_1_1_vc_claim_is_accepted() -> None:
    cred = credential()
    token = jwt.encode({"vc": cred, **proofs.jwt_claims(cred)}, rsa_key(), algorithm="RS256", headers={"kid": KID})
    assert proofs.decode_vc_jwt(token, lambda h: rsa_key().public_key()) == cred


# -- other issuers' Ed25519 suites: the W3C vc-di-eddsa vectors (tests/badges/data/SOURCES.md) -------------------

EXAMPLES_CONTEXT = "https://www.w3.org/ns/credentials/examples/v2"
W3C_KEYS = data("w3c-eddsa/keyPair.json")
W3C_DOCUMENT_HASH = "517744132ae165a5349155bef0bb0cf2258fff99dfe1dbd914b938d775a36017"  # docHashEdSig.txt


@pytest.fixture
def examples_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The W3C vectors name the VCDM examples context, which the service rightly does not bundle."""
    from badges import jsonld

    document = json.loads(data("w3c-eddsa/credentials-examples-v2.jsonld"))
    original = jsonld._context_document
    monkeypatch.setitem(jsonld.CONTEXT_FILES, EXAMPLES_CONTEXT, "(test only)")
    monkeypatch.setattr(jsonld, "_context_document", lambda url: document if url == EXAMPLES_CONTEXT else original(url))
    yield
    jsonld._SHARED_CACHE.clear()  # PyLD keeps the processed context; later tests must not see it


def _w3c_private_key() -> Ed25519PrivateKey:
    raw = proofs.base58btc_decode(W3C_KEYS["privateKeyMultibase"][1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


@pytest.mark.parametrize("name", ["ed25519signature2020-signed.json", "eddsa-rdfc-2022-signed.json"])
def test_w3c_vectors_verify_and_are_reproduced_byte_for_byte(examples_context: None, name: str) -> None:
    from badges.jsonld import canonical_nquads, canonical_nquads_pyld

    signed = data(f"w3c-eddsa/{name}")
    proof = signed["proof"]
    key = proofs.public_key_from_multikey(W3C_KEYS["publicKeyMultibase"])
    assert proofs.multikey(_w3c_private_key().public_key()) == W3C_KEYS["publicKeyMultibase"]
    proofs.verify_proof(signed, proof, key)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert hashlib.sha256(canonical_nquads(unsigned).encode()).hexdigest() == W3C_DOCUMENT_HASH
    assert canonical_nquads(unsigned) == canonical_nquads_pyld(unsigned)
    sign = (
        proofs.sign_ed25519_signature_2020 if proof["type"] == "Ed25519Signature2020" else proofs.sign_eddsa_rdfc_2022
    )
    again = sign(unsigned, _w3c_private_key(), proof["verificationMethod"], proof["created"])
    assert again["proof"] == [proof]  # Ed25519 is deterministic: the same bytes or a different algorithm


def test_w3c_ed25519_signature_2020_vector_tampered_or_relabelled_is_rejected(examples_context: None) -> None:
    signed = data("w3c-eddsa/ed25519signature2020-signed.json")
    key = proofs.public_key_from_multikey(W3C_KEYS["publicKeyMultibase"])
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(ProofError, match="Ed25519Signature2020 signature does not match"):
        proofs.verify_proof(tampered, tampered["proof"], key)
    # The proof options are signed too: the same signature under another suite's label does not verify.
    relabelled = copy.deepcopy(signed)
    relabelled["proof"] = {**signed["proof"], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_proof(relabelled, relabelled["proof"], key)


def test_legacy_eddsa_2022_name_is_accepted_but_not_interchangeable() -> None:
    """eddsa-2022 is eddsa-rdfc-2022's earlier name; 1EdTech's vector uses it (tests/badges/thirdparty)."""
    key = ed25519_key()
    signed = proofs.sign_eddsa_rdfc_2022(
        credential(), key, f"{ISSUER}#{proofs.multikey(key.public_key())}", "2025-01-01T00:00:00Z"
    )
    proof = signed["proof"][0]
    assert proofs.suite_of({**proof, "cryptosuite": "eddsa-2022"}) == "eddsa-2022"
    assert proofs.suite_of({**proof, "cryptosuite": "bbs-2023"}) is None  # not supported (docs/verifying.md)
    renamed = {**signed, "proof": [{**proof, "cryptosuite": "eddsa-2022"}]}
    with pytest.raises(ProofError, match="eddsa-2022 signature does not match"):
        proofs.verify_eddsa_rdfc_2022(renamed)
    legacy = {k: v for k, v in proof.items() if k != "proofValue"}
    legacy["cryptosuite"] = "eddsa-2022"
    resigned = proofs._sign(credential(), key, legacy)
    proofs.verify_eddsa_rdfc_2022(resigned)


# -- ecdsa-rdfc-2019: the W3C vc-di-ecdsa vectors (tests/badges/data/SOURCES.md) --------------------------------

# combinedHashECDSAP256.txt / combinedHashECDSAP384.txt of w3c/vc-di-ecdsa: proof-options hash || document hash
W3C_ECDSA_HASHES = {
    "p256": "3a8a522f689025727fb9d1f0fa99a618da023e8494ac74f51015d009d35abc2e"
    "517744132ae165a5349155bef0bb0cf2258fff99dfe1dbd914b938d775a36017",
    "p384": "e32805a26492eac777aa7a138f6d8da3c74e0c7be7b296dcaccf97420c3b92eaad7be6449ca565e165031567f5c7cbc1"
    "8bf6e01df72c5b62f91b685231915ac4b8c58ea95f002c6b8f6bfafa1b251df476b56b8e01518e317dab099d3ecbff96",
}


def _w3c_ecdsa_private_key(curve: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = data(f"w3c-ecdsa/{curve}KeyPair.json")
    raw = proofs.base58btc_decode((keys.get("secretKeyMultibase") or keys["privateKeyMultibase"])[1:])
    assert raw[:2] in (b"\x86\x26", b"\x87\x26")  # multicodec p256-priv / p384-priv
    return ec.derive_private_key(int.from_bytes(raw[2:], "big"), ec.SECP256R1() if curve == "p256" else ec.SECP384R1())


@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_w3c_ecdsa_vectors_verify_and_are_reproduced_byte_for_byte(examples_context: None, curve: str) -> None:
    import hashlib as h

    from badges.jsonld import canonical_nquads, canonical_nquads_pyld

    signed = data(f"w3c-ecdsa/ecdsa-rdfc-2019-{curve}-signed.json")
    proof = signed["proof"]
    keys = data(f"w3c-ecdsa/{curve}KeyPair.json")
    key = proofs.verification_key_from_multikey(keys["publicKeyMultibase"])
    private = _w3c_ecdsa_private_key(curve)
    assert proofs.ec_multikey(private.public_key()) == keys["publicKeyMultibase"]
    digest = h.sha256 if curve == "p256" else h.sha384
    assert proofs._hash_data(signed, proof, digest).hex() == W3C_ECDSA_HASHES[curve]
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert canonical_nquads(unsigned) == canonical_nquads_pyld(unsigned)
    proofs.verify_proof(signed, proof, key)
    # RFC 6979 signatures are deterministic: the same proofValue, or a different algorithm
    again = proofs.sign_ecdsa_rdfc_2019(unsigned, private, proof["verificationMethod"], proof["created"])
    assert again["proof"][0]["proofValue"] == proof["proofValue"]
    assert again["proof"] == [{"type": proof["type"], "cryptosuite": proof["cryptosuite"], **proof}]


@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_w3c_ecdsa_vector_tampered_or_with_another_key_is_rejected(examples_context: None, curve: str) -> None:
    signed = data(f"w3c-ecdsa/ecdsa-rdfc-2019-{curve}-signed.json")
    key = proofs.verification_key_from_multikey(data(f"w3c-ecdsa/{curve}KeyPair.json")["publicKeyMultibase"])
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(ProofError, match="ecdsa-rdfc-2019 signature does not match"):
        proofs.verify_proof(tampered, tampered["proof"], key)
    later = copy.deepcopy(signed)
    later["proof"]["created"] = "2023-02-24T23:36:39Z"  # the proof options are signed too
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_proof(later, later["proof"], key)
    with pytest.raises(ProofError, match="needs an Ed25519 key"):  # the same bytes under an Ed25519 label
        proofs.verify_proof(signed, {**signed["proof"], "cryptosuite": "eddsa-rdfc-2022"}, key)
    with pytest.raises(ProofError, match="needs a P-256 or P-384 key"):
        proofs.verify_proof(signed, signed["proof"], ed25519_key().public_key())
    other = "p384" if curve == "p256" else "p256"
    other_key = proofs.verification_key_from_multikey(data(f"w3c-ecdsa/{other}KeyPair.json")["publicKeyMultibase"])
    with pytest.raises(ProofError, match="signature"):
        proofs.verify_proof(signed, signed["proof"], other_key)


def test_ecdsa_round_trip_on_an_open_badge() -> None:
    key = p256_key()
    method = f"{ISSUER}#{proofs.ec_multikey(key.public_key())}"
    signed = proofs.sign_ecdsa_rdfc_2019(credential(), key, method, "2025-01-01T00:00:00Z")
    proofs.verify_eddsa_rdfc_2022(signed)  # the key read from <issuer id>#zDn…
    forged = copy.deepcopy(signed)
    forged["name"] = "Forged"
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_eddsa_rdfc_2022(forged)


@pytest.mark.parametrize(
    "value",
    [
        "z" + proofs.base58btc_encode(b"\x80\x24" + bytes(33)),  # not a point
        "z" + proofs.base58btc_encode(b"\x80\x24" + b"\x02" + bytes(20)),  # too short
        "z" + proofs.base58btc_encode(b"\x81\x24" + b"\x02" + bytes(32)),  # P-384 prefix, P-256 size
        "z" + proofs.base58btc_encode(b"\xe7\x01" + b"\x02" + bytes(32)),  # secp256k1: not supported
    ],
)
def test_bad_ec_multikeys_are_refused(value: str) -> None:
    with pytest.raises(ProofError):
        proofs.verification_key_from_multikey(value)


# -- Ed25519Signature2018 (detached JWS): digitalbazaar/ed25519-signature-2018's vector (tests/badges/data/SOURCES.md)

ED2018 = "ed25519-2018"
ED2018_TEST_CONTEXTS = {
    "https://www.w3.org/2018/credentials/examples/v1": f"{ED2018}/credentials-examples-v1.jsonld",
    "https://www.w3.org/ns/odrl.jsonld": f"{ED2018}/odrl.jsonld",
}


@pytest.fixture
def examples_v1_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The 2018 vector names the VCDM 1.1 examples context (and through it ODRL's): test-only contexts."""
    from badges import jsonld

    documents = {url: json.loads(data(name)) for url, name in ED2018_TEST_CONTEXTS.items()}
    original = jsonld._context_document
    for url in documents:
        monkeypatch.setitem(jsonld.CONTEXT_FILES, url, "(test only)")
    monkeypatch.setattr(jsonld, "_context_document", lambda url: documents.get(url) or original(url))
    yield
    jsonld._SHARED_CACHE.clear()


def _ed2018_keys() -> tuple[Ed25519PrivateKey, Any]:
    keys = data(f"{ED2018}/keyPair.json")
    private = Ed25519PrivateKey.from_private_bytes(proofs.base58btc_decode(keys["privateKeyBase58"])[:32])
    assert private.public_key().public_bytes_raw() == proofs.base58btc_decode(keys["publicKeyBase58"])
    return private, private.public_key()


def test_ed25519_signature_2018_vector_verifies_and_is_reproduced_byte_for_byte(examples_v1_context: None) -> None:
    signed = data(f"{ED2018}/signed.json")
    private, public = _ed2018_keys()
    proofs.verify_proof(signed, signed["proof"], public)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    again = proofs.sign_ed25519_signature_2018(
        unsigned, private, signed["proof"]["verificationMethod"], signed["proof"]["created"]
    )
    assert again["proof"] == [signed["proof"]]  # the same jws, byte for byte
    # The vector's method id ends in a Multikey that is not its publicKeyBase58 key (the mock labels the key;
    # its DID document serves the real one). Read as a self-describing <issuer id>#z6Mk…, it must not verify.
    assert proofs.multikey(public) != signed["proof"]["verificationMethod"].split("#")[1]
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_eddsa_rdfc_2022(signed)


def test_ed25519_signature_2018_tampered_or_malformed_is_rejected(examples_v1_context: None) -> None:
    signed = data(f"{ED2018}/signed.json")
    _, public = _ed2018_keys()
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another University"
    with pytest.raises(ProofError, match="Ed25519Signature2018 signature does not match"):
        proofs.verify_proof(tampered, tampered["proof"], public)
    header, _, signature = signed["proof"]["jws"].split(".")
    attached = proofs.base64url(b'{"alg":"EdDSA"}')
    for jws, reason in [
        (f"{header}.e30.{signature}", "detached JWS"),  # a payload where there must be none
        (f"{attached}..{signature}", "unencoded-payload"),  # b64 missing: a different signing input
        (proofs.base64url(b'{"alg":"ES256","b64":false,"crit":["b64"]}') + ".." + signature, "alg EdDSA"),
        (f"{header}..!!", "base64url"),
        ("%%..", "base64url"),
        (None, "detached JWS"),
    ]:
        with pytest.raises(ProofError, match=reason):
            proofs.verify_proof(signed, {**signed["proof"], "jws": jws}, public)
    # the 2018 signature does not pass as a 2020 proof (other type, other signing input)
    relabelled = {k: v for k, v in signed["proof"].items() if k != "jws"}
    relabelled.update(type="Ed25519Signature2020", proofValue="z" + proofs.base58btc_encode(
        proofs._unbase64url(signature)))  # fmt: skip
    with pytest.raises(ProofError, match="does not match"):
        proofs.verify_proof(signed, relabelled, public)


@pytest.mark.parametrize("field", ["proofValue", "jws"])
def test_huge_signature_values_are_refused_before_decoding(field: str) -> None:
    key = ed25519_key()
    method = f"{ISSUER}#{proofs.multikey(key.public_key())}"
    signed = proofs.sign_eddsa_rdfc_2022(credential(), key, method, "2025-01-01T00:00:00Z")
    proof = {**signed["proof"][0], "proofValue": "z" + "2" * 1_000_000}
    if field == "jws":
        proof = {k: v for k, v in proof.items() if k not in ("proofValue", "cryptosuite")}
        proof.update(type="Ed25519Signature2018", jws="e" * 1_000_000 + "..x")
    with pytest.raises(ProofError, match=r"longer than any signature|detached JWS"):
        proofs.verify_proof(signed, proof, key.public_key())
