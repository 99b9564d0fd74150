"""Misconduct in a browser: an admin records a decision from the badges list (the badge is suspended), the earner
reads the finding from "My badges" and appeals, a second admin upholds the appeal's decision and the badge's page
says REVOKED — each page axe-checked, on a phone too."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, member

FINDING = "Two reflections repeat, word for word, another educator's submission from last year."


@pytest.fixture(scope="module")
def people(live_server: Any) -> dict[str, str]:
    tag = unique("misconduct")
    with live_server.seed():
        from tests.badges.issued import award, passed_submission

        organisation = OrganisationFactory(name=f"Hillcrest District {tag}")
        version = CredentialVersionFactory(organisation=organisation, published=True, title=f"Questioning {tag}")
        admin = member(organisation, Role.ORG_ADMIN, name="Ada Admin", email=f"ada-{tag}@example.org")
        second = member(organisation, Role.ORG_ADMIN, name="Ben Board", email=f"ben-{tag}@example.org")
        passed = passed_submission(version=version)
        badge = award(passed)
        passed.earner.email, passed.earner.name = f"earner-{tag}@example.org", f"Elin {tag}"
        return {
            "admin": admin.email,
            "second": second.email,
            "earner": passed.earner.email,
            "badge": str(badge.id),
            "org": str(organisation.id),
            "title": version.title,
        }


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def test_decision_appeal_and_ruling(page: Any, people: dict[str, str]) -> None:
    login(page, people["admin"], TEST_PASSWORD)
    page.goto(f"/organisations/{people['org']}/badges")
    row = page.get_by_role("row").filter(has_text=people["title"])
    _click(page, row.get_by_role("link", name="Misconduct…"))
    check_page(page, "misconduct-decide")
    _click(page, page.get_by_role("button", name="Record the decision and suspend the badge"))
    assert "Say what was found" in page.locator(".error-summary").inner_text()  # nothing was recorded
    page.get_by_label("What was found, and on what evidence").fill(FINDING)
    page.get_by_label("Policy or rule (optional)").fill("Handbook §4.2")
    _click(page, page.get_by_role("button", name="Record the decision and suspend the badge"))
    assert "Decision recorded" in page.locator(".flashes").inner_text()
    assert "You made this decision" not in page.locator("main").inner_text()  # no appeal yet
    check_page(page, "misconduct-case-open")
    logout(page)

    page.goto(f"/badges/{people['badge']}")
    main = page.locator("main").inner_text()
    assert "SUSPENDED" in main and "misconduct decision" in main and FINDING not in main

    login(page, people["earner"], TEST_PASSWORD)
    _click(page, page.get_by_role("link", name="My badges", exact=True))
    notice = page.get_by_role("region", name="Misconduct decisions about your badges")
    _click(page, notice.get_by_role("link", name=people["title"]))
    assert FINDING in page.locator("main").inner_text()
    check_page(page, "misconduct-mine")
    page.get_by_label("Why the decision is wrong").fill("My drafts, dated last spring, are attached to the portfolio.")
    _click(page, page.get_by_role("button", name="Send my appeal"))
    assert "Your appeal is sent" in page.locator(".flashes").inner_text()
    assert page.get_by_role("button", name="Send my appeal").count() == 0
    logout(page)

    login(page, people["second"], TEST_PASSWORD)
    page.goto(f"/organisations/{people['org']}/misconduct")
    check_page(page, "misconduct-cases")
    _click(page, page.get_by_role("link", name=people["title"]))
    assert "My drafts, dated last spring" in page.locator("main").inner_text()
    page.get_by_label("Uphold the decision: the badge is revoked, permanently").check()
    page.get_by_label("Reasons for the outcome").fill("The drafts post-date the other submission.")
    _click(page, page.get_by_role("button", name="Rule on the appeal"))
    assert "Appeal ruled on" in page.locator(".flashes").inner_text()
    check_page(page, "misconduct-case-ruled")
    logout(page)

    page.goto(f"/badges/{people['badge']}")
    assert "REVOKED" in page.locator("main").inner_text()
