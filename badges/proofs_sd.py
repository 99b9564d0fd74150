"""``ecdsa-sd-2023`` derived proofs (W3C vc-di-ecdsa, selective disclosure): verification only.

An issuer signs a *base* proof that only the holder can use; the holder reveals some statements and derives a
proof a verifier can check. The derived ``proofValue`` is ``u`` + base64url (no padding) of the three header
bytes ``d9 5d 01`` followed by a CBOR array of five items:

1. ``baseSignature``: the issuer's ECDSA signature (raw ``r || s``) over ``proofHash || publicKey ||
   mandatoryHash``;
2. ``publicKey``: the holder-independent *proof key* the issuer made for this credential, as multicodec bytes
   (``80 24`` + compressed P-256 point);
3. ``signatures``: one signature by the proof key per revealed statement that is not mandatory;
4. ``labelMap``: canonical blank-node label number → the HMAC-derived label the issuer signed (bytes);
5. ``mandatoryIndexes``: which of the relabelled statements are mandatory (their hash is in the base signature).

Verifying: canonicalise the revealed document (RDFC-1.0), rename each ``_:c14nN`` blank node with its HMAC label
from ``labelMap``, sort the statements, split them by ``mandatoryIndexes``, check the base signature over the
hashes and each non-mandatory statement's own signature. The HMAC key stays with the holder; the label map is
all a verifier needs. CBOR is decoded with ``cbor2``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from badges.jsonld import ContextError, canonical_nquads
from badges.multikey import ProofError

ECDSA_SD_2023 = "ecdsa-sd-2023"
BASE_HEADER = b"\xd9\x5d\x00"
DERIVED_HEADER = b"\xd9\x5d\x01"
# A derived proof grows by one 64-byte signature per revealed statement; a real badge reveals well under a
# thousand. Longer values are refused before decoding.
MAX_PROOF_VALUE = 256 * 1024
_PROOF_KEYS = {b"\x80\x24": (ec.SECP256R1(), hashes.SHA256()), b"\x81\x24": (ec.SECP384R1(), hashes.SHA384())}
_DIGESTS = {"secp256r1": (hashlib.sha256, hashes.SHA256), "secp384r1": (hashlib.sha384, hashes.SHA384)}
_C14N_LABEL = re.compile(r"_:c14n(\d+)")


def _decode_proof_value(value: Any) -> list[Any]:
    if not isinstance(value, str) or not value.startswith("u"):
        raise ProofError("ecdsa-sd-2023 proofValue must be a base64url multibase string (starting with 'u')")
    if len(value) > MAX_PROOF_VALUE:
        raise ProofError("ecdsa-sd-2023 proofValue is too long")
    text = value[1:]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ProofError("ecdsa-sd-2023 proofValue is not base64url") from None
    if raw.startswith(BASE_HEADER):
        raise ProofError(
            "this is an ecdsa-sd-2023 base proof, which only the holder can use: a verifier needs the derived "
            "proof the holder makes from it"
        )
    if not raw.startswith(DERIVED_HEADER):
        raise ProofError("ecdsa-sd-2023 proofValue does not start with the derived-proof header (d9 5d 01)")
    try:
        decoded = cbor2.loads(raw[3:])
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, MemoryError, RecursionError) as exc:
        raise ProofError(f"ecdsa-sd-2023 proofValue is not CBOR: {exc}") from None
    if not isinstance(decoded, list) or len(decoded) != 5:
        raise ProofError("ecdsa-sd-2023 derived proofValue must be a CBOR array of five items")
    return decoded


def parse_derived_proof_value(value: Any) -> dict[str, Any]:
    """The five parts of a derived ``proofValue``, checked for type; ProofError for anything else."""
    base_signature, public_key, signatures, label_map, indexes = _decode_proof_value(value)
    if not isinstance(base_signature, bytes):
        raise ProofError("ecdsa-sd-2023 baseSignature is not a byte string")
    if not isinstance(public_key, bytes) or public_key[:2] not in _PROOF_KEYS:
        raise ProofError("ecdsa-sd-2023 publicKey is not a P-256 or P-384 multikey")
    if not isinstance(signatures, list) or not all(isinstance(s, bytes) for s in signatures):
        raise ProofError("ecdsa-sd-2023 signatures must be a list of byte strings")
    if not isinstance(label_map, dict) or not all(
        isinstance(k, int) and not isinstance(k, bool) and k >= 0 and isinstance(v, bytes) for k, v in label_map.items()
    ):
        raise ProofError("ecdsa-sd-2023 labelMap must map label numbers to byte strings")
    if not isinstance(indexes, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indexes):
        raise ProofError("ecdsa-sd-2023 mandatoryIndexes must be a list of integers")
    labels = {f"c14n{k}": "u" + base64.urlsafe_b64encode(v).rstrip(b"=").decode() for k, v in label_map.items()}
    return {
        "baseSignature": base_signature,
        "publicKey": public_key,
        "signatures": signatures,
        "labelMap": labels,
        "mandatoryIndexes": indexes,
    }


def relabelled_nquads(document: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The document's canonical statements with each ``_:c14nN`` renamed by ``labels``, sorted (one per line,
    each ending in a newline)."""
    try:
        canonical = canonical_nquads(document)
    except (ContextError, TypeError, ValueError) as exc:
        raise ProofError(f"cannot canonicalise the credential: {exc}") from exc

    def rename(match: re.Match[str]) -> str:
        label = f"c14n{match.group(1)}"
        if label not in labels:
            raise ProofError(f"ecdsa-sd-2023 labelMap has no label for blank node _:{label}")
        return "_:" + labels[label]

    lines = [_relabel_line(line, rename) + "\n" for line in canonical.splitlines()]
    return sorted(lines)


