"""Self-service start in the browser: a person signs up, finds they are no author yet, creates an organisation,
sees its first-run checklist, drafts a first micro-credential and completes the issuer profile, each step ticked."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import check_page, unique, visit
from tests.factories import png_bytes


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def _step(page: Any, key: str) -> Any:
    return page.locator(f'ol.checklist li[data-step="{key}"]')


def test_sign_up_create_an_organisation_and_follow_the_checklist(page: Any) -> None:
    tag = unique("self")
    visit(page, "/signup", "self-service-signup")
    page.get_by_label("Your name").fill("Sam Starter")
    page.get_by_label("Email address").fill(f"sam-{tag}@example.org")
    page.get_by_label("Password (at least 10 characters)").fill("a long enough passphrase")
    _submit(page, "Create account")

    # "New micro-credential" is no dead end: it says what to do.
    visit(page, "/authoring/new", "self-service-not-an-author", status=403)
    assert "not an author in any organisation yet" in page.get_by_role("heading", level=1).inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Create an organisation").click()
    check_page(page, "self-service-new-organisation")

    # A refused form keeps what was typed and ties the message to its field.
    page.get_by_label("Contact email").fill("not an email")
    _submit(page, "Create organisation")
    assert page.locator("#name-error").is_visible() and page.locator("#email-error").is_visible()
    assert page.get_by_label("Contact email").input_value() == "not an email"
    check_page(page, "self-service-new-organisation-errors")

    name = f"Oak Grove Schools {tag}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Kind of organisation").select_option(label="School district")
    page.get_by_label("Contact email").fill(f"office-{tag}@oakgrove.example")
    _submit(page, "Create organisation")
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert f"{name} is created" in page.locator(".notice").inner_text()
    assert "0 of 9 steps done" in page.locator("#checklist-progress").inner_text()
    assert "To do:" in _step(page, "drafted").inner_text()
    check_page(page, "self-service-checklist")
    overview = page.url

    # The checklist's link leads to "New micro-credential", which now works, for this organisation.
    with page.expect_navigation():
        _step(page, "drafted").get_by_role("link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "New micro-credential"
    page.get_by_label("Title").fill(f"Questioning techniques {tag}")
    _submit(page, "Create draft")
    assert "Draft created" in page.locator(".notice").inner_text()

    visit(page, overview)
    assert "Done:" in _step(page, "drafted").inner_text()
    assert "1 of 9 steps done" in page.locator("#checklist-progress").inner_text()

    # The issuer profile: the step's link, the form, and the tick.
    with page.expect_navigation():
        _step(page, "issuer_profile").get_by_role("link").click()
    check_page(page, "self-service-profile")
    page.get_by_label("Website").fill("https://oakgrove.example")
    page.get_by_label("Description").fill("Seven schools in the valley.")
    _submit(page, "Save profile")
    assert page.url == overview
    assert "Done:" in _step(page, "issuer_profile").inner_text()
    assert "2 of 9 steps done" in page.locator("#checklist-progress").inner_text()

    # The logo: the step's link leads to the issuer profile page, where the upload is; the logo shows once saved.
    with page.expect_navigation():
        _step(page, "issuer_logo").get_by_role("link").click()
    page.get_by_label("Logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes(64, 64)}]
    )
    _submit(page, "Save the profile")
    organisation_id = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", overview).group(0)
    visit(page, f"/issuers/{organisation_id}")
    logo = page.get_by_role("img", name=f"Logo of {name}")
    assert logo.evaluate("img => img.complete && img.naturalWidth") == 64
    check_page(page, "self-service-issuer-logo")
    visit(page, overview)
    assert "3 of 9 steps done" in page.locator("#checklist-progress").inner_text()
    # A unit (a school of the district): "Add a unit" on the overview, then the district lists it with its reports.
    with page.expect_navigation():
        page.get_by_role("link", name="Add a unit").click()
    assert page.get_by_label("Part of").input_value() != ""
    check_page(page, "self-service-new-unit")
    page.get_by_label("Name").fill(f"Oak Grove Elementary {tag}")
    _submit(page, "Create organisation")
    assert f"A unit of {name}" in page.locator("main").inner_text()
    visit(page, overview, "self-service-units")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Reports of Oak Grove Elementary {tag}").click()
    assert "/reports" in page.url

    # The founder is the organisation's admin: its tabs and the Organisation link are there.
    assert page.get_by_role("link", name="Organisation", exact=True).is_visible()
    assert page.get_by_role("link", name="My credentials").is_visible()
