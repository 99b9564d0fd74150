"""``eddsa-jcs-2022`` (W3C vc-di-eddsa) and ``ecdsa-jcs-2019`` (W3C vc-di-ecdsa): Data Integrity proofs over the
JSON Canonicalization Scheme (RFC 8785, via the ``rfc8785`` library) instead of RDFC-1.0.

The hashes are those of the RDFC suites with JCS in place of canonical N-Quads: SHA-256 (SHA-384 for a P-384
key) of the JCS form of the proof configuration (the proof without ``proofValue``, with the document's
``@context``), then of the JCS form of the document without its proof, concatenated. Ed25519 signs them as is;
ECDSA signs them with the same hash and writes ``r || s``. ``proofValue`` is base58btc. No JSON-LD processing is
needed, so no context has to be bundled for the signature to be checked (the verifier still checks the
credential's contexts and types as for any other).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from badges.multikey import ProofError, base58btc_decode, base58btc_encode

EDDSA_JCS_2022 = "eddsa-jcs-2022"
ECDSA_JCS_2019 = "ecdsa-jcs-2019"
JCS_SUITES = (EDDSA_JCS_2022, ECDSA_JCS_2019)
MAX_PROOF_VALUE = 200
_EC_HASHES = {"secp256r1": (hashlib.sha256, hashes.SHA256), "secp384r1": (hashlib.sha384, hashes.SHA384)}


def _jcs(value: Any) -> bytes:
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise ProofError(f"cannot canonicalise the credential as JSON (RFC 8785): {exc}") from None


def hash_data(
    document: dict[str, Any],
    proof: dict[str, Any],
    digest: Callable[..., Any] = hashlib.sha256,
    with_document_context: bool = True,
) -> bytes:
    """proof-configuration hash || document hash, both over RFC 8785 JSON.

    The current specs hash the proof configuration with the document's ``@context`` (and write it into the
    proof); the first published vectors (vc-di-ecdsa's ``ecdsa-jcs-2019``) hashed the proof as it stands, without
    one. ``with_document_context=False`` is that earlier form, for a proof that carries no ``@context``.
    """
    if "@context" in proof:
        contexts = document.get("@context")
        wanted = proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
        have = contexts if isinstance(contexts, list) else [contexts]
        if have[: len(wanted)] != wanted:
            raise ProofError("the proof's @context is not the start of the credential's @context")
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    config = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in unsigned and with_document_context:
        config["@context"] = unsigned["@context"]
    return digest(_jcs(config)).digest() + digest(_jcs(unsigned)).digest()


def _forms(document: dict[str, Any], proof: dict[str, Any], digest: Callable[..., Any]) -> list[bytes]:
    forms = [hash_data(document, proof, digest)]
    if "@context" not in proof and "@context" in document:
        forms.append(hash_data(document, proof, digest, with_document_context=False))
    return forms


def sign(document: dict[str, Any], private_key: Any, verification_method: str, created: str) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-jcs-2022 (Ed25519 key) or ecdsa-jcs-2019 (P-256/P-384 key) proof
    appended (deterministic RFC 6979 ECDSA, so the same input gives the same proof)."""
    is_ec = isinstance(private_key, ec.EllipticCurvePrivateKey)
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": ECDSA_JCS_2019 if is_ec else EDDSA_JCS_2022,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    if "@context" in document:
        options["@context"] = document["@context"]
    if is_ec:
        digest, algorithm = _EC_HASHES[private_key.curve.name]
        der = private_key.sign(hash_data(document, options, digest), ec.ECDSA(algorithm(), deterministic_signing=True))
        size = (private_key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    elif isinstance(private_key, Ed25519PrivateKey):
        raw = private_key.sign(hash_data(document, options))
    else:
        raise TypeError("an Ed25519 or P-256/P-384 private key is needed")
    existing = document.get("proof")
    proofs = [] if existing is None else existing if isinstance(existing, list) else [existing]
    return {**document, "proof": [*proofs, {**options, "proofValue": "z" + base58btc_encode(raw)}]}


def verify(document: dict[str, Any], proof: dict[str, Any], key: Any) -> None:
    """Verify one JCS proof with ``key``; ProofError with the reason if it does not verify."""
    suite = proof.get("cryptosuite")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z") or len(value) > MAX_PROOF_VALUE:
        raise ProofError("proofValue must be a base58btc multibase signature")
    signature = base58btc_decode(value[1:])
    try:
        if suite == EDDSA_JCS_2022:
            if not isinstance(key, Ed25519PublicKey):
                raise ProofError("eddsa-jcs-2022 needs an Ed25519 key, and the verification method holds another")
            if len(signature) != 64:
                raise ProofError("proofValue is not a 64-byte Ed25519 signature")
            _verify_any(lambda data: key.verify(signature, data), _forms(document, proof, hashlib.sha256))
            return
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _EC_HASHES:
            raise ProofError("ecdsa-jcs-2019 needs a P-256 or P-384 key, and the verification method holds another")
        size = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            raise ProofError(f"proofValue is not a {2 * size}-byte {key.curve.name} signature (r || s)")
        digest, algorithm = _EC_HASHES[key.curve.name]
        der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
        _verify_any(lambda data: key.verify(der, data, ec.ECDSA(algorithm())), _forms(document, proof, digest))
    except InvalidSignature:
        raise ProofError(f"{suite} signature does not match the credential (tampered or wrong key)") from None


def _verify_any(check: Callable[[bytes], None], forms: list[bytes]) -> None:
    for data in forms[:-1]:
        try:
            check(data)
            return
        except InvalidSignature:
            continue
    check(forms[-1])
