"""Calibration walked in the browser: the org admin finds "Calibration anchors" on the Assessors and review tab,
marks a decided submission as an anchor with the agreed levels (the released result is the starting point);
an assessor then calibrates, reads a "not yet" in words (criterion titles, level names, "matched the anchor on
1 of 2 criteria") with the choices kept, corrects one and passes.

One story in file order, sharing the data seeded once.
"""

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
    RubricCriterionFactory,
    SubmissionFactory,
    member,
)

ANSWER = "Pupils wrote their own questions before the lesson and sorted them by how they could be tested."


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("cal")
    with live_server.seed():
        from credentials.portfolios.models import CriterionFeedback

        org = OrganisationFactory(name=f"Riverside Schools {tag}")
        admin = member(org, Role.ORG_ADMIN, email=f"admin-{tag}@example.org")
        assessor = member(org, Role.ASSESSOR, email=f"assessor-{tag}@example.org")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Pupil questions {tag}")
        RubricCriterionFactory(version=version, key="questions", name="Pupils' own questions")
        criteria = {c.key: c for c in version.criteria}
        criteria["quality"].name = "Quality of the questioning"
        criteria["quality"].levels[2].descriptor = "Questions push pupils to explain, not only to recall."
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        decided = SubmissionFactory(version=version, submitted=True, state="passed")
        AnswerFactory(submission=decided, text=ANSWER)
        for position, key in enumerate(("quality", "questions")):
            decided.feedback.append(
                CriterionFeedback(criterion_key=key, position=position, level_position=2, level_name="Proficient")
            )
        return {
            "org_id": str(org.id),
            "admin": admin.email,
            "assessor": assessor.email,
            "title": version.title,
            "reference": decided.reference,
        }


def test_org_admin_marks_an_anchor_on_the_page(page: Any, story: dict[str, Any]) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    visit(page, f"/review/{story['org_id']}/admin")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Calibration anchors for {story['title']}").click()
    check_page(page, "calibration-anchors")
    page.get_by_text(f"Read the evidence and mark {story['reference']} as an anchor").click()
    assert ANSWER in page.locator("main").inner_text()
    card = page.locator("article").filter(has_text=story["reference"])
    questions = card.get_by_role("group", name="Pupils' own questions: agreed level")
    assert questions.get_by_label("Proficient").is_checked()  # the released result
    questions.get_by_label("Exemplary").check()
    card.get_by_label("Why these levels").fill("Every question asks pupils to explain a method.")
    with page.expect_navigation():
        card.get_by_role("button", name="Mark as anchor").click()
    assert "is an anchor" in page.locator(".flashes").inner_text()
    assert "The calibration set (1)" in page.locator("main").inner_text()
    check_page(page, "calibration-anchors-marked")


def test_assessor_reads_the_result_in_words_and_keeps_the_choices(page: Any, story: dict[str, Any]) -> None:
    login(page, story["assessor"], TEST_PASSWORD)
    visit(page, "/review/")
    with page.expect_navigation():
        page.get_by_role("link", name=f"Calibrate for {story['title']}").click()
    assert "Questions push pupils to explain, not only to recall." in page.locator("main").inner_text()
    quality = page.get_by_role("group", name="Quality of the questioning")
    questions = page.get_by_role("group", name="Pupils' own questions")
    quality.get_by_label("Proficient").check()
    questions.get_by_label("Developing").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Check my scores").click()
    result = page.get_by_role("status").filter(has_text="Not yet passed")
    text = result.inner_text()
    assert "you matched the anchor on 1 of 2 criteria" in text
    row = result.get_by_role("row").filter(has_text="Pupils' own questions")
    assert "Developing" in row.inner_text() and "Exemplary" in row.inner_text() and "Differs" in row.inner_text()
    assert "Every question asks pupils to explain a method." in text
    assert quality.get_by_label("Proficient").is_checked() and questions.get_by_label("Developing").is_checked()
    check_page(page, "calibration-not-yet")

    questions.get_by_label("Exemplary").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Check my scores").click()
    assert (
        "matched the agreed level on 2 of 2 criteria"
        in page.get_by_role("status").filter(has_text="Passed").inner_text()
    )
    check_page(page, "calibration-passed")
