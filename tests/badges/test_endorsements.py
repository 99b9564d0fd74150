"""Endorsements: a signed EndorsementCredential valid against the official schema, verified by our proof functions
and openbadgeslib; embedded in the Achievement and Profile we serve and shown on the public pages; withdrawn
through the status list; and the refusals (own organisation, drafts, foreign ids, non-admins, twice)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jsonschema import Draft201909Validator
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from badges import endorsements, issuers, keys, proofs
from badges.models import SigningKey
from badges.record_models import Endorsement
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditEvent, OrganisationKind, Role
from tests.badges.issued import award, passed_submission
from tests.badges.test_clr import _bit
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_web import BROWSER, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member

VALIDATOR = Draft201909Validator(
    json.loads(
        (Path(__file__).resolve().parents[2] / "badges/schemas/ob_v3p0_endorsementcredential_schema.json").read_text()
    ),
    format_checker=Draft201909Validator.FORMAT_CHECKER,
)
COMMENT = "Approved as professional learning toward licence renewal."


def _agency() -> tuple[Any, Any]:
    agency = OrganisationFactory(name="State Board of Educator Standards", kind=OrganisationKind.STATE_AGENCY.value)
    return agency, member(agency, Role.ORG_ADMIN)


def _keys(organisation_id: Any) -> tuple[Any, Any]:
    rows = {r.algorithm: r for r in db.session.query(SigningKey).filter_by(organisation_id=organisation_id)}
    return keys.ed25519_public_key(rows["Ed25519"].public_jwk), issuers.private_key(rows["RS256"]).public_key()


def test_an_agency_endorses_a_published_micro_credential(session: Any) -> None:
    version = CredentialVersionFactory(published=True)
    agency, admin = _agency()
    made = endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="achievement", target_id=version.id, comment=COMMENT
    )
    doc = made.credential
    assert list(VALIDATOR.iter_errors(doc)) == []
    assert doc["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert doc["credentialSubject"] == {
        "id": f"http://localhost/achievements/{version.id}",
        "type": ["EndorsementSubject"],
        "endorsementComment": COMMENT,
    }
    assert doc["issuer"]["id"] == f"did:web:localhost:issuers:{agency.id}"
    ed_pub, rsa_pub = _keys(agency.id)
    proofs.verify_eddsa_rdfc_2022(doc, ed_pub)
    verify_data_integrity_proof(doc, ed_pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    assert proofs.decode_vc_jwt(made.jwt, lambda header: rsa_pub) == doc
    assert session.query(AuditEvent).filter_by(action="endorsement.issued", object_id=str(made.id)).count() == 1
    assert endorsements.embedded(version.id) == [doc]


def test_an_issuer_profile_is_endorsed_too(session: Any) -> None:
    district = OrganisationFactory()
    agency, admin = _agency()
    made = endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="issuer", target_id=district.id, comment=COMMENT
    )
    assert made.credential["credentialSubject"]["id"] == f"did:web:localhost:issuers:{district.id}"
    assert VALIDATOR.is_valid(made.credential)


def test_refusals(session: Any) -> None:
    version = CredentialVersionFactory(published=True)
    agency, admin = _agency()

    def endorse(**overrides: Any) -> Any:
        fields = {"target_kind": "achievement", "target_id": version.id, "comment": COMMENT, **overrides}
        return endorsements.endorse(actor=overrides.pop("actor", admin), endorser_id=agency.id, **fields)

    own = CredentialVersionFactory(published=True, organisation=agency)
    with pytest.raises(ValidationFailed, match="own"):
        endorse(target_id=own.id)
    with pytest.raises(ValidationFailed, match="own"):
        endorse(target_kind="issuer", target_id=agency.id)
    with pytest.raises(NotFound):  # a draft of another organisation: as if it did not exist
        endorse(target_id=CredentialVersionFactory().id)
    with pytest.raises(NotFound):
        endorse(target_id=OrganisationFactory().id)  # an organisation id given as a micro-credential
    with pytest.raises(NotFound):
        endorse(target_kind="issuer", target_id=version.id)
    with pytest.raises(ValidationFailed):
        endorse(comment="   ")
    with pytest.raises(ValidationFailed):
        endorse(comment="x" * 2001)
    with pytest.raises(ValidationFailed):
        endorse(target_kind="badge")
    with pytest.raises(Forbidden):  # a member who is not the agency's admin
        endorsements.endorse(
            actor=member(agency, Role.AUTHOR),
            endorser_id=agency.id,
            target_kind="achievement",
            target_id=version.id,
            comment=COMMENT,
        )
    assert session.query(Endorsement).count() == 0  # nothing half-written
    endorse()
    with pytest.raises(Conflict):
        endorse()


def test_withdrawing_sets_the_status_bit_and_hides_it(session: Any) -> None:
    version = CredentialVersionFactory(published=True)
    agency, admin = _agency()
    made = endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="achievement", target_id=version.id, comment=COMMENT
    )
    assert not _bit(made.status_list_id, made.status_index)
    other_agency, other_admin = _agency()
    with pytest.raises(Forbidden):
        endorsements.withdraw(actor=other_admin, endorser_id=agency.id, endorsement_id=made.id, reason="No.")
    with pytest.raises(NotFound):  # another endorser's id through one's own organisation
        endorsements.withdraw(actor=other_admin, endorser_id=other_agency.id, endorsement_id=made.id, reason="No.")
    with pytest.raises(ValidationFailed):
        endorsements.withdraw(actor=admin, endorser_id=agency.id, endorsement_id=made.id, reason=" ")
    endorsements.withdraw(actor=admin, endorser_id=agency.id, endorsement_id=made.id, reason="Programme changed.")
    assert _bit(made.status_list_id, made.status_index)
    assert endorsements.embedded(version.id) == [] and endorsements.shown([version.id]) == []
    with pytest.raises(Conflict):
        endorsements.withdraw(actor=admin, endorser_id=agency.id, endorsement_id=made.id, reason="Again.")
    # endorsing again after withdrawing is allowed
    endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="achievement", target_id=version.id, comment=COMMENT
    )


def test_endorsements_show_in_the_served_json_and_public_pages(client: Any, session: Any) -> None:
    submission = passed_submission()
    badge = award(submission)
    version = submission.version
    agency, admin = _agency()
    on_achievement = endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="achievement", target_id=version.id, comment=COMMENT
    )
    endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="issuer", target_id=version.organisation_id, comment="Trusted."
    )
    achievement = client.get(f"/achievements/{version.id}", headers={"Accept": "application/ld+json"}).get_json()
    assert achievement["endorsement"] == [on_achievement.credential]
    profile = client.get(f"/issuers/{version.organisation_id}", headers={"Accept": "application/ld+json"}).get_json()
    assert profile["endorsement"][0]["credentialSubject"]["endorsementComment"] == "Trusted."
    page = text(client.get(f"/achievements/{version.id}", headers=BROWSER))
    assert "Endorsed by State Board of Educator Standards" in page and COMMENT in page
    assert "Trusted." in text(client.get(f"/issuers/{version.organisation_id}", headers=BROWSER))
    badge_page = text(client.get(f"/badges/{badge.id}", headers=BROWSER))
    assert COMMENT in badge_page and "Trusted." in badge_page
    # the stable URLs
    path = f"/endorsements/{on_achievement.id}"
    assert client.get(path).get_json() == on_achievement.credential
    assert client.get(f"{path}.json").get_json() == on_achievement.credential
    assert client.get(path, headers={"Accept": "application/vc+jwt"}).get_data(as_text=True) == on_achievement.jwt
    assert client.get(f"{path}.jwt").get_data(as_text=True) == on_achievement.jwt
    assert client.get("/endorsements/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_endorsing_page_and_the_api(client: Any, session: Any) -> None:
    version = CredentialVersionFactory(published=True)
    agency, admin = _agency()
    sign_in(client, admin.email)
    url = f"/organisations/{agency.id}/endorsements"
    page = client.get(f"{url}?achievement={version.id}", headers=BROWSER)
    html = text(page)
    assert page.status_code == 200 and f'value="achievement:{version.id}" selected' in html
    token = csrf_token(html)
    r = client.post(url, data={"csrf_token": token, "target": f"achievement:{version.id}", "comment": ""})
    assert r.status_code == 422 and "Say in a sentence" in text(r)
    r = client.post(url, data={"csrf_token": token, "target": "achievement:nope", "comment": COMMENT})
    assert r.status_code == 422
    r = client.post(url, data={"csrf_token": token, "target": f"achievement:{version.id}", "comment": COMMENT})
    assert r.status_code == 302
    made = session.query(Endorsement).one()
    assert "standing" in text(client.get(url, headers=BROWSER))
    withdraw = f"{url}/{made.id}/withdraw"
    assert "Withdraw this endorsement?" in text(client.get(withdraw, headers=BROWSER))
    assert made.revoked_at is None  # the GET changed nothing
    r = client.post(withdraw, data={"csrf_token": token, "reason": ""})
    assert r.status_code == 422
    r = client.post(withdraw, data={"csrf_token": token, "reason": "Programme changed."})
    session.refresh(made)
    assert r.status_code == 302 and made.revoked_at is not None
    # someone else's page: refused
    sign_in(client, member(agency, Role.AUTHOR).email)
    assert client.get(url, headers=BROWSER).status_code == 403
    # the API
    api = f"/api/v1/organisations/{agency.id}/endorsements"
    body = {"target_kind": "issuer", "target_id": str(version.organisation_id), "comment": COMMENT}
    r = client.post(api, json=body, headers=bearer(admin))
    assert r.status_code == 201 and r.get_json()["credential"]["type"][-1] == "EndorsementCredential"
    problem(client.post(api, json=body, headers=bearer(admin)), 409)
    problem(client.post(api, json={**body, "target_id": str(agency.id)}, headers=bearer(admin)), 422)
    problem(client.post(api, json={**body, "target_kind": "achievement"}, headers=bearer(admin)), 404)
    problem(client.post(api, json={**body, "extra": 1}, headers=bearer(admin)), 422)
    problem(client.post(api, json=body, headers=bearer(member(agency, Role.AUTHOR))), 403)
    listed = client.get(api, headers=bearer(admin)).get_json()
    assert len(listed) == 2
    endorsement_id = listed[0]["id"]
    withdraw_api = f"{api}/{endorsement_id}/withdraw"
    assert client.post(withdraw_api, json={"reason": "Changed."}, headers=bearer(admin)).status_code == 200
    problem(client.post(withdraw_api, json={"reason": "Changed."}, headers=bearer(admin)), 409)
    problem(client.post(withdraw_api, json={}, headers=bearer(admin)), 422)
    foreign = f"/api/v1/organisations/{OrganisationFactory().id}/endorsements/{endorsement_id}/withdraw"
    problem(client.post(foreign, json={"reason": "x"}, headers=bearer(admin)), 403)


def test_our_verifier_accepts_our_endorsements(client: Any, session: Any) -> None:
    """An endorsement we sign verifies with our verifier (JSON and JWT), and the Achievement we serve carries it."""
    version = CredentialVersionFactory(published=True)
    agency, admin = _agency()
    made = endorsements.endorse(
        actor=admin, endorser_id=agency.id, target_kind="achievement", target_id=version.id, comment=COMMENT
    )
    for given in (made.credential, made.jwt):
        report = client.post("/api/v1/verify", json={"credential": given}).get_json()
        assert report["verified"] is True and report["status"] == "valid", report["checks"]
    served = client.get(f"/achievements/{version.id}", headers={"Accept": "application/json"}).get_json()
    assert served["endorsement"] == [made.credential]
