"""An org admin uploads a file of past awards and follows the import on its own page; a platform admin reads
the outgoing mail queue."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, UserFactory, member


@pytest.fixture(scope="module")
def org(live_server: Any) -> dict[str, str]:
    tag = unique("imp")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Harbour District {tag}")
        version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=None)
        admin = member(organisation, Role.ORG_ADMIN, name="Ike Importer", email=f"ike-{tag}@example.org")
        operator = UserFactory(email=f"ops-{tag}@example.org", is_platform_admin=True)
        return {"tag": tag, "admin": admin.email, "operator": operator.email, "version": str(version.id)}


def _upload(page: Any, name: str, data: bytes) -> None:
    page.get_by_label("CSV file of awards").set_input_files({"name": name, "mimeType": "text/csv", "buffer": data})
    with page.expect_navigation():
        page.get_by_role("button", name="Import").click()


def test_admin_imports_past_awards_and_watches_the_job(page: Any, org: dict[str, str]) -> None:
    login(page, org["admin"], TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("link", name="Organisation", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("link", name="Import past awards", exact=True).click()

    _upload(page, "wrong.csv", b"email,colour\nx@example.org,blue\n")
    assert "unknown column" in page.locator("#file-error").inner_text()
    check_page(page, "import-refused")

    rows = "".join(f"past{i}-{org['tag']}@example.org,Past {i},{org['version']},2023-0{i}-15,\n" for i in (1, 2, 3))
    _upload(page, "awards.csv", f"email,name,version_id,awarded_on,award_id\n{rows}".encode())
    assert "/badges/imports/" in page.url
    assert page.get_by_role("heading", name="done 3 of 3 rows").is_visible()
    assert page.locator("#import-progress").get_attribute("value") == "3"
    assert "3 badges issued, 0 skipped" in page.get_by_role("status").inner_text()
    assert page.get_by_role("row").filter(has_text="issued").count() == 3
    check_page(page, "import-done")

    with page.expect_navigation():
        page.get_by_role("link", name="Import another file").click()
    assert "3 of 3" in page.get_by_role("table", name="Recent imports").inner_text()
    with page.expect_navigation():
        page.get_by_role("table", name="Recent imports").get_by_role("link").first.click()
    with page.expect_navigation():
        page.get_by_role("row").filter(has_text="issued").first.get_by_role("link").click()
    assert "VALID" in page.locator("main").inner_text().upper()
    logout(page)


def test_platform_admin_reads_the_mail_queue(page: Any, org: dict[str, str]) -> None:
    login(page, org["operator"], TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("link", name="Mail", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Outgoing mail"
    check_page(page, "outbox")
    logout(page)
    login(page, org["admin"], TEST_PASSWORD)
    assert page.get_by_role("link", name="Mail", exact=True).count() == 0
    visit(page, "/admin/outbox/", status=403)
