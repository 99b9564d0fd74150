"""Key material: generating issuer key pairs, encrypting private keys at rest, public JWKs.

Private keys never leave this module in clear except as ``cryptography`` key objects handed to the
signing code. They are stored as AES-256-GCM ciphertext of their PKCS#8 encoding under the configured
``KEY_ENCRYPTION_KEY``; the key's id is the associated data, so a ciphertext copied onto another key row
does not decrypt.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class KeyDecryptionError(RuntimeError):
    """The stored private key does not decrypt with the configured key-encryption key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _kek(kek_b64: str) -> AESGCM:
    return AESGCM(base64.urlsafe_b64decode(kek_b64.encode()))


def generate(algorithm: str) -> PrivateKey:
    if algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key algorithm {algorithm!r}")


def encrypt_private_key(private_key: PrivateKey, *, kek_b64: str, kid: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    return nonce + _kek(kek_b64).encrypt(nonce, der, kid.encode())


def decrypt_private_key(blob: bytes, *, kek_b64: str, kid: str) -> PrivateKey:
    try:
        der = _kek(kek_b64).decrypt(blob[:12], blob[12:], kid.encode())
    except InvalidTag:
        raise KeyDecryptionError(f"signing key {kid} does not decrypt with KEY_ENCRYPTION_KEY") from None
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)
    return key


def public_jwk(private_key: PrivateKey, *, kid: str) -> dict[str, Any]:
    """The bare public JWK (no private members) that a ``kid`` URL serves."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "alg": "EdDSA", "use": "sig"}
    numbers = private_key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "n": b64url(n), "e": b64url(e), "kid": kid, "alg": "RS256", "use": "sig"}


def ed25519_public_key(jwk: dict[str, Any]) -> ed25519.Ed25519PublicKey:
    padded = jwk["x"] + "=" * (-len(jwk["x"]) % 4)
    return ed25519.Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(padded))
