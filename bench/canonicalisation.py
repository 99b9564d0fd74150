"""Benchmark: what one badge's proofs cost, from JSON-LD canonicalisation to the bare signatures.

    .venv/bin/python bench/canonicalisation.py [--rounds 300]

Prints the per-credential cost (median of several runs, one core) of:
  * RDFC-1.0 canonical N-Quads by plain PyLD (a loader without ``tag``: every context processed afresh),
  * the same with PyLD caching processed contexts (``tag: static``),
  * our fast path (``badges.jsonld.canonical_nquads``: context-application memo + pyoxigraph RDFC-1.0),
  * a whole ``eddsa-rdfc-2022`` signature (two canonicalisations, two SHA-256, one Ed25519 signature),
  * the bare Ed25519 signature and the RS256 VC-JWT,
  * both proofs of one badge, as badges per second per core.
The credential has the shape we issue (alignments, a rubric as resultDescription, results, evidence, status).
Before timing, the fast path is checked to give the same bytes as plain PyLD.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from pyld import jsonld as pyld  # noqa: E402
from pyld.context_resolver import ContextResolver  # noqa: E402

from badges import jsonld, proofs  # noqa: E402

BASE = "https://badges.example.org"


def sample_credential(n: int) -> dict[str, Any]:
    """A credential shaped like the ones we issue, with unique ids per ``n``."""
    org = f"{BASE}/issuers/0b9d6c1e-3f1a-4c39-9a57-1f0e2b3c4d5e"
    achievement = f"{BASE}/achievements/5a7e0f8c-1d2b-4e3f-8a9b-0c1d2e3f4a5b"
    criteria = ["planning", "questioning", "evidence", "reflection"]
    levels = ["Beginning", "Developing", "Proficient", "Exemplary"]
    return {
        "@context": [jsonld.CREDENTIALS_V2, jsonld.OB_CONTEXT, jsonld.OB_EXTENSIONS],
        "id": f"{BASE}/badges/{n:08d}-7c1f-4d2e-9a3b-5c6d7e8f9a0b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": org,
            "type": ["Profile"],
            "name": "Example School District",
            "url": "https://district.example",
        },
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2029-01-01T00:00:00Z",
        "awardedDate": "2026-01-01T00:00:00Z",
        "name": "Close Reading of Complex Texts",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "hashed": True,
                    "identityHash": f"sha256${n:064x}",
                    "identityType": "emailAddress",
                    "salt": f"salt{n}",
                }
            ],
            "achievement": {
                "id": achievement,
                "type": ["Achievement"],
                "achievementType": "MicroCredential",
                "name": "Close Reading of Complex Texts",
                "description": "The educator leads students through a close reading of a complex text.",
                "criteria": {"id": achievement, "narrative": "Scored Proficient or better on every criterion."},
                "image": {"id": f"{achievement}/image.svg", "type": "Image"},
                "creator": {"id": org, "type": ["Profile"], "name": "Example School District"},
                "alignment": [
                    {
                        "type": ["Alignment"],
                        "targetName": f"Standard {k}",
                        "targetUrl": f"https://standards.example/items/{k}",
                        "targetType": "CFItem",
                        "targetCode": f"RL.8.{k}",
                        "targetFramework": "State ELA Standards",
                    }
                    for k in range(3)
                ],
                "resultDescription": [
                    {
                        "id": f"{achievement}#{c}",
                        "type": ["ResultDescription"],
                        "name": c.title(),
                        "resultType": "RubricCriterionLevel",
                        "requiredLevel": f"{achievement}#{c}-level-2",
                        "rubricCriterionLevel": [
                            {"id": f"{achievement}#{c}-level-{i}", "type": ["RubricCriterionLevel"], "name": level}
                            for i, level in enumerate(levels)
                        ],
                    }
                    for c in criteria
                ],
            },
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": f"{achievement}#{c}",
                    "achievedLevel": f"{achievement}#{c}-level-2",
                    "value": "Proficient",
                }
                for c in criteria
            ],
        },
        "evidence": [{"id": f"{BASE}/evidence/{n}", "type": ["Evidence"], "name": "Portfolio", "narrative": "Lesson."}],
        "credentialSchema": [
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }
        ],
        "credentialStatus": {
            "id": f"{BASE}/status-lists/1#{n}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(n),
            "statusListCredential": f"{BASE}/status-lists/1",
        },
    }


def _untagged_loader(url: str, options: Any = None) -> dict[str, Any]:
    loaded = dict(jsonld.document_loader(url, options))
    loaded.pop("tag")
    return loaded


def pyld_plain(document: dict[str, Any]) -> str:
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": _untagged_loader,
        "contextResolver": ContextResolver({}, _untagged_loader),
        "base": None,
    }
    return pyld.normalize(document, options)


def per_call(fn: Callable[[int], Any], rounds: int, repeats: int = 5) -> float:
    """Median seconds per call over ``repeats`` runs of ``rounds`` calls (argument: a running counter)."""
    times = []
    counter = 0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            fn(counter)
            counter += 1
        times.append((time.perf_counter() - start) / rounds)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    ed = Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vm = f"{BASE}/issuers/0b9d6c1e-3f1a-4c39-9a57-1f0e2b3c4d5e#{proofs.multikey(ed.public_key())}"
    kid = f"{BASE}/issuers/0b9d6c1e-3f1a-4c39-9a57-1f0e2b3c4d5e/keys/r1"
    docs = [sample_credential(n) for n in range(64)]

    for doc in docs[:8]:  # the fast path must agree with plain PyLD before it may be timed
        assert jsonld.canonical_nquads(doc) == pyld_plain(doc) == jsonld.canonical_nquads_pyld(doc)

    def both(n: int) -> None:
        signed = proofs.sign_eddsa_rdfc_2022(docs[n % 64], ed, vm, "2026-01-01T00:00:00Z")
        proofs.sign_vc_jwt(signed, rsa_key, kid)

    rounds = args.rounds
    rows = [
        (
            "canonical N-Quads, plain PyLD (no context caching)",
            per_call(lambda n: pyld_plain(docs[n % 64]), max(20, rounds // 10)),
        ),
        (
            "canonical N-Quads, PyLD with cached contexts",
            per_call(lambda n: jsonld.canonical_nquads_pyld(docs[n % 64]), rounds // 2),
        ),
        ("canonical N-Quads, fast path", per_call(lambda n: jsonld.canonical_nquads(docs[n % 64]), rounds)),
        (
            "eddsa-rdfc-2022 signature (fast path)",
            per_call(lambda n: proofs.sign_eddsa_rdfc_2022(docs[n % 64], ed, vm, "2026-01-01T00:00:00Z"), rounds),
        ),
        ("eddsa-rdfc-2022 verification (fast path)", None),
        ("Ed25519 signature alone", per_call(lambda n: ed.sign(b"x" * 64 + n.to_bytes(4, "big")), rounds * 10)),
        ("RS256 VC-JWT", per_call(lambda n: proofs.sign_vc_jwt(docs[n % 64], rsa_key, kid), rounds)),
        ("both proofs of one badge", per_call(both, rounds)),
    ]
    signed = [proofs.sign_eddsa_rdfc_2022(doc, ed, vm, "2026-01-01T00:00:00Z") for doc in docs]
    rows[4] = (rows[4][0], per_call(lambda n: proofs.verify_eddsa_rdfc_2022(signed[n % 64], ed.public_key()), rounds))

    plain = rows[0][1]
    print(f"{'operation':<52} {'µs each':>10} {'per s/core':>11} {'vs plain PyLD':>14}")
    for name, seconds in rows:
        assert seconds is not None
        print(f"{name:<52} {seconds * 1e6:>10.0f} {1 / seconds:>11.0f} {plain / seconds:>13.1f}x")
    both_rate = 1 / rows[-1][1]
    print(
        f"\nbadges/s per core with both proofs (signing only, no database): {both_rate:.0f} (target ≥ 1,000 incl. DB)"
    )


if __name__ == "__main__":
    main()
