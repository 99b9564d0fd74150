"""Review when assessors disagree, walked in the browser: an assessor calibrates against the authors'
anchors before live work; two assessors score a double-scored submission independently and disagree; the
lead assessor adjudicates with both reviews beside the rubric; the earner reads the "not yet" with its
per-criterion feedback, is offered the next attempt, and appeals (a blank reason is refused first).

Like ``test_journeys``, the tests are one story in file order, sharing the data seeded once.
"""

from __future__ import annotations

import re
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

ANSWER = "I modelled the method, then the class tried it in pairs and explained their steps to each other."


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("rv")
    with live_server.seed():
        from assessors import calibration, settings

        org = OrganisationFactory(name=f"Hillside Teachers {tag}")
        admin = member(org, Role.ORG_ADMIN, Role.AUTHOR, email=f"admin-{tag}@example.org")
        first = member(org, Role.ASSESSOR, email=f"first-{tag}@example.org", name=f"First {tag}")
        second = member(org, Role.ASSESSOR, email=f"second-{tag}@example.org", name=f"Second {tag}")
        lead = member(org, Role.ASSESSOR, email=f"lead-{tag}@example.org", name=f"Lead {tag}")
        earner = UserFactory(email=f"earner-{tag}@example.org", name=f"Erin {tag}")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Worked examples {tag}")
        for user, is_lead in ((first, False), (second, False), (lead, True)):
            QualificationFactory(user=user, micro_credential=version.micro_credential, is_lead=is_lead)
        # Every submission of this programme is scored twice.
        settings.update_settings(actor=admin, organisation_id=org.id, changes={"double_first_n": 100})
        submission = SubmissionFactory(version=version, earner=earner, submitted=True)
        AnswerFactory(submission=submission, text=ANSWER)

        # A second micro-credential whose authors marked an anchor: the first assessor calibrates for it.
        anchored = CredentialVersionFactory(organisation=org, published=True, title=f"Questioning {tag}")
        QualificationFactory(user=first, micro_credential=anchored.micro_credential)
        anchor = SubmissionFactory(version=anchored, submitted=True, state="passed")
        AnswerFactory(submission=anchor, text="An anchor answer the authors agreed is proficient.")
        calibration.mark_anchor(actor=admin, submission_id=anchor.id, agreed_levels={"quality": 2}, rationale="Clear.")
        return {
            "tag": tag,
            "org_id": str(org.id),
            "first": first.email,
            "second": second.email,
            "lead": lead.email,
            "earner": earner.email,
            "earner_name": earner.name,
            "submission_id": str(submission.id),
            "title": version.title,
            "anchored": anchored.title,
        }


def test_assessor_calibrates_before_live_work(page: Any, story: dict[str, Any]) -> None:
    login(page, story["first"], TEST_PASSWORD)
    visit(page, "/review/", "review-queue-calibration-due")
    link = page.get_by_role("link", name=f"Calibrate for {story['anchored']}")
    assert "due" in page.get_by_role("listitem").filter(has=link).inner_text()
    with page.expect_navigation():
        link.click()
    check_page(page, "review-calibration")
    page.get_by_label("Proficient").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Check my scores").click()
    assert "Passed" in page.get_by_role("status").filter(has_text="Passed").inner_text()
    check_page(page, "review-calibration-passed")


def _score(page: Any, story: dict[str, Any], email: str, key: str, shot: str, feedback: str = "") -> str:
    login(page, email, TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}")
    page.get_by_label("Micro-credential").select_option(label=story["title"])
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").click()
    assert "/review/tasks/" in page.url, page.locator(".flashes").all_inner_texts()
    check_page(page, shot)
    assert ANSWER in page.locator("main").inner_text()
    assert story["earner_name"] not in page.locator("main").inner_text()
    page.locator("h1").click()
    page.keyboard.press(key)
    if feedback:
        page.get_by_label(re.compile("^Feedback")).fill(feedback)
    page.get_by_label("Summary for the earner").fill("Thank you for the clear account.")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    return page.locator(".flashes").inner_text()


def test_two_assessors_disagree_and_the_lead_adjudicates(page: Any, story: dict[str, Any]) -> None:
    shown = _score(page, story, story["first"], "1", "review-first", feedback="Show how pupils explained steps.")
    assert "not yet" in shown
    page.context.clear_cookies()
    assert "pass" in _score(page, story, story["second"], "3", "review-second")
    page.context.clear_cookies()
    login(page, story["lead"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}", "review-queue-adjudication")
    assert "adjudication" in page.locator("table").last.inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").click()
    check_page(page, "review-adjudication")
    both = page.get_by_role("table").filter(has_text="Review 1")
    assert "Not yet" in both.inner_text() and "Proficient" in both.inner_text()
    page.locator("h1").click()
    page.keyboard.press("2")
    assert page.get_by_label(re.compile("Developing")).is_checked()
    page.get_by_label(re.compile("^Feedback")).fill("Add the pupils' own explanations of the steps.")
    page.get_by_label("Summary for the earner").fill("Close: show the pupils' reasoning next time.")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    assert "not yet" in page.locator(".flashes").inner_text()


def test_earner_reads_not_yet_feedback_and_appeals(page: Any, story: dict[str, Any]) -> None:
    login(page, story["earner"], TEST_PASSWORD)
    visit(page, f"/portfolio/{story['submission_id']}", "submission-not-yet")
    assert page.locator("#status").inner_text() == "not yet"
    feedback = page.locator("main").inner_text()
    assert "Developing" in feedback and "pupils' own explanations" in feedback
    assert page.get_by_role("button", name="Start attempt 2 from this one").is_visible()

    with page.expect_navigation():
        page.get_by_role("button", name="Send appeal").click()  # no reason: refused
    assert "Not appealed" in page.locator(".flashes").inner_text()
    page.get_by_label("Why should this decision be looked at again?").fill(
        "The video shows the pupils explaining their steps at 4:10."
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Send appeal").click()
    assert "Appeal sent" in page.locator(".flashes").inner_text()
    assert page.locator("#status").inner_text() == "in review"
    check_page(page, "submission-appealed")
