"""How many third-party credentials (tests/badges/thirdparty) reach the verdict their suites state, by proof
family, and whether the W3C vectors of the suites no suite's badge uses yet verify. Prints figures; asserts nothing."""

import json
import pathlib
import sys
from collections import Counter
from datetime import UTC, datetime

sys.path.insert(0, ".")
from badges import proofs, verifier
from core import create_app
from tests.badges.test_thirdparty import offline_web

app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
d = pathlib.Path("tests/badges/thirdparty")
exp = json.loads((d / "expected.json").read_text())
ok = 0
families: Counter[str] = Counter()
agreed: Counter[str] = Counter()
with app.app_context():
    for name, e in exp.items():
        credential = json.loads((d / name).read_text())
        with offline_web(name):  # the status lists the suites publish beside their credentials, served locally
            r = verifier.verify(credential, now=datetime(2026, 12, 4, tzinfo=UTC))
        good = r.status == e["status"]
        ok += good
        proof_list = credential.get("proof")
        proof_list = proof_list if isinstance(proof_list, list) else [proof_list]
        for family in {
            str(proofs.suite_of(p) or (p or {}).get("cryptosuite") or (p or {}).get("type")) for p in proof_list
        }:
            families[family] += 1
            agreed[family] += good
        print(
            "OK " if good else "NO ",
            name,
            r.status,
            [f"warning ({w['kind']})" for w in r.warnings]
            if good
            else [c["detail"][:150] for c in r.checks if not c["passed"] and c.get("severity") != "warning"],
        )
    for family in sorted(families):
        print(f"  {family}: {agreed[family]} of {families[family]}")
    print(f"agrees on {ok} of {len(exp)}")

    # Suites whose published vectors are not Open Badges (W3C example credentials): their proofs alone.
    data = pathlib.Path("tests/badges/data")
    vectors = {
        "eddsa-jcs-2022": (
            "w3c-eddsa/eddsa-jcs-2022-signed.json",
            json.loads((data / "w3c-eddsa/keyPair.json").read_text())["publicKeyMultibase"],
        ),
        "ecdsa-jcs-2019": (
            "w3c-ecdsa/ecdsa-jcs-2019-p256-signed.json",
            json.loads((data / "w3c-ecdsa/p256KeyPair.json").read_text())["publicKeyMultibase"],
        ),
        "ecdsa-sd-2023": (
            "w3c-ecdsa/ecdsa-sd-2023-derived.json",
            json.loads((data / "w3c-ecdsa/sd-key-material.json").read_text())["baseKeyPair"]["publicKeyMultibase"],
        ),
    }
    passed = 0
    for family, (path, key) in vectors.items():
        signed = json.loads((data / path).read_text())
        try:
            proofs.verify_proof(signed, signed["proof"], proofs.verification_key_from_multikey(key))
            passed += 1
            print("OK ", family, "W3C vector")
        except proofs.ProofError as exc:
            print("NO ", family, exc)
    print(f"W3C vectors of the other suites: {passed} of {len(vectors)} verify")
