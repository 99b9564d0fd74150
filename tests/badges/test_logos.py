"""The issuer's logo: uploaded by its admins (checked like badge images), served publicly and sandboxed, and
carried as the issuer Profile's ``image`` by the badges issued afterwards, which stay valid and verifiable."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from badges import issuers, logos
from badges.models import IssuerLogo
from core.db import db
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import AuditEvent, Role
from tests.badges.issued import award, passed_submission, schema_errors
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member, png_bytes

HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
    b'<script>alert(2)</script><rect width="10" height="10" fill="#0b5cad"/>'
    b'<image href="https://evil.example/x.png"/></svg>'
)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("issuer.logo%"))))


def test_a_logo_becomes_the_profile_image_of_new_badges_which_stay_valid(client, session):
    organisation = OrganisationFactory(url="https://district.example", email="badges@district.example")
    admin = member(organisation, Role.ORG_ADMIN)
    logos.set_logo(actor=admin, organisation_id=organisation.id, data=png_bytes(64, 64))

    _, profile = issuers.issuer_profile(organisation_id=organisation.id)
    url = f"http://localhost/issuers/{organisation.id}/logo"
    assert profile["image"] == {"id": url, "type": "Image", "caption": f"Logo of {organisation.name}"}
    version = CredentialVersionFactory(published=True, organisation=organisation)
    badge = award(passed_submission(version=version))
    assert badge.credential["issuer"]["image"]["id"] == url
    assert schema_errors(badge.credential) == []
    report = client.post("/api/v1/verify", json={"credential": badge.credential}).get_json()
    assert report["status"] == "valid", [c for c in report["checks"] if not c["passed"]]
    assert _actions() == ["issuer.logo_set"]
    page = client.get(f"/issuers/{organisation.id}", headers={"Accept": "text/html"})
    assert f'src="{url}" alt="Logo of {organisation.name}"' in page.get_data(as_text=True)


def test_the_logo_is_public_sandboxed_and_cacheable(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    logos.set_logo(actor=admin, organisation_id=organisation.id, data=HOSTILE_SVG)

    r = client.get(f"/issuers/{organisation.id}/logo")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert "sandbox" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    body = r.get_data()
    assert b"<rect" in body and b"script" not in body and b"onload" not in body and b"evil.example" not in body
    again = client.get(f"/issuers/{organisation.id}/logo", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert client.get(f"/issuers/{OrganisationFactory().id}/logo").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"GIF89a\x01\x00\x01\x00", "PNG or an SVG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "damaged"),
        (png_bytes(4096, 1), "2048"),
        (b"<svg" + b" " * (600 * 1024), "KiB"),
    ],
    ids=["empty", "gif", "broken-png", "too-wide", "too-big"],
)
def test_a_bad_file_is_refused_naming_the_problem_and_nothing_is_stored(session, data, message):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        logos.set_logo(actor=admin, organisation_id=organisation.id, data=data)
    assert caught.value.errors[0]["field"] == "file" and message in caught.value.errors[0]["detail"]
    assert db.session.get(IssuerLogo, organisation.id) is None


def test_only_the_organisations_admins_set_or_remove_it(session):
    organisation = OrganisationFactory()
    with pytest.raises(Forbidden):
        logos.set_logo(actor=member(organisation, Role.AUTHOR), organisation_id=organisation.id, data=png_bytes())
    with pytest.raises(NotFound):  # another organisation's admin learns nothing
        logos.set_logo(
            actor=member(OrganisationFactory(), Role.ORG_ADMIN), organisation_id=organisation.id, data=png_bytes()
        )
    admin = member(organisation, Role.ORG_ADMIN)
    with pytest.raises(NotFound):
        logos.remove_logo(actor=admin, organisation_id=organisation.id)
    logos.set_logo(actor=admin, organisation_id=organisation.id, data=png_bytes())
    logos.set_logo(actor=admin, organisation_id=organisation.id, data=png_bytes(2, 2))  # replaced, not added
    logos.remove_logo(actor=admin, organisation_id=organisation.id)
    assert "image" not in issuers.issuer_profile(organisation_id=organisation.id)[1]
    assert _actions() == ["issuer.logo_set", "issuer.logo_set", "issuer.logo_removed"]


def test_api_put_and_delete_the_logo(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    url = f"/api/v1/organisations/{organisation.id}/issuer-logo"
    r = client.put(url, data=png_bytes(8, 8), content_type="image/png", headers=bearer(admin))
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"url": f"http://localhost/issuers/{organisation.id}/logo", "media_type": "image/png"}
    upload = {"file": (io.BytesIO(HOSTILE_SVG), "logo.svg", "image/svg+xml")}
    r = client.put(url, data=upload, content_type="multipart/form-data", headers=bearer(admin))
    assert r.status_code == 200 and r.get_json()["media_type"] == "image/svg+xml"
    body = problem(client.put(url, data=b"GIF89a", content_type="image/png", headers=bearer(admin)), 422)
    assert body["errors"][0]["field"] == "file"
    problem(client.put(url, data={}, content_type="multipart/form-data", headers=bearer(admin)), 422)
    problem(client.put(url, json={"image": "x"}, headers=bearer(admin)), 415)
    problem(
        client.put(url, data=png_bytes(), content_type="image/png", headers=bearer(member(organisation, Role.AUTHOR))),
        403,
    )
    problem(client.put(url, data=png_bytes(), content_type="image/png"), 401)
    assert client.delete(url, headers=bearer(admin)).status_code == 204
    problem(client.delete(url, headers=bearer(admin)), 404)


def test_the_issuer_page_uploads_and_removes_the_logo(client, session):
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    sign_in(client, admin.email)
    page = f"/organisations/{organisation.id}/issuer"
    token = csrf_token(text(client.get(page, headers=BROWSER)))
    r = client.post(f"{page}/logo", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 422 and 'id="logo-error"' in text(r) and "Choose a PNG or SVG" in text(r)
    bad = {"csrf_token": token, "file": (io.BytesIO(b"GIF89a"), "logo.gif")}
    r = client.post(f"{page}/logo", data=bad, content_type="multipart/form-data", headers=BROWSER)
    assert r.status_code == 422 and "PNG or an SVG" in text(r)
    good = {"csrf_token": token, "file": (io.BytesIO(png_bytes(32, 32)), "logo.png")}
    r = client.post(f"{page}/logo", data=good, content_type="multipart/form-data", headers=BROWSER)
    assert r.status_code == 302
    html = text(client.get(location(r), headers=BROWSER))
    assert f'src="http://localhost/issuers/{organisation.id}/logo"' in html and "Logo saved" in html
    r = client.post(f"{page}/logo/remove", data={"csrf_token": token}, headers=BROWSER)
    assert "Logo removed" in text(client.get(location(r), headers=BROWSER))
    assert db.session.get(IssuerLogo, organisation.id) is None
