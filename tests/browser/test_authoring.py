"""An author writes a micro-credential in the browser, a teammate reviews it, it is published and listed."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import FrameworkFactory, OrganisationFactory, StandardItemFactory, member


@pytest.fixture(scope="module")
def team(live_server: Any) -> dict[str, Any]:
    """An organisation with two authors, and a framework with a parent and a child standard."""
    tag = unique("auth")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Riverside District {tag}", slug=tag)
        author = member(organisation, Role.AUTHOR, name="Ada Author", email=f"ada-{tag}@example.org")
        reviewer = member(organisation, Role.AUTHOR, name="Rui Reviewer", email=f"rui-{tag}@example.org")
        framework = FrameworkFactory(title=f"Teaching Standards {tag}")
        parent = StandardItemFactory(framework=framework, human_coding_scheme=f"FA-{tag}", full_statement="Assessment")
        child = StandardItemFactory(
            parent=parent,
            human_coding_scheme=f"FA-{tag}.1",
            full_statement="Uses formative assessment to adjust instruction",
        )
        return {
            "tag": tag,
            "organisation": organisation.name,
            "author": author.email,
            "reviewer": reviewer.email,
            "framework": framework.title,
            "code": child.human_coding_scheme,
        }


def _fill_draft(page: Any) -> None:
    page.locator("#short_description").fill("Plan lessons around what formative checks show.")
    page.locator("#competency_statement").fill("The educator adjusts instruction using formative assessment.")
    page.locator("#key_method").fill("Collect evidence of learning during the lesson and act on it.")
    page.locator("#tags").fill("Assessment, feedback")
    page.locator("#requirements-0-title").fill("Lesson plan")
    page.locator("#requirements-0-prompt").fill("Share a lesson plan that shows your formative checks.")
    page.locator("#rubric-0-name").fill("Planning")
    for i, (name, points, descriptor) in enumerate(
        [("Not yet", "0", "No checks planned."), ("Proficient", "2", "Checks planned."), ("Exemplary", "3", "…")]
    ):
        page.locator(f"#rubric-0-levels-{i}-name").fill(name)
        page.locator(f"#rubric-0-levels-{i}-points").fill(points)
        page.locator(f"#rubric-0-levels-{i}-descriptor").fill(descriptor)


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_author_publishes_with_a_teammates_review(page: Any, team: dict[str, Any]) -> None:
    title = f"Formative assessment {team['tag']}"
    login(page, team["author"], TEST_PASSWORD)
    visit(page, "/authoring/", "authoring-list")
    page.get_by_role("link", name="New micro-credential").click()
    check_page(page, "authoring-new")
    page.locator("#title").fill(title)
    _submit(page, "Create draft")
    assert "/edit" in page.url

    # A refused save ties the error to its field and loses nothing typed; authors never type keys.
    _fill_draft(page)
    assert page.locator("#requirements-0-key").count() == 0 or not page.locator("#requirements-0-key").is_visible()
    page.locator("#passing_rule-points").fill("lots")
    _submit(page, "Save draft")
    points = page.locator("#passing_rule-points")
    assert points.get_attribute("aria-invalid") == "true"
    assert page.locator("#requirements-0-title").input_value() == "Lesson plan"
    check_page(page, "authoring-editor-errors")

    points.fill("")
    _submit(page, "Save draft")
    assert page.locator(".notice").inner_text() == "Saved."
    # Now the saved requirement can be ticked for the criterion, and the passing level chosen from the rubric's.
    page.locator("#rubric-0-requirements").get_by_label("Lesson plan").check()
    page.locator("#passing_rule-level").select_option("Proficient")
    _submit(page, "Save draft")
    assert page.locator(".notice").inner_text() == "Saved."
    assert page.locator("#passing_rule-level").input_value() == "Proficient"
    assert page.locator("#rubric-0-levels-2-name").input_value() == "Exemplary"
    check_page(page, "authoring-editor")

    # The standards picker: search by code, align; then browse the framework's tree.
    page.get_by_role("link", name="Standards", exact=True).last.click()
    page.locator("#standards-q").fill(team["code"])
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**q=*")
    check_page(page, "authoring-standards-search")
    _submit(page, f"Align to {team['code']}")
    assert page.locator(".notice").inner_text() == "Aligned."
    assert team["code"] in page.get_by_role("table").first.inner_text()
    page.locator("#standards-q").fill("")
    page.locator("#standards-framework").select_option(label=team["framework"])
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**framework=*")
    assert "Uses formative assessment" in page.locator(".tree").first.inner_text()
    check_page(page, "authoring-standards-tree")

    visit(page, page.url.replace("/standards", "/preview").split("?")[0], "authoring-preview")
    assert "Lesson plan" in page.locator("article").inner_text()

    page.get_by_role("link", name="Overview").click()
    page.locator("#review-comment").fill("Rui, could you look at the rubric?")
    _submit(page, "Request review")
    assert "Review requested" in page.locator(".notice").inner_text()
    check_page(page, "authoring-overview-in-review")
    overview = page.url
    logout(page)

    login(page, team["reviewer"], TEST_PASSWORD)
    visit(page, overview)
    assert "could you look at the rubric" in page.locator("#comments").inner_text()
    _submit(page, "Approve")
    assert "Approved" in page.locator(".notice").inner_text()
    _submit(page, "Publish")
    assert "Published" in page.locator(".notice").inner_text()
    check_page(page, "authoring-overview-published")

    visit(page, "/catalogue/", "catalogue")
    page.get_by_role("link", name=title).click()
    check_page(page, "catalogue-credential")
    assert team["code"] in page.locator("article").inner_text()
    assert page.get_by_role("heading", name=title, level=1).is_visible()


def test_a_new_version_shows_its_differences(page: Any, team: dict[str, Any]) -> None:
    """Runs after the publication above: version 2 changes the title, and History shows it."""
    login(page, team["author"], TEST_PASSWORD)
    visit(page, "/authoring/")
    page.get_by_role("link", name=f"Formative assessment {team['tag']}").click()
    _submit(page, "Start a new version")
    assert "Version 2 started" in page.locator(".notice").inner_text()
    page.locator("#title").fill(f"Formative assessment in practice {team['tag']}")
    _submit(page, "Save draft")
    page.get_by_role("link", name="History").click()
    check_page(page, "authoring-history")
    diff = page.locator("table.diff").inner_text()
    assert "title" in diff and "in practice" in diff


def test_a_reviewer_cannot_approve_their_own_request(page: Any, team: dict[str, Any], live_server: Any) -> None:
    login(page, team["author"], TEST_PASSWORD)
    visit(page, "/authoring/?state=draft")
    page.get_by_role("link", name=f"Formative assessment in practice {team['tag']}").click()
    _submit(page, "Request review")
    assert page.get_by_role("button", name="Approve").count() == 0
    assert "someone else must approve" in page.locator("#next-heading + p").inner_text()


def test_scripts_add_rows_and_search_as_you_type(page: Any, team: dict[str, Any]) -> None:
    """With JavaScript: "add another" rows are saved like server-made ones; standards appear while typing."""
    login(page, team["author"], TEST_PASSWORD)
    page.goto("/authoring/new")
    page.locator("#title").fill(f"Scripted {team['tag']}")
    _submit(page, "Create draft")
    page.get_by_role("button", name="Add another requirement").click()
    page.get_by_role("button", name="Add a level").first.click()
    assert page.evaluate("() => document.activeElement.id") == "rubric-0-levels-4-name"
    page.get_by_role("button", name="Add another method component").click()
    page.keyboard.type("Wait time")
    assert page.locator("#method_components-1-name").input_value() == "Wait time"
    page.locator("#method_components-0-name").fill("Questioning")
    for i, key in enumerate(("first", "second")):
        page.locator(f"#requirements-{i}-title").fill(key.title())
        page.locator(f"#requirements-{i}-prompt").fill(f"The {key} prompt.")
    _submit(page, "Save draft")
    assert page.locator(".notice").inner_text() == "Saved."
    assert page.locator("input[name='requirements-1-key']").input_value() == "second"  # made from the title
    assert page.locator("#method_components-1-name").input_value() == "Wait time"
    check_page(page)

    page.get_by_role("link", name="Standards", exact=True).last.click()
    page.locator("#standards-q").press_sequentially(team["code"], delay=20)
    page.get_by_role("button", name=f"Align to {team['code']}").wait_for()
    assert "1 result" in page.locator("#standards-results h3").inner_text()


def test_stack_pages(page: Any, team: dict[str, Any]) -> None:
    login(page, team["author"], TEST_PASSWORD)
    visit(page, "/authoring/")
    page.get_by_role("link", name="Stacks").click()
    check_page(page, "authoring-stacks")
    page.get_by_role("link", name="New stack").click()
    check_page(page, "authoring-stack-new")
    page.get_by_label("Title").fill(f"Assessment stack {team['tag']}")
    _submit(page, "Save stack")
    assert page.locator("#micro_credentials-error").is_visible()  # fewer than two published
    check_page(page, "authoring-stack-errors")
