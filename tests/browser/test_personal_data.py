"""A person downloads their data and asks for erasure from their account page; the organisation's admin finds
the request under the organisation's tabs and carries it out; the person can no longer sign in."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique
from tests.browser.test_orgadmin import _submit
from tests.conftest import TEST_PASSWORD
from tests.factories import AnswerFactory, OrganisationFactory, SubmissionFactory, member


@pytest.fixture(scope="module")
def people(live_server: Any) -> dict[str, str]:
    tag = unique("pd")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Harbour District {tag}")
        admin = member(organisation, Role.ORG_ADMIN, name="Hana Admin", email=f"hana-{tag}@example.org")
        earner = member(organisation, Role.AUTHOR, name="Esme Earnwell", email=f"esme-{tag}@example.org")
        submission = SubmissionFactory(version__organisation=organisation, earner=earner)
        AnswerFactory(submission=submission, text=f"My reflection {tag}")
        return {"tag": tag, "admin": admin.email, "earner": earner.email, "org": organisation.name}


def test_download_ask_for_erasure_and_an_admin_carries_it_out(page: Any, people: dict[str, str]) -> None:
    login(page, people["earner"], TEST_PASSWORD)
    page.goto("/account")
    check_page(page, "account-your-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your data (ZIP)").click()
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        [submission] = json.loads(archive.read("submissions.json"))
        assert submission["answers"][0]["text"] == f"My reflection {people['tag']}"
        assert "README.txt" in archive.namelist()

    _submit(page.get_by_role("link", name="Ask for your data to be erased"), page)
    check_page(page, "erasure-confirm")
    _submit(page.get_by_role("button", name="Ask for erasure"), page)
    assert "Tick the box" in page.locator("#confirm-error").inner_text()
    page.get_by_label("I understand").check()
    _submit(page.get_by_role("button", name="Ask for erasure"), page)
    assert "Your request is sent" in page.locator(".notice").first.inner_text()
    check_page(page, "erasure-pending")
    logout(page)

    login(page, people["admin"], TEST_PASSWORD)
    page.get_by_role("link", name="Organisation", exact=True).click()
    _submit(page.get_by_role("link", name="Erasure requests"), page)
    check_page(page, "erasure-requests")
    _submit(page.get_by_role("link", name="Esme Earnwell"), page)
    check_page(page, "erasure-request")
    page.get_by_label("I have checked this request").check()
    _submit(page.get_by_role("button", name="Erase now"), page)
    assert "Erased. The person is now person-" in page.locator(".notice").inner_text()
    assert "Esme" not in page.locator("main").inner_text()
    logout(page)

    page.goto("/login")
    page.get_by_label("Email address").fill(people["earner"])
    page.get_by_label("Password").fill(TEST_PASSWORD)
    _submit(page.get_by_role("button", name="Sign in"), page)
    assert "/login" in page.url
