"""An author sets a draft's badge image in the browser: the Badge image tab shows the generated design; a file
that is not an image is refused at its field; a PNG is previewed before it is saved, then shown as the image;
"Use the generated design instead" goes back."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, member, png_bytes


@pytest.fixture(scope="module")
def draft(live_server: Any) -> dict[str, str]:
    tag = unique("img")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Hilltop Schools {tag}")
        author = member(organisation, Role.AUTHOR, email=f"img-author-{tag}@example.org")
        version = CredentialVersionFactory(organisation=organisation, title=f"Reading aloud {tag}")
        return {"id": str(version.id), "author": author.email, "title": version.title}


def test_author_uploads_a_badge_image_with_a_preview(page: Any, draft: dict[str, str], tmp_path: Any) -> None:
    login(page, draft["author"], TEST_PASSWORD)
    visit(page, f"/authoring/versions/{draft['id']}")
    with page.expect_navigation():
        page.get_by_role("link", name="Badge image").click()
    assert "The generated design" in page.locator("main").inner_text()
    check_page(page, "badge-image")

    script = tmp_path / "badge.png"
    script.write_bytes(b"#!/bin/sh\necho not a picture\n")
    page.get_by_label("Badge image file").set_input_files(str(script))
    with page.expect_navigation():
        page.get_by_role("button", name="Save this image").click()
    assert "Upload a PNG or an SVG image." in page.locator("#image-error").inner_text()
    check_page(page, "badge-image-refused")

    picture = tmp_path / "reading.png"
    picture.write_bytes(png_bytes(300, 300))
    page.get_by_label("Badge image file").set_input_files(str(picture))
    preview = page.locator("#image-preview")
    preview.wait_for(state="visible")
    assert preview.evaluate("img => img.naturalWidth") == 300
    with page.expect_navigation():
        page.get_by_role("button", name="Save this image").click()
    assert "Badge image saved" in page.locator(".flashes").inner_text()
    current = page.get_by_role("img", name=f"Badge image of {draft['title']}")
    assert current.evaluate("img => img.complete && img.naturalWidth") == 300
    assert "Uploaded (PNG)" in page.locator("main").inner_text()
    check_page(page, "badge-image-uploaded")

    with page.expect_navigation():
        page.get_by_role("button", name="Use the generated design instead").click()
    assert "The generated design" in page.locator("main").inner_text()
