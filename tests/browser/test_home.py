"""Where signing in lands, in the browser: the Home page of an earner (drafts, feedback, new badges), of an
assessor who also authors (reviews waiting, drafts in review) and of a newcomer (what to do next). Every item
is a link that opens, and every page reached passes axe and does not scroll sideways at phone width."""

from __future__ import annotations

from typing import Any

import pytest

from core import clock
from core.models import Role
from tests.browser.conftest import check_page, login, unique
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    CredentialVersionFactory,
    OrganisationFactory,
    QualificationFactory,
    SubmissionFactory,
    UserFactory,
    member,
)


@pytest.fixture(scope="module")
def people(live_server: Any) -> dict[str, Any]:
    tag = unique("home")
    with live_server.seed():
        from tests.badges.issued import award, passed_submission

        org = OrganisationFactory(name=f"Riverside Teachers {tag}")
        version = CredentialVersionFactory(organisation=org, published=True, title=f"Exit tickets {tag}")
        passed = passed_submission(version=version)
        award(passed)
        earner = passed.earner
        earner.email, earner.name = f"earner-{tag}@example.org", f"Ede {tag}"
        other = CredentialVersionFactory(organisation=org, published=True, title=f"Cold calling {tag}")
        draft = SubmissionFactory(version=other, earner=earner)
        third = CredentialVersionFactory(organisation=org, published=True, title=f"Wait time {tag}")
        not_yet = SubmissionFactory(
            version=third, earner=earner, state="not_yet", decided_at=clock.now(), feedback_summary="Nearly."
        )

        assessor = member(org, Role.ASSESSOR, Role.AUTHOR, email=f"assessor-{tag}@example.org")
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        SubmissionFactory(version=version, submitted=True)
        teammate = member(org, Role.AUTHOR)
        in_review = CredentialVersionFactory(
            organisation=org,
            state="in_review",
            title=f"Think-pair-share {tag}",
            review_requested_by_id=teammate.id,
            review_requested_at=clock.now(),
        )
        newcomer = UserFactory(email=f"new-{tag}@example.org")
        return {
            "earner": earner.email,
            "draft": (other.title, f"/portfolio/{draft.id}"),
            "not_yet": (third.title, f"/portfolio/{not_yet.id}"),
            "badge": version.title,
            "assessor": assessor.email,
            "org": org.name,
            "in_review": in_review.title,
            "newcomer": newcomer.email,
        }


def _follow(page: Any, section: Any, name: str, name_of_page: str) -> None:
    """Click the item ``name`` of ``section``, check the page it opens, and come back Home."""
    with page.expect_navigation():
        section.get_by_role("link", name=name).click()
    check_page(page, name_of_page)
    page.go_back()


def test_an_earner_lands_on_drafts_feedback_and_new_badges(page: Any, people: dict[str, Any]) -> None:
    login(page, people["earner"], TEST_PASSWORD)
    assert page.url.endswith("/home")
    assert page.get_by_role("heading", level=1).inner_text() == "Home"
    assert page.get_by_role("link", name="Home", exact=True).get_attribute("aria-current") == "page"
    check_page(page, "home-earner")

    drafts = page.locator("#todo-drafts")
    assert "draft, attempt 1" in drafts.inner_text()
    _follow(page, drafts, people["draft"][0], "home-earner-draft")
    feedback = page.locator("#todo-feedback")
    assert "then start attempt 2" in feedback.inner_text()
    _follow(page, feedback, people["not_yet"][0], "home-earner-feedback")
    assert page.url.endswith("/home")
    badges = page.locator("#todo-badges")
    with page.expect_navigation():
        badges.get_by_role("link", name=people["badge"]).click()
    assert "/badges/" in page.url
    check_page(page, "home-earner-badge")


def test_an_assessor_who_authors_lands_on_reviews_and_drafts_in_review(page: Any, people: dict[str, Any]) -> None:
    login(page, people["assessor"], TEST_PASSWORD)
    assert page.url.endswith("/home")
    check_page(page, "home-assessor")
    reviews = page.locator("#todo-reviews")
    assert f"1 submission you may review in {people['org']}" in reviews.inner_text()
    authoring = page.locator("#todo-authoring")
    assert "asks for your review" in authoring.inner_text()
    _follow(page, authoring, f"{people['in_review']} (version 1)", "home-assessor-draft-in-review")
    with page.expect_navigation():
        reviews.get_by_role("link", name=f"1 submission you may review in {people['org']}").click()
    check_page(page, "home-assessor-queue")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").first.click()
    assert "/review/tasks/" in page.url
    page.get_by_role("link", name="Home", exact=True).click()
    page.wait_for_url("**/home")
    assert "claimed by you" in page.locator("#todo-reviews").inner_text()


def test_a_newcomer_is_told_what_to_do_next(page: Any, people: dict[str, Any]) -> None:
    login(page, people["newcomer"], TEST_PASSWORD)
    empty = page.locator("#todo-empty")
    assert "Nothing is waiting for you" in empty.inner_text()
    check_page(page, "home-newcomer")
    with page.expect_navigation():
        empty.get_by_role("link", name="Find a micro-credential in the catalogue").click()
    assert page.url.endswith("/catalogue/")
    check_page(page)
