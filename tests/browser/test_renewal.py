"""Renewal by evidence, walked in the browser: the earner opens the link in the renewal invitation, sees what the
renewal asks for, starts it and submits current-practice evidence; an assessor sees it is a renewal and passes it
against the renewal rubric; the old badge's page says "Renewed by", the new one's "Renews", and "My badges" says
"renewed". Each page is checked with axe and for horizontal scroll at 390 px (``check_page``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import OrganisationFactory, QualificationFactory, member

PRACTICE = "This spring I taught the method to two new classes and logged how their close reading changed."


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("renew")
    with live_server.seed():
        from assessors import settings
        from badges import renewal_invitations
        from core import clock
        from tests.badges.issued import award, passed_submission
        from tests.badges.renewable import make_renewable
        from tests.factories import CredentialVersionFactory

        org = OrganisationFactory(name=f"Riverside District {tag}")
        admin = member(org, Role.ORG_ADMIN, email=f"admin-{tag}@example.org")
        settings.update_settings(actor=admin, organisation_id=org.id, changes={"double_first_n": 0, "double_share": 0})
        assessor = member(org, Role.ASSESSOR, email=f"assessor-{tag}@example.org", name=f"Asa {tag}")
        version = make_renewable(
            CredentialVersionFactory(organisation=org, published=True, title=f"Close reading {tag}")
        )
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        # Awarded eleven months ago: renewed every twelve, so it expires in about a month and renewal is open.
        badge = award(passed_submission(version=version), decided_at=clock.now() - timedelta(days=335))
        earner = passed_earner(badge)
        earner.email, earner.name = f"earner-{tag}@example.org", f"Elin {tag}"
        assert renewal_invitations.send_invitations() >= 1
        return {
            "tag": tag,
            "org_id": str(org.id),
            "badge": str(badge.id),
            "title": version.title,
            "earner": earner.email,
            "assessor": assessor.email,
        }


def passed_earner(badge: Any) -> Any:
    from core.db import db
    from core.models import User

    return db.session.get(User, badge.earner_id)


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def test_earner_renews_from_the_invitation(page: Any, story: dict[str, Any], live_server: Any) -> None:
    mail = [m for m in live_server.mail() if m.to == story["earner"] and m.subject.startswith("Renew your badge")]
    assert mail, "the invitation was mailed"
    link = re.search(r"http\S+/my/badges/\S+/renew", mail[-1].body)
    assert link is not None
    login(page, story["earner"], TEST_PASSWORD)
    visit(page, urlsplit(link.group(0)).path, "renewal-start")
    assert "Current practice" in page.locator("main").inner_text()
    _click(page, page.get_by_role("button", name="Start renewal"))
    assert "/portfolio/" in page.url
    assert "renewal" in page.locator("#renewal-note").inner_text()
    check_page(page, "renewal-draft")
    page.get_by_label(re.compile("^Your answer")).fill(PRACTICE)
    _click(page, page.get_by_role("button", name="Save draft"))
    _click(page, page.get_by_role("button", name="Submit for review"))
    assert page.locator("#status").inner_text() == "submitted"
    visit(page, "/my/badges", "renewal-my-badges-in-review")
    assert "renewal in review" in page.get_by_role("row").filter(has_text=story["title"]).inner_text()
    logout(page)


def test_assessor_passes_the_renewal_and_both_pages_show_the_chain(page: Any, story: dict[str, Any]) -> None:
    login(page, story["assessor"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}", "renewal-queue")
    assert "renewal" in page.locator("main").inner_text()
    page.get_by_label("Micro-credential").select_option(label=story["title"])
    _click(page, page.get_by_role("button", name="Claim next"))
    assert "/review/tasks/" in page.url
    assert "renewal" in page.locator("#renewal-note").inner_text()
    assert PRACTICE in page.locator("main").inner_text()
    check_page(page, "renewal-scoring")
    page.get_by_label(re.compile(r"Current \(passing\)")).check()
    page.get_by_label("Summary for the earner").fill("Your practice is current.")
    _click(page, page.get_by_role("button", name="Submit review"))
    logout(page)

    visit(page, f"/badges/{story['badge']}", "renewal-old-badge")
    chain = page.locator("#renewal").inner_text()
    assert "Renewed by" in chain
    _click(page, page.locator("#renewed-by a"))
    assert "Renews" in page.locator("#renewal").inner_text()
    assert "VALID" in page.locator(".verdict").inner_text()
    check_page(page, "renewal-new-badge")
    _click(page, page.locator("#renews a"))
    assert page.url.endswith(f"/badges/{story['badge']}")

    login(page, story["earner"], TEST_PASSWORD)
    visit(page, "/my/badges", "renewal-my-badges-renewed")
    assert "renewed" in page.locator("main").inner_text()
