"""POST /ims/ob/v3p0/credentials (upsertCredential): a client brings a credential from another issuer into the
earner's backpack (201, then 200 when replaced); our own badges are never replaced; forged, revoked, someone
else's credentials and bad bodies are refused with Imsx_StatusInfo errors."""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from badges import documents, proofs
from badges.host.models import HostedCredential
from badges.host.oauth import CREDENTIAL_READ, CREDENTIAL_UPSERT
from badges.multikey import multikey
from core.db import db
from core.models import User
from tests.badges.issued import award, passed_submission
from tests.badges.test_ob_api import PREFIX, bearer_of, status_info, tokens_for
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, sign_in


def foreign_credential(template: dict[str, Any], email: str, **changes: Any) -> dict[str, Any]:
    """An OpenBadgeCredential of another issuer (a did:key) about the holder of ``email``, signed."""
    key = Ed25519PrivateKey.generate()
    did = "did:key:" + multikey(key.public_key())
    unsigned = {k: copy.deepcopy(v) for k, v in template.items() if k not in ("proof", "credentialStatus")}
    unsigned["id"] = f"urn:uuid:{uuid.uuid4()}"
    unsigned["issuer"] = {"id": did, "type": ["Profile"], "name": "Another State Agency"}
    unsigned["credentialSubject"]["identifier"] = [documents.hashed_email(email, secrets.token_hex(8))]
    unsigned.update(changes)
    return proofs.sign_eddsa_rdfc_2022(unsigned, key, f"{did}#{did.removeprefix('did:key:')}", "2026-01-01T00:00:00Z")


def _upserting(client: Any, earner: User) -> dict[str, str]:
    _, token = tokens_for(client, earner, scope=f"{CREDENTIAL_READ} {CREDENTIAL_UPSERT}")
    return bearer_of(token)


def test_a_foreign_credential_is_created_then_replaced_and_listed(client: Any) -> None:
    badge = award(passed_submission())
    earner = db.session.get(User, badge.earner_id)
    auth = _upserting(client, earner)
    other = foreign_credential(badge.credential, earner.email)
    r = client.post(f"{PREFIX}/credentials", json=other, headers=auth)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json() == other
    renamed = foreign_credential(badge.credential, earner.email, id=other["id"], name="Renamed by its issuer")
    r = client.post(f"{PREFIX}/credentials", json=renamed, headers=auth)
    assert r.status_code == 200 and r.get_json()["name"] == "Renamed by its issuer"
    assert db.session.query(HostedCredential).filter_by(user_id=earner.id).count() == 1
    listing = client.get(f"{PREFIX}/credentials", headers=auth)
    assert listing.headers["X-Total-Count"] == "2"
    assert [c["id"] for c in listing.get_json()["credential"]] == [badge.credential["id"], other["id"]]
    page_two = client.get(f"{PREFIX}/credentials?limit=1&offset=1", headers=auth).get_json()["credential"]
    assert [c["id"] for c in page_two] == [other["id"]]


def test_our_own_badge_is_never_replaced(client: Any) -> None:
    badge = award(passed_submission())
    earner = db.session.get(User, badge.earner_id)
    auth = _upserting(client, earner)
    r = client.post(f"{PREFIX}/credentials", json=badge.credential, headers=auth)
    assert r.status_code == 200 and r.get_json() == badge.credential
    r = client.post(f"{PREFIX}/credentials", data=badge.jwt, content_type="text/plain", headers=auth)
    assert r.status_code == 200 and r.get_json() == badge.credential
    # Another issuer's credential that claims one of our badge URLs as its id
    impostor = foreign_credential(badge.credential, earner.email, id=badge.credential["id"])
    status_info(client.post(f"{PREFIX}/credentials", json=impostor, headers=auth), 400, "invalid_data")
    assert db.session.query(HostedCredential).count() == 0


def test_hostile_upserts_are_refused(client: Any) -> None:
    badge = award(passed_submission())
    earner = db.session.get(User, badge.earner_id)
    stranger_badge = award(passed_submission())
    auth = _upserting(client, earner)
    tampered = foreign_credential(badge.credential, earner.email)
    tampered["name"] = "Something its issuer never said"
    status_info(client.post(f"{PREFIX}/credentials", json=tampered, headers=auth), 400, "invalid_data")
    someone_else = foreign_credential(badge.credential, "someone.else@example.org")
    status_info(client.post(f"{PREFIX}/credentials", json=someone_else, headers=auth), 403, "forbidden")
    status_info(client.post(f"{PREFIX}/credentials", json=stranger_badge.credential, headers=auth), 403, "forbidden")
    not_a_badge = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}
    status_info(client.post(f"{PREFIX}/credentials", json=not_a_badge, headers=auth), 400, "invalid_data")
    status_info(client.post(f"{PREFIX}/credentials", json=[1, 2], headers=auth), 400, "invalid_data")
    status_info(client.post(f"{PREFIX}/credentials", data="a.b.c", content_type="text/plain", headers=auth), 400)
    status_info(client.post(f"{PREFIX}/credentials", data="<x/>", content_type="application/xml", headers=auth), 415)
    _, read_only = tokens_for(client, earner)
    r = client.post(
        f"{PREFIX}/credentials", json=foreign_credential(badge.credential, earner.email), headers=bearer_of(read_only)
    )
    status_info(r, 403)
    assert db.session.query(HostedCredential).count() == 0


def test_the_earner_sees_and_removes_hosted_credentials(client: Any) -> None:
    badge = award(passed_submission())
    earner = db.session.get(User, badge.earner_id)
    auth = _upserting(client, earner)
    other = foreign_credential(badge.credential, earner.email, name="Literacy coach (state)")
    assert client.post(f"{PREFIX}/credentials", json=other, headers=auth).status_code == 201
    page = client.get("/my/badges/elsewhere", headers=BROWSER).get_data(as_text=True)
    assert "Literacy coach (state)" in page and "Another State Agency" in page
    row = db.session.query(HostedCredential).one()
    stranger = award(passed_submission())
    sign_in(client, db.session.get(User, stranger.earner_id).email)
    token = csrf_token(client.get("/my/badges/elsewhere", headers=BROWSER).get_data(as_text=True))
    r = client.post(f"/my/badges/elsewhere/{row.id}/remove", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 404
    sign_in(client, earner.email)
    token = csrf_token(client.get("/my/badges/elsewhere", headers=BROWSER).get_data(as_text=True))
    r = client.post(f"/my/badges/elsewhere/{row.id}/remove", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 302 and db.session.query(HostedCredential).count() == 0
    assert client.get(f"{PREFIX}/credentials", headers=auth).headers["X-Total-Count"] == "1"
