"""Benchmark: signing a CLR 2.0 transcript of N badges, against signing one badge in the same run.

    .venv/bin/python bench/transcripts.py [--badges 1,10,50]

SQLite in a temporary file. For each N: an earner with N badges; the first ``clr.transcript`` call (signs a new
version: canonicalises the whole ClrCredential with every nested badge and its proofs, Data Integrity and VC-JWT)
and a repeat call (the set is unchanged: the stored version is returned). The baseline is the Data Integrity
signature of one badge (``proofs.sign_eddsa_rdfc_2022``). Prints milliseconds and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--badges", default="1,10,50")
    args = parser.parse_args()
    from flask_migrate import upgrade

    from bench.issuing import _fixture
    from core import create_app

    tmp = tempfile.mkdtemp(prefix="bench-clr-")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "BASE_URL": "http://127.0.0.1:8765", "LOG_LEVEL": "WARNING"}
    )
    with app.app_context(), app.test_request_context():
        upgrade()
        from badges import clr, documents, issuing, proofs, signing
        from badges.issuers import active_signers, verification_method
        from badges.models import Badge, BadgeSource, KeyAlgorithm
        from core import clock
        from core.db import db

        organisation, version, earners = _fixture()
        for n in (int(x) for x in args.badges.split(",")):
            earner = earners[n]
            for i in range(n):
                issuing.issue(
                    version=version,
                    recipient=signing.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
                    results=[],
                    evidence=[],
                    awarded_at=clock.now(),
                    source=BadgeSource.IMPORT,
                    issue_key=f"bench-clr:{n}:{i}:{uuid.uuid4()}",
                )
            # imported to a non-member, so pending: the earner accepted them
            db.session.query(Badge).filter_by(earner_id=earner.id).update({"acceptance": "accepted"})
            db.session.commit()
            sample = db.session.query(Badge).filter_by(earner_id=earner.id).first()
            assert sample is not None
            unsigned = {k: v for k, v in sample.credential.items() if k != "proof"}
            ed = active_signers(organisation.id)[KeyAlgorithm.ED25519.value]
            vm = verification_method(organisation.id, ed.kid)
            start = time.perf_counter()
            for _ in range(20):
                proofs.sign_eddsa_rdfc_2022(unsigned, ed.private, vm, documents.iso(clock.now()))
            baseline = (time.perf_counter() - start) / 20
            start = time.perf_counter()
            clr.transcript(actor=earner, organisation_id=organisation.id, earner_id=earner.id)
            signed = time.perf_counter() - start
            db.session.commit()
            start = time.perf_counter()
            clr.transcript(actor=earner, organisation_id=organisation.id, earner_id=earner.id)
            repeat = time.perf_counter() - start
            print(
                f"{n:4d} badges: new version {signed * 1000:8.1f} ms ({signed / baseline:6.1f} x one badge's DI "
                f"signature of {baseline * 1000:.2f} ms); unchanged set {repeat * 1000:6.2f} ms"
            )


if __name__ == "__main__":
    main()