def _relabel_line(line: str, rename: Any) -> str:
    """Rename the blank nodes of one canonical N-Quad (subject, object, graph), never text inside a literal."""
    if not line.endswith(" ."):
        raise ProofError("unexpected canonical N-Quad")
    subject, predicate, rest = line[:-2].split(" ", 2)
    if rest.startswith('"'):
        close = rest.rindex('"')  # IRIs cannot hold a quote, so the last one closes the literal
        tail, _, graph = rest[close + 1 :].partition(" ")
        terms = [subject, predicate, rest[: close + 1] + tail, graph]
    else:
        object_, _, graph = rest.partition(" ")
        terms = [subject, predicate, object_, graph]

    def swap(term: str) -> str:
        match = _C14N_LABEL.fullmatch(term)
        return rename(match) if match else term

    terms = [swap(terms[0]), terms[1], terms[2] if terms[2].startswith('"') else swap(terms[2]), swap(terms[3])]
    return " ".join(t for t in terms if t) + " ."


def _raw_to_der(signature: bytes, size: int) -> bytes:
    if len(signature) != 2 * size:
        raise ProofError(f"ecdsa-sd-2023 signature is not {2 * size} bytes (r || s)")
    return encode_dss_signature(int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big"))


def create_verify_data(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """What the spec's createVerifyData returns: proof hash, proof key, signatures, non-mandatory statements and
    the mandatory hash (hashes with SHA-256; a P-384 issuer key hashes with SHA-384 in ``verify``)."""
    return _verify_data(document, proof, hashlib.sha256)


def _verify_data(document: dict[str, Any], proof: dict[str, Any], digest: Any) -> dict[str, Any]:
    parts = parse_derived_proof_value(proof.get("proofValue"))
    unsigned = {key: value for key, value in document.items() if key != "proof"}
    config = {key: value for key, value in proof.items() if key not in ("proofValue", "@context")}
    config = {"@context": document.get("@context"), **config}
    try:
        proof_hash = digest(canonical_nquads(config).encode()).digest()
    except (ContextError, TypeError, ValueError) as exc:
        raise ProofError(f"cannot canonicalise the proof options: {exc}") from exc
    nquads = relabelled_nquads(unsigned, parts["labelMap"])
    indexes = set(parts["mandatoryIndexes"])
    if any(i < 0 or i >= len(nquads) for i in indexes):
        raise ProofError("ecdsa-sd-2023 mandatoryIndexes point past the revealed statements")
    mandatory = [q for i, q in enumerate(nquads) if i in indexes]
    return {
        "baseSignature": parts["baseSignature"],
        "proofHash": proof_hash,
        "publicKey": parts["publicKey"],
        "signatures": parts["signatures"],
        "nonMandatory": [q for i, q in enumerate(nquads) if i not in indexes],
        "mandatoryHash": digest("".join(mandatory).encode()).digest(),
    }


def verify_derived(document: dict[str, Any], proof: dict[str, Any], issuer_key: Any) -> None:
    """Verify an ``ecdsa-sd-2023`` derived proof with the issuer's P-256 (or P-384) key; ProofError if not."""
    if not isinstance(issuer_key, ec.EllipticCurvePublicKey) or issuer_key.curve.name not in _DIGESTS:
        raise ProofError("ecdsa-sd-2023 needs a P-256 or P-384 key, and the verification method holds another")
    digest, algorithm = _DIGESTS[issuer_key.curve.name]
    data = _verify_data(document, proof, digest)
    size = (issuer_key.curve.key_size + 7) // 8
    curve, statement_hash = _PROOF_KEYS[data["publicKey"][:2]]
    try:
        proof_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, data["publicKey"][2:])
    except ValueError:
        raise ProofError("ecdsa-sd-2023 publicKey is not a point on its curve") from None
    if len(data["signatures"]) != len(data["nonMandatory"]):
        raise ProofError(
            f"ecdsa-sd-2023 carries {len(data['signatures'])} statement signatures for "
            f"{len(data['nonMandatory'])} revealed statements (statements were added or removed)"
        )
    to_verify = data["proofHash"] + data["publicKey"] + data["mandatoryHash"]
    try:
        issuer_key.verify(_raw_to_der(data["baseSignature"], size), to_verify, ec.ECDSA(algorithm()))
    except InvalidSignature:
        raise ProofError(
            "ecdsa-sd-2023 base signature does not match the mandatory statements (tampered or wrong key)"
        ) from None
    statement_size = (curve.key_size + 7) // 8
    for number, (signature, statement) in enumerate(zip(data["signatures"], data["nonMandatory"], strict=True)):
        try:
            proof_key.verify(_raw_to_der(signature, statement_size), statement.encode(), ec.ECDSA(statement_hash))
        except InvalidSignature:
            raise ProofError(
                f"ecdsa-sd-2023 revealed statement {number + 1} does not match its signature (tampered)"
            ) from None
