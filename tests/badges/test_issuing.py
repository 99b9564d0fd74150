"""Issuing: the credential we sign is valid OB 3.0, both proofs verify with us and with openbadgeslib, issuing
is idempotent, revocation reaches the status list at once, stacks and renewals issue once."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import jwt
import pytest
from openbadgeslib.ob3.ldp import OB3LdpVerifier
from openbadgeslib.ob3.verifier import OB3VerificationError, OB3Verifier

from badges import imports, issuers, issuing, keys, proofs, renewal, revocation, stacks
from badges.models import Badge, KeyState, SigningKey
from core.db import db
from core.errors import Conflict, Forbidden
from core.models import Role
from tests.badges.issued import admin_of, ago, award, downloader, issue_again, passed_submission, schema_errors
from tests.factories import CredentialVersionFactory, OrganisationFactory, StackFactory, member


def _keys_of(badge: Badge) -> tuple[Any, Any]:
    rows = db.session.query(SigningKey).filter_by(organisation_id=badge.organisation_id, state="active").all()
    by_alg = {row.algorithm: row for row in rows}
    return keys.ed25519_public_key(by_alg["Ed25519"].public_jwk), issuers.private_key(by_alg["RS256"]).public_key()


def test_a_passed_submission_becomes_a_schema_valid_badge_with_both_proofs(client: Any) -> None:
    submission = passed_submission()
    badge = award(submission)
    doc = badge.credential
    assert schema_errors(doc) == []
    assert doc["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert doc["id"] == f"http://localhost/badges/{badge.id}"
    did = f"did:web:localhost:issuers:{badge.organisation_id}"
    assert doc["issuer"]["id"] == did
    ed_kid = (
        db.session.query(SigningKey).filter_by(organisation_id=badge.organisation_id, algorithm="Ed25519").one().kid
    )
    assert doc["proof"][0]["verificationMethod"] == f"{did}#{ed_kid}"  # listed in /issuers/<id>/did.json
    achievement = doc["credentialSubject"]["achievement"]
    assert achievement["id"] == f"http://localhost/achievements/{submission.version_id}"
    assert achievement["alignment"][0]["targetType"] == "CFItem"
    assert achievement["resultDescription"][0]["resultType"] == "RubricCriterionLevel"
    result = doc["credentialSubject"]["result"][0]
    assert result["value"] == "Proficient" and result["achievedLevel"].endswith("-level-2")
    assert "." not in doc["validFrom"] and doc["validUntil"] > doc["validFrom"]
    assert doc["credentialStatus"]["type"] == "BitstringStatusListEntry"
    ed_pub, rsa_pub = _keys_of(badge)
    proofs.verify_eddsa_rdfc_2022(doc, ed_pub)
    OB3LdpVerifier(ed_pub).verify(doc)
    checked = OB3Verifier(rsa_pub).verify(badge.jwt, check_status=True, download=downloader(client))
    assert checked.id == doc["id"]
    # without a pinned key: openbadgeslib resolves the proof's key from the issuer's did:web document
    resolved = OB3LdpVerifier.for_issuer_did(doc["issuer"]["id"]).verify(doc, download=downloader(client))
    assert resolved.issuer.id == doc["issuer"]["id"]


def test_the_earner_is_named_by_a_salted_hash_of_their_email_unless_they_gave_a_did(session: Any) -> None:
    submission = passed_submission()
    badge = award(submission)
    identity = badge.credential["credentialSubject"]["identifier"][0]
    expected = hashlib.sha256((submission.earner.email.lower() + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}" and identity["hashed"] is True
    assert "id" not in badge.credential["credentialSubject"]

    other = passed_submission(version=submission.version)
    issuing.set_did(actor=other.earner, did="did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH")
    badge = award(other)
    assert badge.credential["credentialSubject"]["id"].startswith("did:key:")
    assert (
        jwt.decode(badge.jwt, options={"verify_signature": False})["sub"] == badge.credential["credentialSubject"]["id"]
    )


def test_evidence_links_only_when_the_earner_made_it_public(session: Any) -> None:
    public = award(passed_submission(evidence_public=True))
    assert any(e.get("id") == "https://video.example/1" for e in public.credential["evidence"])
    private = award(passed_submission(evidence_public=False))
    assert all("id" not in e and "narrative" not in e for e in private.credential["evidence"])
    assert schema_errors(private.credential) == []


def test_issuing_twice_for_one_submission_gives_one_badge(session: Any) -> None:
    submission = passed_submission()
    first = award(submission)
    second = award(submission)
    assert first.id == second.id
    assert db.session.query(Badge).filter_by(submission_id=submission.id).count() == 1


def test_status_indexes_are_spread_not_sequential(session: Any) -> None:
    submission = passed_submission()
    indexes = [award(submission).status_index]
    for _ in range(5):
        indexes.append(award(passed_submission(version=submission.version)).status_index)
    assert len(set(indexes)) == 6
    assert indexes != sorted(indexes) or max(indexes) - min(indexes) > 1000


def test_revocation_is_in_the_status_list_on_the_next_fetch(client: Any) -> None:
    badge = award(passed_submission())
    _, rsa_pub = _keys_of(badge)
    OB3Verifier(rsa_pub).verify(badge.jwt, check_status=True, download=downloader(client))
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Plagiarised evidence")
    with pytest.raises(OB3VerificationError, match=f"is set at index {badge.status_index} "):
        OB3Verifier(rsa_pub).verify(badge.jwt, check_status=True, download=downloader(client))


def test_revoking_twice_is_a_conflict_and_only_org_admins_revoke(session: Any) -> None:
    badge = award(passed_submission())
    with pytest.raises(Forbidden):
        revocation.revoke(actor=member(badge.organisation), badge_id=badge.id, reason="x")
    with pytest.raises(Forbidden):
        revocation.revoke(actor=member(OrganisationFactory(), Role.ORG_ADMIN), badge_id=badge.id, reason="x")
    admin = admin_of(badge)
    revocation.revoke(actor=admin, badge_id=badge.id, reason="Issued in error")
    with pytest.raises(Conflict):
        revocation.revoke(actor=admin, badge_id=badge.id, reason="again")


def _tamper_cases() -> list[tuple[str, Any]]:
    def name(doc: dict) -> None:
        doc["credentialSubject"]["achievement"]["name"] = "Rocket Science"

    def level(doc: dict) -> None:
        doc["credentialSubject"]["result"][0]["value"] = "Exemplary"

    def valid_until(doc: dict) -> None:
        doc["validUntil"] = "2999-01-01T00:00:00Z"

    def issuer(doc: dict) -> None:
        doc["issuer"]["name"] = "Harvard"

    def status(doc: dict) -> None:
        doc["credentialStatus"]["statusListIndex"] = "0"

    def evidence(doc: dict) -> None:
        doc["evidence"][0]["name"] = "Something else"

    return [(f.__name__, f) for f in (name, level, valid_until, issuer, status, evidence)]


@pytest.mark.parametrize(("what", "tamper"), _tamper_cases(), ids=[w for w, _ in _tamper_cases()])
def test_tampering_with_any_field_is_rejected(session: Any, what: str, tamper: Any) -> None:
    badge = award(passed_submission())
    ed_pub, rsa_pub = _keys_of(badge)
    doc = copy.deepcopy(badge.credential)
    tamper(doc)
    with pytest.raises(proofs.ProofError):
        proofs.verify_eddsa_rdfc_2022(doc, ed_pub)
    with pytest.raises(OB3VerificationError):
        OB3LdpVerifier(ed_pub).verify(doc)
    # The same change inside the VC-JWT payload breaks its signature.
    head, body, signature = badge.jwt.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    tamper(payload)
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(OB3VerificationError):
        OB3Verifier(rsa_pub).verify(f"{head}.{forged_body}.{signature}")


def test_rotated_keys_sign_new_badges_and_old_badges_still_verify(client: Any) -> None:
    submission = passed_submission()
    old = award(submission)
    old_kid = proofs.jwt_header(old.jwt)["kid"]
    fresh = issuers.rotate_keys(actor=admin_of(old), organisation_id=old.organisation_id)
    assert {k.algorithm for k in fresh} == {"Ed25519", "RS256"}
    retired = db.session.query(SigningKey).filter_by(organisation_id=old.organisation_id, state=KeyState.RETIRED).all()
    assert len(retired) == 2
    new = award(passed_submission(version=submission.version))
    assert proofs.jwt_header(new.jwt)["kid"] != old_kid
    # The old kid URL still answers with its bare public key, and the JWKS lists both.
    response = client.get(old_kid.removeprefix("http://localhost"))
    assert response.status_code == 200 and response.json["kty"] == "RSA" and "d" not in response.json
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}
    assert {r.kid for r in retired} <= kids


def test_private_keys_are_encrypted_at_rest_with_the_kek(app: Any) -> None:
    badge = award(passed_submission())
    row = db.session.query(SigningKey).filter_by(organisation_id=badge.organisation_id, algorithm="RS256").one()
    private = issuers.private_key(row)
    from cryptography.hazmat.primitives import serialization

    der = private.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert der not in row.private_key_encrypted and der[40:80] not in row.private_key_encrypted
    other_kek = "A" * 43 + "="
    with pytest.raises(keys.KeyDecryptionError):
        keys.decrypt_private_key(row.private_key_encrypted, kek_b64=other_kek, kid=row.kid)
    with pytest.raises(keys.KeyDecryptionError):  # a ciphertext moved to another key row does not decrypt
        keys.decrypt_private_key(row.private_key_encrypted, kek_b64=app.config["KEY_ENCRYPTION_KEY"], kid="other")


def test_completing_a_stack_issues_its_badge_once(session: Any) -> None:
    first = passed_submission()
    organisation = first.version.organisation
    second_version = CredentialVersionFactory(published=True, organisation=organisation)
    stack = StackFactory(
        organisation=organisation,
        micro_credentials=[first.version.micro_credential, second_version.micro_credential],
        state="published",
    )
    award(first)
    assert db.session.query(Badge).filter_by(stack_id=stack.id).count() == 0
    second = passed_submission(version=second_version)
    second.earner_id = first.earner_id
    db.session.flush()
    award(second)
    stack_badges = db.session.query(Badge).filter_by(stack_id=stack.id).all()
    assert len(stack_badges) == 1
    assert stack_badges[0].earner_id == first.earner_id
    assert schema_errors(stack_badges[0].credential) == []
    assert (
        stacks.issue_completed_stacks(earner_id=first.earner_id, micro_credential_id=second_version.micro_credential_id)
        == []
    )


def test_renewal_reissues_with_new_dates_once(session: Any) -> None:
    badge = award(passed_submission(), decided_at=None)
    admin = admin_of(badge)
    renewed = renewal.renew(actor=admin, badge_id=badge.id)
    assert renewed.id != badge.id and renewed.renewed_from_id == badge.id
    assert (
        renewed.credential["credentialSubject"]["achievement"] == badge.credential["credentialSubject"]["achievement"]
    )
    assert renewed.credential["awardedDate"] == badge.credential["awardedDate"]
    assert schema_errors(renewed.credential) == []
    with pytest.raises(Conflict):
        renewal.renew(actor=admin, badge_id=badge.id)


def test_every_kind_of_badge_is_schema_valid_and_verified_by_openbadgeslib(client: Any) -> None:
    first = passed_submission()
    organisation = first.version.organisation
    second_version = CredentialVersionFactory(published=True, organisation=organisation)
    StackFactory(
        organisation=organisation,
        micro_credentials=[first.version.micro_credential, second_version.micro_credential],
        state="published",
    )
    assessed = award(first)
    second = passed_submission(version=second_version)
    second.earner_id = first.earner_id
    db.session.flush()
    award(second)
    stack_badge = db.session.query(Badge).filter(Badge.stack_id.is_not(None), Badge.earner_id == first.earner_id).one()
    imported_report = imports.import_awards(
        actor=admin_of(assessed),
        organisation_id=organisation.id,
        data=f"email,version_id,awarded_on,did\nx@example.org,{first.version_id},{ago(10).date()},did:web:x.example\n".encode(),
    )
    imported = db.session.get(Badge, imported_report["rows"][0]["badge_id"])
    renewed = renewal.renew(actor=admin_of(assessed), badge_id=assessed.id)
    ed_pub, rsa_pub = _keys_of(assessed)
    for badge in (assessed, stack_badge, imported, renewed):
        assert schema_errors(badge.credential) == [], badge.source
        OB3LdpVerifier(ed_pub).verify(badge.credential)
        OB3Verifier(rsa_pub).verify(badge.jwt, check_status=True, download=downloader(client))
    assert imported.credential["credentialSubject"]["id"] == "did:web:x.example"


def test_losing_an_issuing_race_returns_the_winners_badge_and_keeps_the_transaction(session: Any) -> None:
    submission = passed_submission()
    winner = award(submission)
    # What a concurrent request that passed the duplicate check a moment too early would do.
    loser = issue_again(winner, submission)
    assert loser.id == winner.id
    assert db.session.query(Badge).filter_by(issue_key=winner.issue_key).count() == 1
    award(passed_submission(version=submission.version))  # the session is still usable
