"""The badge image page of a micro-credential version: an author sees the image, uploads a PNG or SVG (checked
by content, the SVG cleaned), goes back to the generated design; hostile files, other organisations and
published versions are refused."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from core.models import AuditEvent, Role
from credentials.authoring.models import CredentialVersion
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import CredentialVersionFactory, OrganisationFactory, member, png_bytes


def _page(client: Any, version: Any) -> tuple[str, str]:
    r = client.get(f"/authoring/versions/{version.id}/image", headers=BROWSER)
    assert r.status_code == 200, r.status_code
    return text(r), csrf_token(text(r))


def _upload(client: Any, version: Any, token: str, data: bytes, name: str = "badge.png") -> Any:
    return client.post(
        f"/authoring/versions/{version.id}/image",
        data={"csrf_token": token, "action": "upload", "image": (io.BytesIO(data), name)},
        headers=BROWSER,
        content_type="multipart/form-data",
    )


def _image_of(session: Any, version: Any) -> Any:
    session.expire_all()
    return session.get(CredentialVersion, version.id).image


def test_an_author_uploads_a_png_then_an_svg_then_goes_back_to_the_default(client: Any, session: Any) -> None:
    version = CredentialVersionFactory()
    sign_in(client, member(version.organisation, Role.AUTHOR).email)
    html, token = _page(client, version)
    assert "The generated design" in html and 'data-preview="image-preview"' in html
    overview = text(client.get(f"/authoring/versions/{version.id}", headers=BROWSER))
    assert f'href="/authoring/versions/{version.id}/image"' in overview  # the tab

    png = png_bytes(200, 200)
    r = _upload(client, version, token, png)
    assert r.status_code == 302 and location(r) == f"/authoring/versions/{version.id}/image"
    assert _image_of(session, version).data == png
    html, token = _page(client, version)
    assert "Uploaded (PNG)" in html
    shown = client.get(f"/catalogue/{version.id}/image")  # the team sees the draft's image
    assert shown.data == png and "sandbox" in shown.headers["Content-Security-Policy"]

    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b'<script>x</script><rect width="4" height="4"/></svg>'
    )
    assert _upload(client, version, token, svg, "badge.png").status_code == 302  # the name is not trusted
    stored = _image_of(session, version)
    assert stored.media_type == "image/svg+xml" and b"script" not in stored.data and b"onload" not in stored.data

    r = client.post(
        f"/authoring/versions/{version.id}/image", data={"csrf_token": token, "action": "default"}, headers=BROWSER
    )
    assert r.status_code == 302 and _image_of(session, version) is None
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(version.id))))
    assert actions.count("credential.image_set") == 2 and "credential.image_removed" in actions


def test_hostile_files_are_refused_at_the_field_and_change_nothing(client: Any, session: Any) -> None:
    version = CredentialVersionFactory()
    sign_in(client, member(version.organisation, Role.AUTHOR).email)
    _, token = _page(client, version)
    cases = [
        (b"MZ\x90\x00 a program", "badge.png", "Upload a PNG or an SVG image."),
        (b"\xff\xd8\xff\xe0 a jpeg", "badge.jpg", "Upload a PNG or an SVG image."),
        (b"", "empty.png", "Choose a PNG or SVG file to upload."),
        (png_bytes(3000, 2), "huge.png", "at most 2048x2048 pixels"),
        (b"\x89PNG\r\n\x1a\n" + bytes(600_000), "big.png", "at most 512 KiB"),
        (png_bytes(4, 4)[:-12], "cut.png", "truncated"),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg/>', "x.svg", "DOCTYPE or entities"),
        (b"<svg><g>" * 100 + b"</g></svg>", "deep.svg", "well-formed"),
    ]
    for data, name, message in cases:
        r = _upload(client, version, token, data, name)
        html = text(r).replace("&#39;", "'")
        assert r.status_code == 422, (name, r.status_code)
        assert message in html, (name, html[:2000])
        assert 'id="image-error"' in html and 'aria-invalid="true"' in html and 'href="#image"' in html
    assert _image_of(session, version) is None
    assert client.post(f"/authoring/versions/{version.id}/image", data={}, headers=BROWSER).status_code == 400


def test_other_organisations_and_published_versions_cannot_change_the_image(client: Any, session: Any) -> None:
    version = CredentialVersionFactory()
    published = CredentialVersionFactory(organisation=version.organisation, published=True)
    outsider = member(OrganisationFactory(), Role.AUTHOR, Role.ORG_ADMIN)
    sign_in(client, outsider.email)
    r = client.get("/account", headers=BROWSER)
    token = csrf_token(text(r))
    assert client.get(f"/authoring/versions/{version.id}/image", headers=BROWSER).status_code == 404
    assert _upload(client, version, token, png_bytes(4, 4)).status_code == 404
    assert _image_of(session, version) is None
    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)

    sign_in(client, member(version.organisation, Role.ASSESSOR).email)  # a member, not an author: drafts are hidden
    assert client.get(f"/authoring/versions/{version.id}/image", headers=BROWSER).status_code == 404
    client.post("/logout", data={"csrf_token": token}, headers=BROWSER)

    sign_in(client, member(version.organisation, Role.AUTHOR).email)
    html, token = _page(client, published)
    assert "its image cannot change" in html and 'type="file"' not in html
    r = _upload(client, published, token, png_bytes(4, 4))
    assert r.status_code == 409 and _image_of(session, published) is None
