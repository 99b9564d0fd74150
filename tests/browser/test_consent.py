"""An organisation requires acceptance; its new badge waits on the earner's "My badges": the badge page says it
is pending and offers nothing to share; the earner accepts it, then hides it from public view; the admin sees
who has not accepted and turns the setting off on the issuer page."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, member


@pytest.fixture(scope="module")
def people(live_server: Any) -> dict[str, str]:
    tag = unique("consent")
    with live_server.seed():
        from badges import consent
        from tests.badges.issued import award, passed_submission

        organisation = OrganisationFactory(name=f"Lakeside District {tag}")
        version = CredentialVersionFactory(organisation=organisation, published=True, title=f"Wait time {tag}")
        admin = member(organisation, Role.ORG_ADMIN, name="Ada Admin", email=f"ada-{tag}@example.org")
        consent.set_requires_acceptance(actor=admin, organisation_id=organisation.id, require=True)
        passed = passed_submission(version=version)
        badge = award(passed)
        earner = passed.earner
        earner.email, earner.name = f"earner-{tag}@example.org", f"Elin {tag}"
        return {
            "tag": tag,
            "admin": admin.email,
            "earner": earner.email,
            "name": earner.name,
            "badge": str(badge.id),
            "org": str(organisation.id),
            "title": version.title,
        }


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def test_earner_accepts_a_pending_badge_and_later_hides_it(page: Any, people: dict[str, str]) -> None:
    login(page, people["earner"], TEST_PASSWORD)
    _click(page, page.get_by_role("link", name="My badges", exact=True))
    waiting = page.get_by_role("region", name="Waiting for your answer")
    assert people["title"] in waiting.inner_text()
    check_page(page, "my-badges-pending")

    _click(page, waiting.get_by_role("link", name=people["title"]))
    main = page.locator("main").inner_text()
    assert "PENDING ACCEPTANCE" in main and "not public until its earner accepts it" in main
    assert page.get_by_role("link", name="Add to LinkedIn profile").count() == 0
    check_page(page, "badge-pending")
    _click(page, page.get_by_role("link", name="Accept or decline it on My badges"))

    _click(page, page.get_by_role("button", name=f"Accept {people['title']}"))
    assert "Badge accepted" in page.locator(".flashes").inner_text()
    assert page.get_by_role("region", name="Waiting for your answer").count() == 0
    row = page.get_by_role("row").filter(has_text=people["title"])
    assert row.get_by_role("link", name="Add to LinkedIn").is_visible()
    check_page(page, "my-badges-accepted")

    _click(page, row.get_by_role("button", name=f"Hide from public view {people['title']}"))
    row = page.get_by_role("row").filter(has_text=people["title"])
    assert "Hidden from public view" in row.inner_text()
    assert row.get_by_role("button", name=f"Show publicly {people['title']}").is_visible()
    logout(page)

    page.goto(f"/badges/{people['badge']}")
    main = page.locator("main").inner_text()
    assert "VALID" in main and "hidden this badge from public view" in main
    assert people["name"] not in main
    assert page.get_by_role("link", name="Add to LinkedIn profile").count() == 0
    check_page(page, "badge-hidden")


def test_admin_sees_who_has_not_accepted_and_turns_the_setting_off(page: Any, people: dict[str, str]) -> None:
    login(page, people["admin"], TEST_PASSWORD)
    page.goto(f"/organisations/{people['org']}/issuer")
    checkbox = page.get_by_label("Require acceptance")
    assert checkbox.is_checked()
    check_page(page, "issuer-consent")
    _click(page, page.get_by_role("link", name="Badges not accepted yet"))
    assert page.get_by_label("Earner's acceptance").input_value() == "pending"
    check_page(page, "badges-not-accepted")

    page.goto(f"/organisations/{people['org']}/issuer")
    page.get_by_label("Require acceptance").uncheck()
    _click(page, page.get_by_role("button", name="Save consent setting"))
    assert "public as soon as they are issued" in page.locator("main").inner_text()
    assert not page.get_by_label("Require acceptance").is_checked()
