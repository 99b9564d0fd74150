"""Keys and signatures as text: base58btc and base64url, Multikey (Ed25519 ``z6Mk…``, P-256 ``zDn…``, P-384
``z82…``), and the one error every proof check raises. Used by ``badges.proofs`` and the verifier."""

from __future__ import annotations

import base64
import re

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_ED25519_MULTICODEC = b"\xed\x01"
# multicodec p256-pub (0x1200) and p384-pub (0x1201) as varints; the key is a compressed SEC1 point
_EC_MULTICODECS = {b"\x80\x24": (ec.SECP256R1(), 33), b"\x81\x24": (ec.SECP384R1(), 49)}
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


def ec_multikey(public_key: ec.EllipticCurvePublicKey) -> str:
    """The Multikey (``zDn…`` for P-256, ``z82…`` for P-384) of an ECDSA public key."""
    prefix = {"secp256r1": b"\x80\x24", "secp384r1": b"\x81\x24"}.get(public_key.curve.name)
    if prefix is None:
        raise ProofError(f"no Multikey for curve {public_key.curve.name}")
    point = public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return "z" + base58btc_encode(prefix + point)


def verification_key_from_multikey(value: str) -> Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """The key of an Ed25519, P-256 or P-384 Multikey; ProofError for anything else."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("Multikey must be a base58btc multibase string starting with 'z'")
    data = base58btc_decode(value[1:])
    known = _EC_MULTICODECS.get(data[:2])
    if known is None:
        return public_key_from_multikey(value)
    curve, size = known
    if len(data) != 2 + size:
        raise ProofError(f"Multikey is not a compressed {curve.name} point ({size} bytes)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, data[2:])
    except ValueError:
        raise ProofError(f"Multikey is not a point on {curve.name}") from None


def is_multikey(value: str) -> bool:
    """Whether a verificationMethod fragment looks like a Multikey we read (Ed25519, P-256, P-384)."""
    return isinstance(value, str) and value.startswith(("z6Mk", "zDn", "z82"))


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unbase64url(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ProofError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ProofError("not base64url") from None
