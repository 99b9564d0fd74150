"""The two proofs every badge carries: an ``eddsa-rdfc-2022`` Data Integrity proof and a VC-JWT.

Other issuers' Ed25519 proofs verify here too: ``eddsa-2022`` (the name eddsa-rdfc-2022 had until 2023, same
algorithm) and the older ``Ed25519Signature2020`` suite, which hashes and signs exactly as eddsa-rdfc-2022 does
(URDNA2015 of the proof options and of the document, SHA-256 of each, concatenated, Ed25519, base58btc
``proofValue``) and differs only in how the proof is labelled: its own ``type``, no ``cryptosuite``.

Both follow ``shared/ob3/NOTES.md`` §3-4 (the OB 3.0 spec's integrity section and what the 1EdTech validator
checks). Decisions worth knowing:

* ``proof`` is emitted as an **array** of proof objects. The 1EdTech DI test vector shows a single object,
  but the official JSON Schema only accepts an array (NOTES §2, §9.5); both shapes produce the same RDF, so
  the signature is identical either way and the verifier accepts both.
* The VC-JWT header is ``{"alg", "kid", "typ": "JWT"}`` and nothing else: the OB 3.0 spec requires ``typ``
  to be ``JWT`` when present and forbids other JOSE headers, so W3C VC-JOSE-COSE's ``typ: vc+jwt`` / ``cty``
  are deliberately not used.
* The JWT payload is the VCDM 2.0 credential itself plus ``iss``/``sub``/``jti``/``nbf``/``exp``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badges.jsonld import ContextError, canonical_nquads

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
LEGACY_CRYPTOSUITE = "eddsa-2022"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
# Algorithms we verify. The 1EdTech validator accepts only RS256/ES256 for VC-JWT; EdDSA is accepted here
# because the spec permits it and other issuers use it.
JWT_ALGORITHMS = ("RS256", "ES256", "EdDSA", "PS256", "RS384", "RS512", "ES384")
REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
_ED25519_MULTICODEC = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


class ProofError(ValueError):
    """A proof is missing, malformed or does not verify; the message says which and why."""


# -- multibase / Multikey ------------------------------------------------------------------------------------


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_B58[rest])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(out))


def base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        try:
            number = number * 58 + _B58_INDEX[char]
        except KeyError:
            raise ProofError(f"not base58btc: unexpected character {char!r}") from None
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


def multikey(public_key: Ed25519PublicKey) -> str:
    """The Multikey (``z6Mk…``) of an Ed25519 public key: base58btc of the multicodec prefix and raw key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + base58btc_encode(_ED25519_MULTICODEC + raw)


