"""The wallet's holder: checking its proof of possession and issuing the badge bound to its DID.

Two ways a wallet proves the key it holds: an OID4VCI ``jwt`` key proof (``typ: openid4vci-proof+jwt``, a ``jwk``
or a did:key ``kid`` in its header, our issuer identifier as ``aud``, a ``c_nonce`` of ours as ``nonce``), and a
DID Authentication presentation of the VC-API exchange (the Learner Credential Wallet's, signed by a did:key).
The DID found is then the ``credentialSubject.id`` of a freshly signed copy of the badge (see docs/wallets.md).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld.jsonld import JsonLdError

from badges import documents, issuers, proofs
from badges.access import _base
from badges.models import Badge, KeyAlgorithm
from badges.multikey import base64url, verification_key_from_multikey
from core import clock

PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ["ES256", "EdDSA"]
# How old (or how far ahead of our clock) a key proof's ``iat`` may be.
PROOF_WINDOW = timedelta(minutes=5)
PROOF_SKEW = timedelta(seconds=60)
MAX_PROOF_LENGTH = 8000


class ProofRejected(Exception):
    """The key proof fails; ``error`` is the spec's code (``invalid_proof`` or ``invalid_nonce``)."""

    def __init__(self, description: str, error: str = "invalid_proof") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _public_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk or "k" in jwk:
        raise ProofRejected("The proof's 'jwk' must be a public key (no private members).")
    kty = jwk.get("kty")
    if kty == "EC" and jwk.get("crv") == "P-256":
        members = ("crv", "kty", "x", "y")
    elif kty == "OKP" and jwk.get("crv") == "Ed25519":
        members = ("crv", "kty", "x")
    else:
        raise ProofRejected("The proof's key must be a P-256 (ES256) or Ed25519 (EdDSA) JWK.")
    if not all(isinstance(jwk.get(m), str) and len(jwk[m]) < 200 for m in members):
        raise ProofRejected("The proof's 'jwk' lacks a member of its key type.")
    return {m: jwk[m] for m in members}


def did_jwk(jwk: dict[str, Any]) -> str:
    """``did:jwk`` of a public JWK (its members in sorted order, no spaces)."""
    return "did:jwk:" + base64url(json.dumps(_public_jwk(jwk), sort_keys=True, separators=(",", ":")).encode())


def did_key_public_key(did_url: str) -> tuple[str, Ed25519PublicKey | ec.EllipticCurvePublicKey]:
    """(the DID, its key) of a did:key DID or DID URL ``did:key:z…#z…``; the fragment must be the key itself."""
    if not isinstance(did_url, str) or not did_url.startswith("did:key:z") or len(did_url) > 400:
        raise ProofRejected("Name the holder's key as a did:key DID URL (did:key:z…#z…) or give a 'jwk'.")
    did, _, fragment = did_url.partition("#")
    value = did.removeprefix("did:key:")
    if fragment and fragment != value:
        raise ProofRejected("A did:key DID URL's fragment must be the key the DID names.")
    try:
        return did, verification_key_from_multikey(value)
    except (ValueError, proofs.ProofError) as exc:
        raise ProofRejected(f"The did:key does not hold a key we read: {exc}") from None


