"""Public URLs and the issuing API: content negotiation, downloads, keys, status lists, hostile input."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from openbadgeslib.ob3.verifier import OB3Verifier

from badges import baking, proofs, revocation
from badges.models import Badge
from core.db import db
from core.models import Role, User
from tests.badges.issued import admin_of, ago, award, downloader, passed_submission, schema_errors
from tests.conftest import bearer, problem
from tests.factories import CredentialImageFactory, OrganisationFactory, member, png_bytes


@pytest.fixture
def badge(session: Any) -> Badge:
    return award(passed_submission())


def test_badge_page_shows_a_valid_banner_and_what_it_certifies(client: Any, badge: Badge) -> None:
    response = client.get(f"/badges/{badge.id}", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'class="badge-status valid"' in html and "VALID" in html
    assert badge.title in html and badge.organisation.name in html
    assert "Proficient" in html  # rubric result
    assert "earned this micro-credential" in html and "MicroCredential" not in html.split("</head>")[1]
    assert 'property="og:title"' in html
    assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in html
    assert response.headers["Cache-Control"] == "no-cache"
    # the issuer's name links to its page (issuer.id is a did:web DID, which a browser cannot open)
    assert f'<a href="http://localhost/issuers/{badge.organisation_id}">{badge.organisation.name}</a>' in html
    assert f'href="{badge.credential["issuer"]["id"]}"' not in html


def test_revoked_and_expired_badges_say_so_on_the_next_request(client: Any, badge: Badge) -> None:
    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Evidence was not the earner's own")
    html = client.get(f"/badges/{badge.id}").get_data(as_text=True)
    assert 'class="badge-status revoked"' in html and "REVOKED" in html and "not the earner" in html
    expired = award(passed_submission(validity_days=30), decided_at=ago(60))
    html = client.get(f"/badges/{expired.id}").get_data(as_text=True)
    assert 'class="badge-status expired"' in html and "EXPIRED" in html


def _meta(html: str, prop: str) -> str:
    import re

    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    assert found, prop
    return found.group(1)


def test_link_previews_show_a_png_and_never_call_a_revoked_badge_earned(client: Any, badge: Badge) -> None:
    html = client.get(f"/badges/{badge.id}").get_data(as_text=True)
    image = _meta(html, "og:image")
    assert image.endswith(f"/badges/{badge.id}.png")  # LinkedIn, Facebook and X do not render SVG
    png = client.get(urlsplit(image).path)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert "earned this" in _meta(html, "og:description")

    revocation.revoke(actor=admin_of(badge), badge_id=badge.id, reason="Evidence was not the earner's own")
    html = client.get(f"/badges/{badge.id}").get_data(as_text=True)
    description = _meta(html, "og:description")
    assert "revoked" in description and "earned" not in description
    assert "REVOKED" in _meta(html, "og:title")
    expired = award(passed_submission(validity_days=30), decided_at=ago(60))
    description = _meta(client.get(f"/badges/{expired.id}").get_data(as_text=True), "og:description")
    assert "expired on" in description and "earned" not in description


@pytest.mark.parametrize("accept", ["application/vc+ld+json", "application/ld+json"])
def test_the_badge_url_serves_the_credential_json_by_accept(client: Any, badge: Badge, accept: str) -> None:
    response = client.get(f"/badges/{badge.id}", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    assert response.json == badge.credential
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept", ["application/vc+jwt", "application/jwt"])
def test_the_badge_url_serves_the_jwt_by_accept(client: Any, badge: Badge, accept: str) -> None:
    response = client.get(f"/badges/{badge.id}", headers={"Accept": accept})
    assert response.status_code == 200 and response.get_data(as_text=True) == badge.jwt


def test_an_unservable_accept_is_406(client: Any, badge: Badge) -> None:
    # The client takes none of our types, so the error body is whatever it gets (HTML); the status is the point.
    assert client.get(f"/badges/{badge.id}", headers={"Accept": "application/xml"}).status_code == 406
    assert client.get(f"/issuers/{badge.organisation_id}", headers={"Accept": "image/png"}).status_code == 406


def test_downloads(client: Any, badge: Badge) -> None:
    assert client.get(f"/badges/{badge.id}.json").json == badge.credential
    assert client.get(f"/badges/{badge.id}.jwt").get_data(as_text=True) == badge.jwt
    svg = client.get(f"/badges/{badge.id}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert baking.extract_svg(svg.get_data(as_text=True)) == badge.jwt
    # The factory version has no uploaded image: the default is an SVG, which we do not rasterise; the PNG is
    # the same default design drawn as a PNG, with the credential baked in.
    png = client.get(f"/badges/{badge.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    assert baking.extract_png(png.data) == badge.jwt


def test_baked_png_carries_the_jwt_and_openbadgeslib_verifies_it(client: Any, session: Any) -> None:
    submission = passed_submission()
    submission.version.image = CredentialImageFactory(data=png_bytes(8, 8))
    badge = award(submission)
    png = client.get(f"/badges/{badge.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    token = OB3Verifier.extract_token_from_png(png.data)
    assert token == badge.jwt
    rsa_pub = _rsa_public(client, badge)
    OB3Verifier(rsa_pub).verify(token, check_status=True, download=downloader(client))
    svg = client.get(f"/badges/{badge.id}.svg").data
    OB3Verifier(rsa_pub).verify(OB3Verifier.extract_token_from_svg(svg), check_status=True, download=downloader(client))
    # A tampered image (the baked token altered) is refused.
    forged = png.data.replace(badge.jwt[-20:].encode(), b"A" * 20)
    with pytest.raises(Exception):  # noqa: B017 (openbadgeslib raises its own error types)
        OB3Verifier(rsa_pub).verify(OB3Verifier.extract_token_from_png(forged))


def _rsa_public(client: Any, badge: Badge) -> Any:
    kid = jwt.get_unverified_header(badge.jwt)["kid"]
    jwk = client.get(kid.removeprefix("http://localhost")).json
    return jwt.PyJWK(jwk).key


@pytest.mark.parametrize("path", ["/badges/{id}", "/badges/{id}.json", "/badges/{id}.jwt", "/badges/{id}.svg"])
def test_unknown_badges_are_404(client: Any, session: Any, path: str) -> None:
    problem(client.get(path.format(id=uuid.uuid4()), headers={"Accept": "application/json"}), 404)
    assert client.get("/badges/not-a-uuid").status_code == 404


def test_kid_url_is_a_bare_public_jwk_and_jwks_lists_it(client: Any, badge: Badge) -> None:
    kid = jwt.get_unverified_header(badge.jwt)["kid"]
    assert kid.startswith(f"http://localhost/issuers/{badge.organisation_id}/keys/")
    jwk = client.get(kid.removeprefix("http://localhost")).json
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and not {"d", "p", "q"} & set(jwk)
    assert jwk in client.get("/.well-known/jwks.json").json["keys"]
    other = OrganisationFactory()
    problem(client.get(f"/issuers/{other.id}/keys/{jwk['kid']}", headers={"Accept": "application/json"}), 404)
    problem(client.get(f"/issuers/{badge.organisation_id}/keys/nope", headers={"Accept": "application/json"}), 404)


def test_did_web_document_lists_multikey_and_jwk(client: Any, badge: Badge) -> None:
    doc = client.get(f"/issuers/{badge.organisation_id}/did.json").json
    assert doc["id"] == f"did:web:localhost:issuers:{badge.organisation_id}"
    types = {m["type"] for m in doc["verificationMethod"]}
    assert types == {"Multikey", "JsonWebKey"}
    method = next(m for m in doc["verificationMethod"] if m["type"] == "Multikey")
    assert method["controller"] == doc["id"] == badge.credential["issuer"]["id"]
    assert badge.credential["proof"][0]["verificationMethod"] == method["id"]
    assert method["id"] in doc["assertionMethod"]
    assert doc["alsoKnownAs"] == [f"http://localhost/issuers/{badge.organisation_id}"]


def test_issuer_profile_json_and_html(client: Any, badge: Badge) -> None:
    body = client.get(f"/issuers/{badge.organisation_id}", headers={"Accept": "application/ld+json"}).json
    assert body["type"] == ["Profile"] and body["name"] == badge.organisation.name
    assert body["id"] == badge.credential["issuer"]["id"]
    html = client.get(f"/issuers/{badge.organisation_id}").get_data(as_text=True)
    assert badge.organisation.name in html
    problem(client.get(f"/issuers/{uuid.uuid4()}", headers={"Accept": "application/json"}), 404)


def test_status_list_is_a_signed_jwt_by_default_and_json_with_di_by_accept(client: Any, badge: Badge) -> None:
    url = badge.credential["credentialStatus"]["statusListCredential"].removeprefix("http://localhost")
    token = client.get(url).get_data(as_text=True)
    payload = jwt.decode(token, _rsa_public(client, badge), algorithms=["RS256"], options={"verify_sub": False})
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    as_json = client.get(url, headers={"Accept": "application/vc+ld+json"}).json
    assert as_json["credentialSubject"]["encodedList"] == payload["credentialSubject"]["encodedList"]
    did = client.get(f"/issuers/{badge.organisation_id}/did.json").json
    multikey = next(m for m in did["verificationMethod"] if m["type"] == "Multikey")["publicKeyMultibase"]
    proofs.verify_eddsa_rdfc_2022(as_json, proofs.public_key_from_multikey(multikey))
    assert as_json["issuer"] == did["id"] == badge.credential["issuer"]["id"]
    assert as_json["proof"][0]["verificationMethod"] in did["assertionMethod"]
    problem(client.get(f"/status-lists/{uuid.uuid4()}", headers={"Accept": "application/json"}), 404)
    assert client.get(f"/status-lists/{uuid.uuid4()}").status_code == 404


def test_achievement_page_and_json(client: Any, badge: Badge) -> None:
    body = client.get(f"/achievements/{badge.version_id}", headers={"Accept": "application/json"}).json
    assert body["type"] == ["Achievement"] and body["name"] == badge.title
    html = client.get(f"/achievements/{badge.version_id}").get_data(as_text=True)
    assert badge.title in html and "Proficient" in html
    problem(client.get(f"/achievements/{uuid.uuid4()}", headers={"Accept": "application/json"}), 404)


def test_revoke_api(client: Any, badge: Badge) -> None:
    url = f"/api/v1/badges/{badge.id}/revoke"
    problem(client.post(url, json={"reason": "x"}), 401)
    problem(client.post(url, json={"reason": "x"}, headers=bearer(member(badge.organisation, Role.AUTHOR))), 403)
    admin = admin_of(badge)
    problem(client.post(url, json={}, headers=bearer(admin)), 422)
    problem(client.post(url, json={"reason": "  "}, headers=bearer(admin)), 422)
    problem(client.post(url, json={"reason": "x", "extra": 1}, headers=bearer(admin)), 422)
    response = client.post(url, json={"reason": "Awarded in error"}, headers=bearer(admin))
    assert response.status_code == 200 and response.json["status"] == "revoked"
    problem(client.post(url, json={"reason": "again"}, headers=bearer(admin)), 409)
    problem(client.post(f"/api/v1/badges/{uuid.uuid4()}/revoke", json={"reason": "x"}, headers=bearer(admin)), 404)
    assert "REVOKED" in client.get(f"/badges/{badge.id}").get_data(as_text=True)


def test_renew_api(client: Any, badge: Badge) -> None:
    admin = admin_of(badge)
    response = client.post(f"/api/v1/badges/{badge.id}/renew", headers=bearer(admin))
    assert response.status_code == 201 and response.json["renewed_from_id"] == str(badge.id)
    problem(client.post(f"/api/v1/badges/{badge.id}/renew", headers=bearer(admin)), 409)
    problem(client.post(f"/api/v1/badges/{badge.id}/renew", headers=bearer(member(badge.organisation))), 403)


def test_my_badges_api_and_page(client: Any, badge: Badge) -> None:
    user = db.session.get(User, badge.earner_id)
    response = client.get("/api/v1/me/badges", headers=bearer(user))
    assert response.status_code == 200
    [item] = response.json
    assert item["id"] == str(badge.id) and item["links"]["page"] == f"http://localhost/badges/{badge.id}"
    assert item["links"]["linkedin"].startswith("https://www.linkedin.com/profile/add?")
    assert client.get("/api/v1/me/badges", headers=bearer(member(OrganisationFactory()))).json == []
    problem(client.get("/api/v1/me/badges"), 401)
    assert client.get("/my/badges").status_code == 302


def test_did_api(client: Any, badge: Badge) -> None:
    user = member(OrganisationFactory())
    ok = client.put("/api/v1/me/did", json={"did": "did:web:example.org"}, headers=bearer(user))
    assert ok.status_code == 200 and ok.json == {"did": "did:web:example.org"}
    problem(client.put("/api/v1/me/did", json={"did": "not a did"}, headers=bearer(user)), 422)
    assert client.put("/api/v1/me/did", json={"did": None}, headers=bearer(user)).json == {"did": None}


def test_key_rotation_api(client: Any, badge: Badge) -> None:
    url = f"/api/v1/organisations/{badge.organisation_id}/signing-keys"
    problem(client.post(url + "/rotate", headers=bearer(member(badge.organisation, Role.AUTHOR))), 403)
    admin = admin_of(badge)
    response = client.post(url + "/rotate", headers=bearer(admin))
    assert response.status_code == 201 and {k["algorithm"] for k in response.json} == {"Ed25519", "RS256"}
    listed = client.get(url, headers=bearer(admin)).json
    assert sorted(k["state"] for k in listed) == ["active", "active", "retired", "retired"]
    assert all("private" not in str(k).lower() and "d" not in k["public_jwk"] for k in listed)


def test_every_issued_kind_passes_the_schema(session: Any) -> None:
    private = award(passed_submission(evidence_public=False))
    no_expiry = award(passed_submission(validity_days=None))
    assert "validUntil" not in no_expiry.credential
    for item in (private, no_expiry):
        assert schema_errors(item.credential) == []


def test_my_badges_page_lists_the_signed_in_earners_badges_with_share_links(client: Any, badge: Badge) -> None:
    from tests.core.test_web import BROWSER, sign_in

    user = db.session.get(User, badge.earner_id)
    other = award(passed_submission())  # someone else's
    sign_in(client, user.email)
    html = client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    assert f"http://localhost/badges/{badge.id}" in html and badge.title in html
    assert "Copy link" in html and "linkedin.com/profile/add" in html and f"/badges/{badge.id}.svg" in html
    assert str(other.id) not in html
