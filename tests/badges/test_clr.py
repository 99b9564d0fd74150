"""CLR 2.0 transcripts: what goes in, the associations of a stack, both proofs (ours and openbadgeslib's), the
schemas, versions superseded through the status list, and who may ask (404 for everyone else)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jsonschema import Draft201909Validator
from openbadgeslib.errors import LibOpenBadgesException
from openbadgeslib.ob3.clr import bundled_clr_contexts
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from badges import clr, consent, keys, proofs, revocation, status
from badges.models import Badge, SigningKey, StatusList
from badges.record_models import ClrVersion
from core.db import db
from core.errors import NotFound
from core.models import Role
from tests.badges.issued import admin_of, award, passed_submission, schema_errors
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, sign_in
from tests.factories import CredentialVersionFactory, OrganisationFactory, StackFactory, member

SCHEMAS = Path(__file__).resolve().parents[2] / "badges/schemas"
CLR_VALIDATOR = Draft201909Validator(
    json.loads((SCHEMAS / "clr_v2p0_clrcredential_structure.json").read_text()),
    format_checker=Draft201909Validator.FORMAT_CHECKER,
)


def _ed_key(organisation_id: Any) -> Any:
    row = db.session.query(SigningKey).filter_by(organisation_id=organisation_id, algorithm="Ed25519").one()
    return keys.ed25519_public_key(row.public_jwk)


def _ed_pem(organisation_id: Any) -> bytes:
    return _ed_key(organisation_id).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _rsa_key(organisation_id: Any) -> Any:
    from badges import issuers

    row = db.session.query(SigningKey).filter_by(organisation_id=organisation_id, algorithm="RS256").one()
    return issuers.private_key(row).public_key()


def _bit(status_list_id: Any, index: int) -> bool:
    encoded = status.encoded_list(db.session.get(StatusList, status_list_id))[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def _earner_with_stack() -> tuple[Any, list[Badge], Any]:
    first = passed_submission()
    organisation = first.version.organisation
    second_version = CredentialVersionFactory(published=True, organisation=organisation)
    stack = StackFactory(
        organisation=organisation,
        micro_credentials=[first.version.micro_credential, second_version.micro_credential],
        state="published",
    )
    one = award(first)
    second = passed_submission(version=second_version)
    second.earner_id = first.earner_id
    db.session.flush()
    two = award(second)
    return first.earner, [one, two], stack


def test_a_transcript_holds_every_badge_as_issued_and_both_proofs_verify(session: Any) -> None:
    earner, (one, two), stack = _earner_with_stack()
    version = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    doc = version.credential
    assert doc["type"] == ["VerifiableCredential", "ClrCredential"]
    assert doc["@context"][1] == "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
    assert [e for e in CLR_VALIDATOR.iter_errors(doc)] == []
    nested = doc["credentialSubject"]["verifiableCredential"]
    stack_badge = db.session.query(Badge).filter_by(stack_id=stack.id, earner_id=earner.id).one()
    assert {n["id"] for n in nested} == {b.credential["id"] for b in (one, two, stack_badge)}
    for member_credential in nested:  # exactly as signed: the proofs still verify, the schema still holds
        assert schema_errors(member_credential) == []
        proofs.verify_eddsa_rdfc_2022(member_credential, _ed_key(one.organisation_id))
    ids = {a["id"] for a in doc["credentialSubject"]["achievement"]}
    stack_achievement = f"http://localhost/achievements/{stack.id}"
    assert stack_achievement in ids and f"http://localhost/achievements/{one.version_id}" in ids
    kinds = {(a["associationType"], a["sourceId"], a["targetId"]) for a in doc["credentialSubject"]["association"]}
    assert ("isParentOf", stack_achievement, f"http://localhost/achievements/{one.version_id}") in kinds
    assert ("isChildOf", f"http://localhost/achievements/{two.version_id}", stack_achievement) in kinds
    identity = doc["credentialSubject"]["identifier"][0]
    assert identity["hashed"] is True and earner.email not in json.dumps(doc)
    assert doc["partial"] is False and doc["credentialStatus"]["statusPurpose"] == "revocation"
    # our proof functions, openbadgeslib's Data Integrity verifier (with the CLR context it pins), and the JWT
    proofs.verify_eddsa_rdfc_2022(doc, _ed_key(one.organisation_id))
    # openbadgeslib's Data Integrity check (its pinned CLR context; it imposes no OB schema on a CLR)
    verify_data_integrity_proof(doc, _ed_pem(one.organisation_id), extra_contexts=bundled_clr_contexts())
    tampered = json.loads(json.dumps(doc))
    tampered["credentialSubject"]["association"][0]["associationType"] = "isPeerOf"
    with pytest.raises(LibOpenBadgesException):
        verify_data_integrity_proof(tampered, _ed_pem(one.organisation_id), extra_contexts=bundled_clr_contexts())
    decoded = proofs.decode_vc_jwt(version.jwt, lambda header: _rsa_key(one.organisation_id))
    assert decoded == doc


def test_asking_again_gives_the_same_version_until_the_set_changes(session: Any) -> None:
    earner, (one, two), _stack = _earner_with_stack()
    first = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    again = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    assert again.id == first.id and session.query(ClrVersion).count() == 1
    revocation.revoke(actor=admin_of(one), badge_id=two.id, reason="Awarded in error.")
    newer = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    assert newer.id != first.id and newer.credential["id"] == first.credential["id"]  # the stable URL
    held = {n["id"] for n in newer.credential["credentialSubject"]["verifiableCredential"]}
    assert two.credential["id"] not in held  # revoked badges are left out
    assert first.superseded_at is not None
    # the superseded version's bit is set in the issuer's revocation list, the current one's is not
    assert _bit(first.status_list_id, first.status_index) and not _bit(newer.status_list_id, newer.status_index)


def test_a_stack_transcript_holds_only_its_members_and_lists_the_pathway(session: Any) -> None:
    earner, (one, _two), stack = _earner_with_stack()
    other_version = CredentialVersionFactory(published=True, organisation=one.organisation)
    outside = passed_submission(version=other_version)
    outside.earner_id = earner.id
    session.flush()
    outside_badge = award(outside)
    whole = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    of_stack = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id, stack_id=stack.id)
    assert whole.credential["id"] != of_stack.credential["id"]
    assert outside_badge.credential["id"] in json.dumps(whole.credential)
    assert outside_badge.credential["id"] not in json.dumps(of_stack.credential)
    assert of_stack.credential["partial"] is True and of_stack.member_count == 3
    assert CLR_VALIDATOR.is_valid(of_stack.credential)


def test_hidden_pending_and_suspended_badges_are_left_out(session: Any) -> None:
    earner, (one, two), _stack = _earner_with_stack()
    consent.hide(actor=earner, badge_id=one.id)
    revocation.suspend(actor=admin_of(two), badge_id=two.id, reason="Complaint under review.")
    version = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    held = {n["id"] for n in version.credential["credentialSubject"]["verifiableCredential"]}
    assert one.credential["id"] not in held and two.credential["id"] not in held
    assert version.credential["partial"] is True


def test_an_org_admin_gets_an_earners_transcript_and_nobody_else_does(session: Any) -> None:
    earner, (one, _two), _stack = _earner_with_stack()
    admin = admin_of(one)
    by_admin = clr.transcript(actor=admin, organisation_id=one.organisation_id, earner_id=earner.id)
    assert by_admin.credential["credentialSubject"]["verifiableCredential"]
    stranger = member(OrganisationFactory(), Role.ORG_ADMIN)
    author = member(one.organisation, Role.AUTHOR)
    for actor in (stranger, author):
        with pytest.raises(NotFound):
            clr.transcript(actor=actor, organisation_id=one.organisation_id, earner_id=earner.id)
    with pytest.raises(NotFound):  # a stack of another organisation
        other_stack = StackFactory(organisation=OrganisationFactory(), state="published")
        clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id, stack_id=other_stack.id)
    with pytest.raises(NotFound):  # a draft stack
        draft = StackFactory(organisation=one.organisation, state="draft")
        clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id, stack_id=draft.id)
    with pytest.raises(NotFound):  # no badges from that organisation
        clr.transcript(actor=earner, organisation_id=OrganisationFactory().id, earner_id=earner.id)


def test_transcripts_over_http_pages_and_api(client: Any, session: Any) -> None:
    earner, (one, _two), stack = _earner_with_stack()
    org = one.organisation_id
    sign_in(client, earner.email)
    page = client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    assert f"/my/transcripts/{org}.json" in page and f"stack={stack.id}" in page
    download = client.get(f"/my/transcripts/{org}.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    doc = download.get_json()
    assert doc["type"][-1] == "ClrCredential"
    record_path = doc["id"].removeprefix("http://localhost")
    assert client.get(record_path, headers={"Accept": "application/ld+json"}).get_json() == doc
    jwt_text = client.get(record_path, headers={"Accept": "application/vc+jwt"}).get_data(as_text=True)
    assert proofs.decode_vc_jwt(jwt_text, lambda header: _rsa_key(org)) == doc
    assert client.get(f"{record_path}.json").get_json() == doc
    assert client.get(f"/my/transcripts/{org}.json?stack=not-a-uuid").status_code == 404
    # another earner's transcript: the same 404 as an unknown one
    assert client.get(f"/organisations/{org}/earners/{earner.id}/transcript.json").status_code == 200
    other = member(one.organisation)
    sign_in(client, other.email)
    assert client.get(f"/organisations/{org}/earners/{earner.id}/transcript.json").status_code == 404
    assert client.get(f"/my/transcripts/{org}.json").status_code == 404
    assert client.get("/clrs/00000000-0000-0000-0000-000000000000").status_code == 404
    # the API
    r = client.post(f"/api/v1/me/transcripts/{org}", json={}, headers=bearer(earner))
    assert r.status_code == 200 and r.get_json()["url"] == doc["id"]
    r = client.post(f"/api/v1/me/transcripts/{org}", json={"stack_id": str(stack.id)}, headers=bearer(earner))
    assert r.status_code == 200 and r.get_json()["credential"]["partial"] is True
    problem(client.post(f"/api/v1/me/transcripts/{org}", json={}, headers=bearer(other)), 404)
    problem(client.post(f"/api/v1/me/transcripts/{org}", json={"stack_id": "x"}, headers=bearer(earner)), 422)
    problem(client.post(f"/api/v1/me/transcripts/{org}", json={"extra": 1}, headers=bearer(earner)), 422)
    admin = admin_of(one)
    r = client.post(f"/api/v1/organisations/{org}/earners/{earner.id}/transcript", json={}, headers=bearer(admin))
    assert r.status_code == 200
    problem(
        client.post(f"/api/v1/organisations/{org}/earners/{earner.id}/transcript", json={}, headers=bearer(other)), 404
    )


def test_our_verifier_accepts_our_transcripts_and_endorsements(client: Any, session: Any) -> None:
    """The issuing side (transcripts, endorsements) and the verifying side (CLR and endorsement checks) were built
    apart: each transcript we sign verifies with every badge it holds, as JSON and as JWT."""
    earner, (one, _two), _stack = _earner_with_stack()
    version = clr.transcript(actor=earner, organisation_id=one.organisation_id, earner_id=earner.id)
    for given in (version.credential, version.jwt):
        report = client.post("/api/v1/verify", json={"credential": given}).get_json()
        assert report["verified"] is True and report["status"] == "valid", report["checks"]
        assert len(report["nested_credentials"]) == 3
        assert all(n["status"] == "valid" for n in report["nested_credentials"]), report["nested_credentials"]
    revocation.revoke(actor=admin_of(one), badge_id=one.id, reason="Issued in error")
    report = client.post("/api/v1/verify", json={"credential": version.credential}).get_json()
    statuses = sorted(n["status"] for n in report["nested_credentials"])
    assert statuses == ["revoked", "valid", "valid"]
