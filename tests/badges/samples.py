"""Credentials and keys for the proof, baking and verifier tests (signed here, with keys made per run)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DATA = Path(__file__).parent / "data"
ISSUER = "https://issuer.example/issuers/7"


def data(name: str) -> Any:
    path = DATA / name
    return json.loads(path.read_text()) if name.endswith(".json") else path.read_bytes()


@cache
def ed25519_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def p256_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


BASE_CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
    ],
    "id": "https://issuer.example/badges/1b6f0d5c",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"id": ISSUER, "type": ["Profile"], "name": "Example District", "url": "https://district.example"},
    "validFrom": "2025-01-01T00:00:00Z",
    "name": "Close Reading",
    "credentialSubject": {
        "id": "did:example:earner1",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://issuer.example/achievements/42",
            "type": ["Achievement"],
            "name": "Close Reading",
            "description": "Leads students through a close reading of a complex text.",
            "criteria": {"narrative": "A portfolio scored *proficient* on every rubric criterion."},
            "achievementType": "MicroCredential",
            "alignment": [
                {
                    "type": ["Alignment"],
                    "targetName": "RL.8.1",
                    "targetUrl": "https://standards.example/items/rl81",
                    "targetType": "CFItem",
                    "targetCode": "RL.8.1",
                }
            ],
        },
    },
    "credentialSchema": [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ],
}


def credential(**changes: Any) -> dict[str, Any]:
    """A fresh, schema-valid OpenBadgeCredential (no proof), with top-level ``changes`` applied."""
    result = copy.deepcopy(BASE_CREDENTIAL)
    result.update(changes)
    return result
