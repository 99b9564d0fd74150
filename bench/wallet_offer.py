"""Benchmark: a wallet receiving a badge through OpenID4VCI (pre-authorized code), end to end.

    .venv/bin/python bench/wallet_offer.py [--offers 100] [--database-url postgresql+psycopg://…/bench_x]

The database is WIPED and rebuilt by the migrations: use a scratch one (default: SQLite in a temporary file).
Badges are issued first (``bench/issuing.py``'s fixture); then for each one the earner's offer is made and a wallet,
through the Flask test client (no network), reads the offer, trades the code and PIN for a token, gets a nonce
and asks for the credential with an ES256 key proof, which makes us sign a copy bound to its did:jwk. Baselines in
the same run: the issuer metadata (a static JSON answer through the same client) and ``holder.bound_copy`` alone
(the Data Integrity and VC-JWT signatures the delivery needs). Prints milliseconds and ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(fn: Any, n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return median(samples)


def main() -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec
    from flask_migrate import upgrade

    from bench.issuing import _fixture, make_app
    from core.db import empty_postgresql_schema

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--offers", type=int, default=100)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-wallet-')}/bench.sqlite3"
    empty_postgresql_schema(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        from badges import issuing
        from badges.keys import b64url
        from badges.models import BadgeSource
        from badges.oid4vci import holder, services
        from badges.signing import Recipient
        from core import clock
        from core.db import db

        _, version, earners = _fixture()
        badges = []
        for i in range(args.offers):
            earner = earners[i]
            badges.append(
                issuing.issue(
                    version=version,
                    recipient=Recipient(email=earner.email, name=earner.name, user_id=earner.id),
                    results=[],
                    evidence=[],
                    awarded_at=clock.now(),
                    source=BadgeSource.IMPORT,
                    issue_key=f"bench-wallet:{earner.id}",
                )
            )
        for badge in badges:
            badge.acceptance = "accepted"  # imported to non-members, they wait for the earner's acceptance
        db.session.commit()
        client = app.test_client()
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
               "y": b64url(numbers.y.to_bytes(32, "big"))}  # fmt: skip
        issuer = app.config["BASE_URL"]
        queue = list(zip(badges, earners, strict=False))

        def one_wallet() -> None:
            badge, earner = queue.pop()
            new = services.create_offer(actor=earner, badge_id=badge.id, pin="screen")
            db.session.commit()
            client.get(f"/oid4vci/offers/{new.code}")
            form = {"grant_type": services.PRE_AUTHORIZED, "pre-authorized_code": new.code, "tx_code": new.pin}
            token = client.post("/oid4vci/token", data=form).get_json()["access_token"]
            nonce = client.post("/oid4vci/nonce").get_json()["c_nonce"]
            claims = {"aud": issuer, "iat": int(time.time()), "nonce": nonce}
            proof = jwt.encode(claims, key, algorithm="ES256", headers={"typ": holder.PROOF_TYPE, "jwk": jwk})
            body = {"credential_configuration_id": services.LDP_VC, "proofs": {"jwt": [proof]}}
            r = client.post("/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.get_data(as_text=True)

        flow = _timed(one_wallet, args.offers)
        metadata = _timed(lambda: client.get("/.well-known/openid-credential-issuer"), 200)
        sample = badges[0]
        signing = _timed(lambda: holder.bound_copy(sample, holder.did_jwk(jwk)), 50)
    print(f"Wallet offers on {url.split(':', 1)[0]}: {args.offers} wallets, medians")
    print(f"  whole flow (offer made, offer read, token, nonce, credential)  {flow * 1000:7.2f} ms")
    print(f"  issuer metadata (static JSON through the same client)        {metadata * 1000:7.2f} ms")
    print(f"  bound copy alone (DI eddsa-rdfc-2022 + RS256 VC-JWT)          {signing * 1000:7.2f} ms")
    print(f"  flow / bound copy = {flow / signing:.1f}x; flow / metadata = {flow / metadata:.1f}x")


if __name__ == "__main__":
    main()
