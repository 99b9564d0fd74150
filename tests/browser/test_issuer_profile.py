"""An org admin edits the issuer profile in the browser: from the Issuer and keys tab to the edit page, a refused
file (not an image) with its message at the field, then name, description, website and a PNG logo previewed
before it is saved; the public issuer page shows them."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import OrganisationFactory, member, png_bytes


@pytest.fixture(scope="module")
def org(live_server: Any) -> dict[str, str]:
    tag = unique("issuer")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Old name {tag}")
        admin = member(organisation, Role.ORG_ADMIN, email=f"issuer-admin-{tag}@example.org")
        return {"tag": tag, "id": str(organisation.id), "admin": admin.email}


def test_admin_edits_the_issuer_profile_with_a_logo(page: Any, org: dict[str, str], tmp_path: Any) -> None:
    login(page, org["admin"], TEST_PASSWORD)
    visit(page, f"/organisations/{org['id']}/issuer")
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the issuer profile").click()
    check_page(page, "issuer-profile-edit")

    not_an_image = tmp_path / "logo.png"
    not_an_image.write_bytes(b"MZ\x90\x00 this is a program, not a picture")
    page.get_by_label("Logo").set_input_files(str(not_an_image))
    with page.expect_navigation():
        page.get_by_role("button", name="Save the profile").click()
    field_error = page.locator("#image-error")
    assert "Upload a PNG or an SVG image." in field_error.inner_text()
    assert page.get_by_label("Logo").get_attribute("aria-invalid") == "true"
    check_page(page, "issuer-profile-refused")

    logo = tmp_path / "lakeside.png"
    logo.write_bytes(png_bytes(120, 120))
    new_name = f"Lakeside District {org['tag']}"
    page.get_by_role("textbox", name="Name").fill(new_name)
    page.get_by_label("Description").fill("We recognise teachers' growth in the classroom.")
    page.get_by_label("Website").fill("https://lakeside.example")
    page.get_by_label("Logo").set_input_files(str(logo))
    preview = page.locator("#image-preview")
    preview.wait_for(state="visible")
    assert preview.evaluate("img => img.naturalWidth") == 120
    assert "lakeside.png" in page.locator("#image-preview-note").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Save the profile").click()
    assert "Issuer profile saved" in page.locator(".flashes").inner_text()

    visit(page, f"/issuers/{org['id']}", "issuer-public-with-logo")
    assert page.get_by_role("heading", level=1).inner_text() == new_name
    assert "We recognise teachers' growth in the classroom." in page.locator("main").inner_text()
    logo_img = page.get_by_role("img", name=f"Logo of {new_name}")
    assert logo_img.evaluate("img => img.complete && img.naturalWidth") == 120
