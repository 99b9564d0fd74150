"""The two proofs every badge carries: an ``eddsa-rdfc-2022`` Data Integrity proof and a VC-JWT.

Other issuers' Linked Data proofs verify here too. All of them hash the same way: the RDFC-1.0 (URDNA2015)
canonical form of the proof options and of the document, each hashed, the two hashes concatenated; they differ
in the hash, the signature and how the signature is written:

* ``eddsa-2022`` (the name eddsa-rdfc-2022 had until 2023, same algorithm) and the older
  ``Ed25519Signature2020`` (its own ``type``, no ``cryptosuite``): SHA-256, Ed25519, base58btc ``proofValue``.
* ``ecdsa-rdfc-2019`` (W3C vc-di-ecdsa): SHA-256 with a P-256 key, SHA-384 with a P-384 key; ECDSA with that
  hash over the concatenated hashes; ``proofValue`` is base58btc of the raw ``r || s`` (IEEE P1363). Signing
  here is deterministic (RFC 6979), which is how the W3C vectors were made, so tests reproduce them exactly.
* ``Ed25519Signature2018``: SHA-256, Ed25519 over a *detached JWS* signing input (RFC 7797, ``b64: false``):
  ``base64url(header) + "." + hashes``, the header ``{"alg":"EdDSA","b64":false,"crit":["b64"]}``; the
  proof carries ``jws`` = ``header..signature`` instead of a ``proofValue``.

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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from badges import proofs_jcs, proofs_sd
from badges.jsonld import ContextError, canonical_nquads
from badges.multikey import ProofError as ProofError
from badges.multikey import _unbase64url
from badges.multikey import base58btc_decode as base58btc_decode
from badges.multikey import base58btc_encode as base58btc_encode
from badges.multikey import base64url as base64url
from badges.multikey import ec_multikey as ec_multikey
from badges.multikey import is_multikey as is_multikey
from badges.multikey import multikey as multikey
from badges.multikey import public_key_from_multikey as public_key_from_multikey
from badges.multikey import verification_key_from_multikey as verification_key_from_multikey

CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_TYPE = "DataIntegrityProof"
LEGACY_CRYPTOSUITE = "eddsa-2022"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
ED25519_SIGNATURE_2018 = "Ed25519Signature2018"
ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"
# The detached-JWS header every Ed25519Signature2018 proof we know of uses (jsonld-signatures' only form).
JWS_2018_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
MAX_PROOF_VALUE = 200
# Algorithms we verify. The 1EdTech validator accepts only RS256/ES256 for VC-JWT; EdDSA is accepted here
# because the spec permits it and other issuers use it.
JWT_ALGORITHMS = ("RS256", "ES256", "EdDSA", "PS256", "RS384", "RS512", "ES384")
REGISTERED_CLAIMS = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
_EC_HASHES = {"secp256r1": (hashlib.sha256, hashes.SHA256), "secp384r1": (hashlib.sha384, hashes.SHA384)}


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


def _config_hash(config: dict[str, Any], digest: Callable[..., Any] = hashlib.sha256) -> bytes:
    key = digest().name + canonical_json(config)
    with _config_lock:
        found = _CONFIG_HASHES.get(key)
    if found is None:
        found = digest(canonical_nquads(config).encode()).digest()
        with _config_lock:
            _CONFIG_HASHES[key] = found
            if len(_CONFIG_HASHES) > _CONFIG_HASHES_SIZE:
                _CONFIG_HASHES.popitem(last=False)
    return found


def _hash_data(
    credential: dict[str, Any], proof_options: dict[str, Any], digest: Callable[..., Any] = hashlib.sha256
) -> bytes:
    unsigned = {key: value for key, value in credential.items() if key != "proof"}
    signature_keys = ("proofValue", "jws", "@context")
    config = {key: value for key, value in proof_options.items() if key not in signature_keys}
    config = {"@context": credential.get("@context"), **config}
    try:
        proof_hash = _config_hash(config, digest)
        document_hash = digest(canonical_nquads(unsigned).encode()).digest()
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


def sign_ecdsa_rdfc_2019(
    credential: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, verification_method: str, created: str
) -> dict[str, Any]:
    """Like ``sign_eddsa_rdfc_2022`` with an ``ecdsa-rdfc-2019`` proof (P-256 or P-384 key; deterministic
    RFC 6979 signatures, so the same input gives the same proof)."""
    options = {
        "type": PROOF_TYPE,
        "cryptosuite": ECDSA_RDFC_2019,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    return _sign(credential, private_key, options)


def sign_ed25519_signature_2018(
    credential: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str, created: str
) -> dict[str, Any]:
    """Like ``sign_eddsa_rdfc_2022`` with an ``Ed25519Signature2018`` proof (a detached JWS in ``jws``)."""
    options = {
        "type": ED25519_SIGNATURE_2018,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    return _sign(credential, private_key, options)


def _jws_2018_input(header: str, hash_data: bytes) -> bytes:
    return header.encode("ascii") + b"." + hash_data


def _sign(credential: dict[str, Any], private_key: Any, options: dict[str, Any]) -> dict[str, Any]:
    suite = suite_of(options)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        digest, algorithm = _EC_HASHES[private_key.curve.name]
        der = private_key.sign(
            _hash_data(credential, options, digest), ec.ECDSA(algorithm(), deterministic_signing=True)
        )
        size = (private_key.curve.key_size + 7) // 8
        r, s = decode_dss_signature(der)
        signature = {"proofValue": "z" + base58btc_encode(r.to_bytes(size, "big") + s.to_bytes(size, "big"))}
    elif suite == ED25519_SIGNATURE_2018:
        header = base64url(canonical_json(JWS_2018_HEADER).encode())
        raw = private_key.sign(_jws_2018_input(header, _hash_data(credential, options)))
        signature = {"jws": f"{header}..{base64url(raw)}"}
    else:
        signature = {"proofValue": "z" + base58btc_encode(private_key.sign(_hash_data(credential, options)))}
    signed = dict(credential)
    signed["proof"] = [*copy.deepcopy(_proofs_of(credential)), {**options, **signature}]
    return signed


def key_from_verification_method(
    credential: dict[str, Any], verification_method: str
) -> Ed25519PublicKey | ec.EllipticCurvePublicKey:
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
    return verification_key_from_multikey(fragment)


ECDSA_SD_2023 = proofs_sd.ECDSA_SD_2023
_CRYPTOSUITES = (CRYPTOSUITE, LEGACY_CRYPTOSUITE, ECDSA_RDFC_2019, *proofs_jcs.JCS_SUITES, ECDSA_SD_2023)
SUITES = (*_CRYPTOSUITES, ED25519_SIGNATURE_2020, ED25519_SIGNATURE_2018)


def suite_of(proof: Any) -> str | None:
    """The suite a proof claims, one of ``SUITES`` (a DataIntegrityProof's ``cryptosuite`` or a legacy proof
    ``type``), or None when it is none we verify."""
    if not isinstance(proof, dict):
        return None
    if proof.get("type") == PROOF_TYPE and proof.get("cryptosuite") in _CRYPTOSUITES:
        return str(proof["cryptosuite"])
    if proof.get("type") in (ED25519_SIGNATURE_2020, ED25519_SIGNATURE_2018):
        return str(proof["type"])
    return None


def verify_eddsa_rdfc_2022(credential: dict[str, Any], public_key: Any = None) -> None:
    """Verify the credential's Linked Data proof(s) (any suite ``suite_of`` knows); one valid proof suffices.

    Raises ProofError. Without ``public_key`` the key is read from a ``<issuer id>#<Multikey>`` verificationMethod.
    """
    proofs = [p for p in _proofs_of(credential) if suite_of(p)]
    if not proofs:
        raise ProofError("no DataIntegrityProof with cryptosuite eddsa-rdfc-2022 (nor another suite we verify)")
    reasons = []
    for proof in proofs:
        try:
            verify_proof(credential, proof, public_key)
            return
        except ProofError as exc:
            reasons.append(str(exc))
    raise ProofError("; ".join(reasons))


def _multibase_signature(proof: dict[str, Any]) -> bytes:
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be a base58btc multibase string")
    # The longest signature here (P-384, 96 bytes) is 132 base58 characters; base58 decoding is quadratic, so
    # a hostile megabyte-long value is refused before it is decoded.
    if len(value) > MAX_PROOF_VALUE:
        raise ProofError("proofValue is longer than any signature of the suites we verify")
    return base58btc_decode(value[1:])


def _detached_jws(proof: dict[str, Any]) -> tuple[str, bytes]:
    """The protected header (as sent) and signature of an Ed25519Signature2018 ``jws``; ProofError unless it is
    a detached EdDSA JWS with unencoded payload."""
    value = proof.get("jws")
    if not isinstance(value, str) or len(value) > 4 * MAX_PROOF_VALUE or value.count(".") != 2 or value.split(".")[1]:
        raise ProofError("Ed25519Signature2018 needs a detached JWS (header..signature) in jws")
    header_text, _, signature_text = value.split(".")
    try:
        header = json.loads(_unbase64url(header_text))
    except (ValueError, RecursionError):
        raise ProofError("the jws header is not base64url JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        raise ProofError("the jws header must name alg EdDSA")
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise ProofError('the jws header must be an unencoded-payload JWS ("b64": false, "crit": ["b64"])')
    return header_text, _unbase64url(signature_text)


def verify_proof(
    credential: dict[str, Any], proof: dict[str, Any], public_key: Any, *, purpose: str = "assertionMethod"
) -> None:
    """Verify one proof of the credential with the given key (or its ``<issuer id>#<Multikey>`` method); a
    presentation's DID Authentication proof has ``purpose="authentication"``."""
    suite = suite_of(proof)
    if suite is None:
        raise ProofError(f"proof type must be {PROOF_TYPE} (eddsa-rdfc-2022, ecdsa-rdfc-2019) or a suite we know")
    if proof.get("proofPurpose") != purpose:
        raise ProofError(f"proofPurpose must be {purpose}")
    jcs = suite in proofs_jcs.JCS_SUITES  # JCS checks a proof @context itself: it may be a prefix
    if "@context" in proof and proof["@context"] != credential.get("@context") and not jcs:
        raise ProofError("proof @context differs from the credential's")
    key = public_key or key_from_verification_method(credential, proof.get("verificationMethod", ""))
    # The document is hashed without its proofs: a proof set, each proof over the same unsigned document.
    try:
        if jcs:
            proofs_jcs.verify(credential, proof, key)
        elif suite == ECDSA_SD_2023:
            proofs_sd.verify_derived(credential, proof, key)
        elif suite == ECDSA_RDFC_2019:
            _verify_ecdsa(credential, proof, key)
        elif suite == ED25519_SIGNATURE_2018:
            header, signature = _detached_jws(proof)
            _ed25519_key(key, suite).verify(signature, _jws_2018_input(header, _hash_data(credential, proof)))
        else:
            ed25519 = _ed25519_key(key, suite)
            signature = _multibase_signature(proof)
            if len(signature) != 64:
                raise ProofError("proofValue is not a 64-byte Ed25519 signature")
            ed25519.verify(signature, _hash_data(credential, proof))
    except InvalidSignature:
        raise ProofError(f"{suite} signature does not match the credential (tampered or wrong key)") from None


def _ed25519_key(key: Any, suite: str) -> Ed25519PublicKey:
    if not isinstance(key, Ed25519PublicKey):
        raise ProofError(f"{suite} needs an Ed25519 key, and the verification method holds another kind")
    return key


def _verify_ecdsa(credential: dict[str, Any], proof: dict[str, Any], key: Any) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _EC_HASHES:
        raise ProofError("ecdsa-rdfc-2019 needs a P-256 or P-384 key, and the verification method holds another")
    size = (key.curve.key_size + 7) // 8
    signature = _multibase_signature(proof)
    if len(signature) != 2 * size:
        raise ProofError(f"proofValue is not a {2 * size}-byte {key.curve.name} signature (r || s)")
    digest, algorithm = _EC_HASHES[key.curve.name]
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))
    key.verify(der, _hash_data(credential, proof, digest), ec.ECDSA(algorithm()))


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
