"""The issuer profile page: an org admin edits the name, description, website, e-mail and logo; the public
issuer page, its Profile JSON and the badges issued afterwards show it. Hostile input is refused whole."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import select

from badges import issuers, proofs
from badges.models import IssuerImage
from core.errors import ServiceError
from core.models import AuditEvent, Role
from tests.badges.issued import admin_of, award, passed_submission, schema_errors
from tests.badges.test_issuing import _keys_of
from tests.core.test_web import BROWSER, location, page, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member, png_bytes

SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    b'<script>alert(2)</script><circle cx="5" cy="5" r="4" fill="#0b5cad"/></svg>'
)


def _form(token: str, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": token, "name": "Lakeside District", "description": "", "url": "", "email": ""} | fields


def _org_admin(session: Any) -> tuple[Any, Any]:
    organisation = OrganisationFactory(name="Old name")
    return organisation, member(organisation, Role.ORG_ADMIN)


def test_admin_edits_the_profile_and_logo_and_verifiers_see_it(client: Any, session: Any) -> None:
    organisation, admin = _org_admin(session)
    sign_in(client, admin.email)
    r, token = page(client, f"/organisations/{organisation.id}/issuer")
    assert f'href="/organisations/{organisation.id}/issuer/profile"' in text(r)
    url = f"/organisations/{organisation.id}/issuer/profile"
    r, token = page(client, url)
    assert 'value="Old name"' in text(r) and "image-preview.js" in text(r)
    logo = png_bytes(64, 64)
    form = _form(
        token,
        description="We support teachers' growth.",
        url="https://lakeside.example",
        email="badges@lakeside.example",
        image=(io.BytesIO(logo), "logo.png"),
    )
    r = client.post(url, data=form, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 302 and location(r) == f"/organisations/{organisation.id}/issuer"

    public = text(client.get(f"/issuers/{organisation.id}", headers=BROWSER))
    assert "Lakeside District" in public and "We support teachers&#39; growth." in public
    assert f'src="/issuers/{organisation.id}/image"' in public
    image = client.get(f"/issuers/{organisation.id}/image")
    assert image.data == logo and image.mimetype == "image/png"
    assert "sandbox" in image.headers["Content-Security-Policy"] and image.headers["ETag"]
    assert (
        client.get(f"/issuers/{organisation.id}/image", headers={"If-None-Match": image.headers["ETag"]}).status_code
        == 304
    )
    profile = client.get(f"/issuers/{organisation.id}", headers={"Accept": "application/ld+json"}).get_json()
    assert profile["image"] == {
        "id": f"http://localhost/issuers/{organisation.id}/image",
        "type": "Image",
        "caption": "Logo of Lakeside District",
    }
    assert profile["url"] == "https://lakeside.example" and profile["email"] == "badges@lakeside.example"
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.organisation_id == organisation.id)))
    assert {"organisation.updated", "issuer.image_set"} <= actions

    session.refresh(organisation)  # the page's request changed it in its own session
    # A badge issued from now on names the issuer with its logo, stays schema-valid and its proof verifies.
    badge = award(passed_submission(version=CredentialVersionFactory(organisation=organisation, published=True)))
    assert badge.credential["issuer"]["image"]["id"].endswith(f"/issuers/{organisation.id}/image")
    assert badge.credential["issuer"]["name"] == "Lakeside District"
    assert schema_errors(badge.credential) == []
    proofs.verify_eddsa_rdfc_2022(badge.credential, _keys_of(badge)[0])


def test_changing_only_the_logo_records_only_the_logo(session: Any) -> None:
    organisation, admin = _org_admin(session)
    version = organisation.version
    issuers.update_profile(actor=admin, organisation_id=organisation.id, changes={}, image=png_bytes(8, 8))
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.organisation_id == organisation.id)))
    assert actions == ["issuer.image_set"] and organisation.version == version
    stranger = member(OrganisationFactory(), Role.ORG_ADMIN)
    with pytest.raises(ServiceError):
        issuers.update_profile(actor=stranger, organisation_id=organisation.id, changes={}, remove_image=True)
    assert session.get(IssuerImage, organisation.id) is not None


def test_an_svg_logo_is_cleaned_and_can_be_removed(client: Any, session: Any) -> None:
    organisation, admin = _org_admin(session)
    sign_in(client, admin.email)
    url = f"/organisations/{organisation.id}/issuer/profile"
    _, token = page(client, url)
    r = client.post(
        url,
        data=_form(token, image=(io.BytesIO(SVG_WITH_SCRIPT), "logo.svg")),
        headers=BROWSER,
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    stored = session.get(IssuerImage, organisation.id)
    session.refresh(stored)
    assert stored.media_type == "image/svg+xml" and b"script" not in stored.data and b"onload" not in stored.data
    r, token = page(client, url)
    assert "Remove the logo" in text(r)
    r = client.post(url, data=_form(token, remove_image="on"), headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 302
    assert client.get(f"/issuers/{organisation.id}/image").status_code == 404
    assert "image" not in client.get(f"/issuers/{organisation.id}", headers={"Accept": "application/json"}).get_json()


def test_hostile_profile_input_is_refused_whole_with_each_message_at_its_field(client: Any, session: Any) -> None:
    organisation, admin = _org_admin(session)
    sign_in(client, admin.email)
    url = f"/organisations/{organisation.id}/issuer/profile"
    _, token = page(client, url)
    cases = [
        ({"name": "  "}, "name", "Must not be blank."),
        ({"url": "javascript:alert(1)"}, "url", "Not a valid URL."),
        ({"email": "not an address"}, "email", "Not a valid email address."),
        ({"name": "x" * 201}, "name", "Longer than maximum length 200."),
        ({"image": (io.BytesIO(b"MZ\x90\x00 an executable"), "logo.png")}, "image", "Upload a PNG or an SVG image."),
        ({"image": (io.BytesIO(b"GIF89a\x01\x00\x01\x00"), "logo.gif")}, "image", "Upload a PNG or an SVG image."),
        ({"image": (io.BytesIO(png_bytes(4096, 1)), "wide.png")}, "image", "at most 2048x2048 pixels"),
        ({"image": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 600_000), "big.png")}, "image", "at most 512 KiB"),
        ({"image": (io.BytesIO(b'<svg xmlns="x"><!ENTITY a "b"></svg>'), "e.svg")}, "image", "DOCTYPE or entities"),
    ]
    for fields, field, message in cases:
        r = client.post(url, data=_form(token, **fields), headers=BROWSER, content_type="multipart/form-data")
        html = text(r)
        assert r.status_code == 422, (fields, r.status_code)
        assert message in html.replace("&#39;", "'"), (fields, html[:3000])
        assert f'href="#{field}"' in html and f'id="{field}-error"' in html
    session.refresh(organisation)
    assert organisation.name == "Old name" and session.get(IssuerImage, organisation.id) is None


def test_a_stale_form_and_other_people_are_refused(client: Any, session: Any) -> None:
    organisation, admin = _org_admin(session)
    sign_in(client, admin.email)
    url = f"/organisations/{organisation.id}/issuer/profile"
    _, token = page(client, url)
    r = client.post(url, data=_form(token, version="0"), headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 412 and "changed by someone else" in text(r)
    assert client.post(url, data=_form(""), headers=BROWSER).status_code == 400  # no CSRF token
    session.refresh(organisation)
    assert organisation.name == "Old name"

    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    other_admin = member(OrganisationFactory(), Role.ORG_ADMIN)
    sign_in(client, other_admin.email)
    assert client.get(url, headers=BROWSER).status_code in (403, 404)
    _, token = page(client, "/account")
    r = client.post(url, data=_form(token), headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code in (403, 404)
    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    sign_in(client, member(organisation, Role.ASSESSOR, Role.AUTHOR).email)
    assert client.get(url, headers=BROWSER).status_code == 403
    session.refresh(organisation)
    assert organisation.name == "Old name"


def test_the_issuer_image_of_an_issuer_without_a_logo_is_not_found(client: Any, session: Any) -> None:
    badge = award(passed_submission())
    assert admin_of(badge) is not None
    assert client.get(f"/issuers/{badge.organisation_id}/image").status_code == 404
    assert "image" not in badge.credential["issuer"]


def test_the_logo_over_the_api(client: Any, session: Any) -> None:
    from tests.conftest import bearer, problem

    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    url = f"/api/v1/organisations/{organisation.id}/issuer-logo"
    problem(client.put(url, data=b"not an image", content_type="image/png", headers=bearer(admin)), 422)
    problem(client.put(url, data=png_bytes(8, 8), content_type="image/png", headers=bearer(member(organisation))), 403)
    problem(client.put(url, data=b"{}", content_type="application/json", headers=bearer(admin)), 415)
    done = client.put(url, data=png_bytes(8, 8), content_type="image/png", headers=bearer(admin))
    assert done.status_code == 200 and done.json["media_type"] == "image/png"
    assert done.json["url"].endswith(f"/issuers/{organisation.id}/image")
    assert client.get(f"/issuers/{organisation.id}/image").data == png_bytes(8, 8)
    upload = {"file": (io.BytesIO(SVG_WITH_SCRIPT), "logo.svg", "image/svg+xml")}
    svg = client.put(url, data=upload, content_type="multipart/form-data", headers=bearer(admin))
    assert svg.status_code == 200 and b"onload" not in client.get(f"/issuers/{organisation.id}/image").data
    assert client.delete(url, headers=bearer(admin)).status_code == 204
    assert client.get(f"/issuers/{organisation.id}/image").status_code == 404