def check_key_proof(token: Any, *, audience: str, now: datetime) -> tuple[str, str | None]:
    """Verify a ``jwt`` key proof; return (the holder's DID, the ``nonce`` it carries). Raises ProofRejected."""
    if not isinstance(token, str) or token.count(".") != 2 or len(token) > MAX_PROOF_LENGTH:
        raise ProofRejected("A 'jwt' key proof must be one compact JWS.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ProofRejected("The key proof's header is not base64url JSON.") from None
    if header.get("typ") != PROOF_TYPE:
        raise ProofRejected(f"The key proof's 'typ' must be '{PROOF_TYPE}'.")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS:
        raise ProofRejected(f"The key proof's 'alg' must be one of {', '.join(PROOF_ALGORITHMS)}.")
    named = [name for name in ("jwk", "kid", "x5c") if name in header]
    if len(named) != 1 or named[0] == "x5c":
        raise ProofRejected("The key proof's header must name the key by exactly one of 'jwk' or 'kid'.")
    if "jwk" in header:
        public = _public_jwk(header["jwk"])
        holder = did_jwk(public)
        try:
            key: Any = jwt.PyJWK(public, algorithm=alg).key
        except (jwt.PyJWTError, ValueError, TypeError):
            raise ProofRejected(f"The key proof's 'jwk' is not a key for {alg}.") from None
    else:
        holder, key = did_key_public_key(header["kid"])
    if (alg == "ES256") != isinstance(key, ec.EllipticCurvePublicKey):
        raise ProofRejected(f"The key proof's 'alg' {alg} does not fit its key.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            options={"require": ["aud", "iat"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidAudienceError:
        raise ProofRejected(f"The key proof's 'aud' must be this credential issuer, {audience}.") from None
    except jwt.InvalidSignatureError:
        raise ProofRejected("The key proof's signature does not verify with the key it names.") from None
    except jwt.PyJWTError as exc:
        raise ProofRejected(f"The key proof does not verify: {exc}.") from None
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise ProofRejected("The key proof's 'iat' must be a number.")
    issued = datetime.fromtimestamp(iat, tz=now.tzinfo)
    if issued < now - PROOF_WINDOW or issued > now + PROOF_SKEW:
        raise ProofRejected("The key proof's 'iat' is too old or in the future; make a fresh proof.")
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise ProofRejected("The key proof's 'nonce' must be a string.")
    return holder, nonce


def check_did_auth(presentation: Any, *, challenge: str, domain: str) -> str:
    """Verify a DID Authentication presentation (VC-API exchange); return the holder's DID."""
    if not isinstance(presentation, dict) or "VerifiablePresentation" not in _list(presentation.get("type")):
        raise ProofRejected("Send a VerifiablePresentation as 'verifiablePresentation'.")
    found = _list(presentation.get("proof"))
    if len(found) != 1 or not isinstance(found[0], dict):
        raise ProofRejected("The presentation must carry one proof.")
    proof = found[0]
    if proof.get("proofPurpose") != "authentication":
        raise ProofRejected("The presentation's proofPurpose must be 'authentication'.")
    if proof.get("challenge") != challenge:
        raise ProofRejected("The presentation's challenge is not this exchange's.", "invalid_nonce")
    if proof.get("domain") != domain:
        raise ProofRejected(f"The presentation's domain must be {domain}.")
    holder, key = did_key_public_key(proof.get("verificationMethod"))
    if presentation.get("holder") not in (None, holder):
        raise ProofRejected("The presentation's holder is not the DID that signed it.")
    try:
        proofs.verify_proof(presentation, proof, key, purpose="authentication")
    except (proofs.ProofError, JsonLdError, ValueError, TypeError) as exc:
        raise ProofRejected(f"The presentation's proof does not verify: {exc}") from None
    return holder


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def bound_copy(badge: Badge, holder_did: str) -> tuple[dict[str, Any], str]:
    """The badge (JSON with its Data Integrity proof, and its VC-JWT) naming ``holder_did`` as its subject.

    When the badge already names that DID it is returned as issued. Otherwise a copy is signed now, with the
    issuer's active keys: the same id, dates, achievement, results, evidence and status entry (revoking the
    badge revokes every copy), the subject's ``id`` set to the holder's DID beside the hashed email.
    """
    if badge.credential.get("credentialSubject", {}).get("id") == holder_did:
        return badge.credential, badge.jwt
    unsigned = {k: copy.deepcopy(v) for k, v in badge.credential.items() if k != "proof"}
    subject = unsigned["credentialSubject"]
    unsigned["credentialSubject"] = {"type": subject.get("type"), "id": holder_did} | {
        k: v for k, v in subject.items() if k not in ("type", "id")
    }
    organisation_id = badge.organisation_id
    did = issuers.did_web(organisation_id)
    issuer = unsigned.get("issuer")
    if (issuer.get("id") if isinstance(issuer, dict) else issuer) != did:
        # Signed before issuers were did:web DIDs: the fresh proof's key is the DID's, so the issuer is too.
        unsigned["issuer"] = issuers.profile_document(badge.organisation)
    signing = issuers.active_signers(organisation_id)
    ed_key, rsa_key = signing[KeyAlgorithm.ED25519.value], signing[KeyAlgorithm.RS256.value]
    vm = issuers.verification_method(organisation_id, ed_key.kid)
    signed = proofs.sign_eddsa_rdfc_2022(unsigned, ed_key.private, vm, documents.iso(clock.now()))
    rsa_url = f"{documents.issuer_url(_base(), organisation_id)}/keys/{rsa_key.kid}"
    return signed, proofs.sign_vc_jwt(signed, rsa_key.private, rsa_url)
