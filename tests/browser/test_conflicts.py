"""Declaring a conflict of interest in the browser: an assessor names a person on their conflicts page (a bad
address is refused first, with the error tied to the field), and the queue then gives that person's submission
to someone else; the admin's queue says why it waited."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    AnswerFactory,
    CredentialVersionFactory,
    OrganisationFactory,
    QualificationFactory,
    SubmissionFactory,
    UserFactory,
    member,
)


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("coi")
    with live_server.seed():
        from assessors import settings

        org = OrganisationFactory(name=f"Riverside District {tag}")
        admin = member(org, Role.ORG_ADMIN, email=f"admin-{tag}@example.org")
        assessor = member(org, Role.ASSESSOR, email=f"assessor-{tag}@example.org")
        earner = UserFactory(email=f"kin-{tag}@example.org", name=f"Kin {tag}")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Feedback loops {tag}")
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        settings.update_settings(
            actor=admin, organisation_id=org.id, changes={"double_first_n": 0, "double_share": 0.0}
        )
        submission = SubmissionFactory(version=version, earner=earner, submitted=True)
        AnswerFactory(submission=submission)
        return {"org_id": str(org.id), "admin": admin.email, "assessor": assessor.email, "earner": earner.email}


def test_an_assessor_declares_a_conflict_and_is_not_given_that_work(page: Any, story: dict[str, Any]) -> None:
    login(page, story["assessor"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}")
    with page.expect_navigation():
        page.get_by_role("link", name="Your conflicts of interest").click()
    check_page(page, "review-conflicts")
    page.get_by_label("Their email address").fill("not an address")
    with page.expect_navigation():
        page.get_by_role("button", name="Declare conflict").click()
    field = page.get_by_label("Their email address")
    assert field.get_attribute("aria-invalid") == "true"
    assert "email address" in page.locator("#email-error").inner_text()
    check_page(page, "review-conflicts-error")
    field.fill(story["earner"].upper())
    page.get_by_label("Why (for you and the admins; optional)").fill("My cousin")
    with page.expect_navigation():
        page.get_by_role("button", name="Declare conflict").click()
    rows = page.get_by_role("table").inner_text()
    assert story["earner"] in rows and "My cousin" in rows
    visit(page, f"/review/{story['org_id']}")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").click()
    assert "/review/tasks/" not in page.url
    assert "Nothing you may review" in page.locator(".flashes").inner_text()


def test_the_admin_sees_why_it_waits(page: Any, story: dict[str, Any]) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}", "review-queue-why-it-waits")
    table = page.get_by_role("table").last.inner_text()
    assert "Why it waits" in table and "No qualified assessor may take it (kept off: 1 declared conflict)." in table