def public_key_from_multikey(value: str) -> Ed25519PublicKey:
    """Inverse of ``multikey``; ProofError unless it is a base58btc Ed25519 Multikey."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("Multikey must be a base58btc multibase string starting with 'z'")
    data = base58btc_decode(value[1:])
    if len(data) != 34 or not data.startswith(_ED25519_MULTICODEC):
        raise ProofError("Multikey is not an Ed25519 public key (multicodec 0xed01, 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(data[2:])


# -- Data Integrity eddsa-rdfc-2022 -----------------------------------------------------------------------------


def _proofs_of(credential: dict[str, Any]) -> list[Any]:
    proof = credential.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]


# Proof configurations repeat (same key, same second when issuing in bulk): keep their hashes.
_CONFIG_HASHES: OrderedDict[str, bytes] = OrderedDict()
_CONFIG_HASHES_SIZE = 256
_config_lock = threading.Lock()


def _config_hash(config: dict[str, Any]) -> bytes:
    key = canonical_json(config)
    with _config_lock:
        found = _CONFIG_HASHES.get(key)
    if found is None:
        found = hashlib.sha256(canonical_nquads(config).encode()).digest()
        with _config_lock:
            _CONFIG_HASHES[key] = found
            if len(_CONFIG_HASHES) > _CONFIG_HASHES_SIZE:
                _CONFIG_HASHES.popitem(last=False)
    return found


def _hash_data(credential: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsigned = {key: value for key, value in credential.items() if key != "proof"}
    config = {key: value for key, value in proof_options.items() if key not in ("proofValue", "@context")}
    config = {"@context": credential.get("@context"), **config}
    try:
        proof_hash = _config_hash(config)
        document_hash = hashlib.sha256(canonical_nquads(unsigned).encode()).digest()
    except (ContextError, TypeError, ValueError) as exc:
        raise ProofError(f"cannot canonicalise the credential: {exc}") from exc
    return proof_hash + document_hash


def sign_eddsa_rdfc_2022(
    credential: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str, created: str
) -> dict[str, Any]:
    """Return a copy of ``credential`` with an ``eddsa-rdfc-2022`` proof appended to its ``proof`` array.

    Proofs already present are kept and not covered by the new one (a proof set, not a chain).
    """
    options = {
        "type": PROOF_TYPE,
        "created": created,
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
    }
    return _sign(credential, private_key, options)


def sign_ed25519_signature_2020(
    credential: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str, created: str
) -> dict[str, Any]:
    """Like ``sign_eddsa_rdfc_2022`` with an ``Ed25519Signature2020`` proof (used to test other issuers' form;
    the credential's ``@context`` must name the suite's context)."""
    options = {
        "type": ED25519_SIGNATURE_2020,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    return _sign(credential, private_key, options)


def _sign(credential: dict[str, Any], private_key: Ed25519PrivateKey, options: dict[str, Any]) -> dict[str, Any]:
    signature = private_key.sign(_hash_data(credential, options))
    signed = dict(credential)
    signed["proof"] = [
        *copy.deepcopy(_proofs_of(credential)),
        {**options, "proofValue": "z" + base58btc_encode(signature)},
    ]
    return signed


def key_from_verification_method(credential: dict[str, Any], verification_method: str) -> Ed25519PublicKey:
    """The key of a self-describing verification method ``<issuer id>#<Multikey>`` (also did:key).

    Refused unless the part before ``#`` is the credential's issuer id: the issuer must control the key.
    """
    if not isinstance(verification_method, str) or "#" not in verification_method:
        raise ProofError("verificationMethod has no '#<Multikey>' fragment to read the key from")
    controller, fragment = verification_method.split("#", 1)
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if controller != issuer_id:
        raise ProofError(f"verificationMethod {verification_method!r} is not controlled by the issuer {issuer_id!r}")
    return public_key_from_multikey(fragment)


def suite_of(proof: Any) -> str | None:
    """The Ed25519 suite a proof claims (``eddsa-rdfc-2022``, ``eddsa-2022`` or ``Ed25519Signature2020``), or
    None when it is none of them."""
    if not isinstance(proof, dict):
        return None
    if proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") in (CRYPTOSUITE, LEGACY_CRYPTOSUITE):
        return str(proof["cryptosuite"])
    if proof.get("type") == ED25519_SIGNATURE_2020:
        return ED25519_SIGNATURE_2020
    return None


def verify_eddsa_rdfc_2022(credential: dict[str, Any], public_key: Ed25519PublicKey | None = None) -> None:
    """Verify the credential's Ed25519 proof(s) (any suite ``suite_of`` knows); one valid proof suffices.

    Raises ProofError. Without ``public_key`` the key is read from a ``<issuer id>#z6Mk…`` verificationMethod.
    """
    proofs = [p for p in _proofs_of(credential) if suite_of(p)]
    if not proofs:
        raise ProofError("no DataIntegrityProof with cryptosuite eddsa-rdfc-2022 (nor an Ed25519Signature2020)")
    reasons = []
    for proof in proofs:
        try:
            verify_proof(credential, proof, public_key)
            return
        except ProofError as exc:
            reasons.append(str(exc))
    raise ProofError("; ".join(reasons))


def verify_proof(credential: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey | None) -> None:
    """Verify one proof of the credential with the given key (or its ``<issuer id>#z6Mk…`` method)."""
    suite = suite_of(proof)
    if suite is None:
        raise ProofError(f"proof type must be {PROOF_TYPE} (eddsa-rdfc-2022) or {ED25519_SIGNATURE_2020}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("proofPurpose must be assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be a base58btc multibase string")
    signature = base58btc_decode(value[1:])
    if len(signature) != 64:
        raise ProofError("proofValue is not a 64-byte Ed25519 signature")
    if "@context" in proof and proof["@context"] != credential.get("@context"):
        raise ProofError("proof @context differs from the credential's")
    key = public_key or key_from_verification_method(credential, proof.get("verificationMethod", ""))
    # The document is hashed without its proofs: a proof set, each proof over the same unsigned document.
    try:
        key.verify(signature, _hash_data(credential, proof))
    except InvalidSignature:
        raise ProofError(f"{suite} signature does not match the credential (tampered or wrong key)") from None


# -- VC-JWT ---------------------------------------------------------------------------------------------------


def _numeric_date(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise ProofError(f"{name} must be a date-time string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProofError(f"{name} is not a date-time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _issuer_id(credential: dict[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _subject_id(credential: dict[str, Any]) -> Any:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    return subject.get("id") if isinstance(subject, dict) else None


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The registered claims a VC-JWT of this credential carries (NOTES §3)."""
    claims: dict[str, Any] = {"iss": _issuer_id(credential), "jti": credential.get("id")}
    if _subject_id(credential):
        claims["sub"] = _subject_id(credential)
    if "validFrom" in credential:
        claims["nbf"] = _numeric_date(credential["validFrom"], "validFrom")
    if "validUntil" in credential:
        claims["exp"] = _numeric_date(credential["validUntil"], "validUntil")
    return {key: value for key, value in claims.items() if value is not None}


def sign_vc_jwt(credential: dict[str, Any], private_key: Any, kid: str, alg: str = "RS256") -> str:
    """Compact VC-JWT: the credential as the payload plus its registered claims, header ``alg/kid/typ``."""
    payload = {**credential, **jwt_claims(credential)}
    return jwt.encode(payload, private_key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


def jwt_header(token: str) -> dict[str, Any]:
    """The unverified JOSE header of a compact JWS; ProofError if it is not one."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise ProofError("not a compact JWS (three base64url parts separated by dots)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ProofError(f"malformed JWT header: {exc}") from None
    return header


def decode_vc_jwt(token: str, resolve_key: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Verify a VC-JWT and return the credential it carries. Raises ProofError with the precise reason.

    ``resolve_key(header)`` returns the public key (a cryptography key or PyJWT PyJWK) for the header's
    ``kid``/``jwk``, or raises ProofError. Accepts the VCDM 2.0 native payload and the VCDM 1.1 ``vc`` claim.
    Validity dates are not judged here (the verifier reports expired/not-yet-valid separately); the
    registered claims must agree with the credential.
    """
    header = jwt_header(token)
    alg = header.get("alg")
    if alg not in JWT_ALGORITHMS:
        raise ProofError(f"JWT alg {alg!r} is not supported (use RS256 or ES256)")
    if "typ" in header and header["typ"] != "JWT":
        raise ProofError(f"JWT typ must be 'JWT' when present, not {header['typ']!r}")
    if "kid" not in header and "jwk" not in header:
        raise ProofError("JWT header has neither kid nor jwk to find the key")
    if isinstance(header.get("jwk"), dict) and "d" in header["jwk"]:
        raise ProofError("JWT header jwk contains a private key")
    key = resolve_key(header)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[alg],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        raise ProofError("JWT signature does not verify with the issuer's key (tampered or wrong key)") from None
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ProofError(f"JWT does not verify: {exc}") from None
    if isinstance(payload.get("vc"), dict):
        credential = copy.deepcopy(payload["vc"])
    else:
        credential = {key_: value for key_, value in payload.items() if key_ not in REGISTERED_CLAIMS}
        # A credential may legitimately use a registered claim name as a property only if it equals the claim.
    _check_claims(payload, credential)
    return credential


def _check_claims(payload: dict[str, Any], credential: dict[str, Any]) -> None:
    if payload.get("iss") is not None and payload["iss"] != _issuer_id(credential):
        raise ProofError("JWT iss does not equal issuer.id")
    if payload.get("sub") is not None and payload["sub"] != _subject_id(credential):
        raise ProofError("JWT sub does not equal credentialSubject.id")
    if payload.get("jti") is not None and credential.get("id") is not None and payload["jti"] != credential["id"]:
        raise ProofError("JWT jti does not equal the credential id")
    valid_from = credential.get("validFrom") or credential.get("issuanceDate")
    if (
        payload.get("nbf") is not None
        and valid_from is not None
        and payload["nbf"] != _numeric_date(valid_from, "validFrom")
    ):
        raise ProofError("JWT nbf does not equal validFrom")
    valid_until = credential.get("validUntil") or credential.get("expirationDate")
    if valid_until is not None:
        if payload.get("exp") is None:
            raise ProofError("JWT exp is required when the credential has validUntil")
        if payload["exp"] != _numeric_date(valid_until, "validUntil"):
            raise ProofError("JWT exp does not equal validUntil")


def canonical_json(value: Any) -> str:
    """Stable JSON text (sorted keys, no spaces) for hashing and comparing credentials."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
