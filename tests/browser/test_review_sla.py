"""Review due dates, walked in the browser: an org admin follows the queue's "past due" count to the overdue
list on the review settings page, sees who holds the late work, sets the service level and lists a
non-working day; the earner sees when a decision is due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import clock
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
    tag = unique("sla")
    with live_server.seed():
        from assessors import queue, settings

        org = OrganisationFactory(name=f"Riverside Programme {tag}")
        admin = member(org, Role.ORG_ADMIN, Role.ASSESSOR, email=f"admin-{tag}@example.org")
        holder = member(org, Role.ASSESSOR, email=f"holder-{tag}@example.org", name=f"Harriet {tag}")
        earner = UserFactory(email=f"earner-{tag}@example.org", name=f"Erin {tag}")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Feedback loops {tag}")
        QualificationFactory(user=holder, micro_credential=version.micro_credential)
        settings.update_settings(
            actor=admin,
            organisation_id=org.id,
            changes={"double_first_n": 0, "double_share": 0.0, "turnaround_business_days": 2},
        )
        with clock.frozen_at(clock.now() - timedelta(days=9)):
            late = SubmissionFactory(version=version, earner=UserFactory(name=f"Lou {tag}"), submitted=True)
        AnswerFactory(submission=late)
        queue.claim_next(actor=holder, organisation_id=org.id)
        fresh = SubmissionFactory(version=version, earner=earner, submitted=True)
        AnswerFactory(submission=fresh)
        queue.enqueue_submitted(org.id)
        return {
            "tag": tag,
            "org_id": str(org.id),
            "admin": admin.email,
            "holder": holder.name,
            "earner": earner.email,
            "late": late.reference,
            "fresh": fresh.reference,
            "fresh_id": str(fresh.id),
        }


def test_admin_finds_the_overdue_list_and_sets_the_service_level(page: Any, story: dict[str, Any]) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}", "review-queue-past-due")
    past_due = page.locator(".counts").get_by_role("link", name="1")
    with page.expect_navigation():
        past_due.click()
    assert page.url.endswith("#overdue")
    check_page(page, "review-admin-overdue")
    overdue = page.locator("#overdue tbody tr")
    assert overdue.count() == 1
    row = overdue.first.inner_text()
    assert story["late"] in row and story["holder"] in row and story["fresh"] not in row
    assert f"Lou {story['tag']}" not in page.content()

    page.get_by_label("Decision due within").fill("5")
    page.get_by_label("When the due date passes").select_option("release")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    assert "Settings saved." in page.locator(".flashes").inner_text()
    assert page.get_by_label("Decision due within").input_value() == "5"
    assert page.get_by_label("When the due date passes").input_value() == "release"

    page.get_by_label("Date", exact=True).fill("2031-01-02")
    page.get_by_label("What it is (optional)").fill("New year closure")
    with page.expect_navigation():
        page.get_by_role("button", name="Add non-working day").click()
    assert "January 2, 2031 is now a non-working day." in page.locator(".flashes").inner_text()
    assert "New year closure" in page.locator("section[aria-labelledby=calendar-heading]").inner_text()


def test_earner_sees_when_the_decision_is_due(page: Any, story: dict[str, Any]) -> None:
    login(page, story["earner"], TEST_PASSWORD)
    visit(page, f"/portfolio/{story['fresh_id']}", "submission-decision-due")
    assert "Decision due by" in page.locator("dl.facts").inner_text()
    assert page.locator("#due time").get_attribute("datetime")
