"""A design team in the browser: an admin makes the team and gives it a draft, a member edits it, another
comments and sends it for review, a reviewer outside the team approves, the team publishes, and the programme
lead follows it on the programme page."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from credentials.authoring import versions
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import OrganisationFactory, member, valid_content


@pytest.fixture(scope="module")
def programme(live_server: Any) -> dict[str, Any]:
    tag = unique("team")
    with live_server.seed():
        organisation = OrganisationFactory(name=f"Lakeside District {tag}", slug=tag)
        school = OrganisationFactory(name=f"Hill School {tag}", slug=f"{tag}-hill", parent=organisation)
        people = {
            key: member(organisation, role, name=name, email=f"{key}-{tag}@example.org")
            for key, role, name in [
                ("admin", Role.ORG_ADMIN, "Olga Admin"),
                ("ana", Role.AUTHOR, "Ana Member"),
                ("ben", Role.AUTHOR, "Ben Member"),
                ("rita", Role.AUTHOR, "Rita Outside"),
                ("lead", Role.PROGRAMME_LEAD, "Leo Lead"),
            ]
        }
        title = f"Questioning strategies {tag}"
        draft = versions.create_micro_credential(
            actor=people["ana"], organisation_id=organisation.id, content=valid_content(title=title)
        )
        return {
            "tag": tag,
            "title": title,
            "draft": str(draft.id),
            "school": school.name,
            **{key: user.email for key, user in people.items()},
        }


def _submit(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _notice(page: Any) -> str:
    return page.locator(".notice").inner_text()


def test_a_team_drafts_an_outside_reviewer_approves_the_team_publishes(page: Any, programme: dict[str, Any]) -> None:
    team_name = f"Questioning team {programme['tag']}"
    overview = f"/authoring/versions/{programme['draft']}"

    # The admin makes the team, adds two authors and gives it the draft.
    login(page, programme["admin"], TEST_PASSWORD)
    visit(page, "/authoring/teams", "teams-list")
    page.get_by_label("Name").fill(team_name)
    _submit(page, "Create team")
    assert "created" in _notice(page)
    for person in ("Ana Member", "Ben Member"):
        page.get_by_label("Add an author").select_option(label=person)
        _submit(page, "Add to the team")
        assert f"{person} joined the team." == _notice(page)
    page.get_by_label("Give an existing micro-credential to this team").select_option(label=programme["title"])
    _submit(page, "Give to the team")
    check_page(page, "team-page")
    assert programme["title"] in page.get_by_role("region", name="Micro-credentials").inner_text()
    logout(page)

    # Ben, a member, edits the draft; the changes tab names him and the field.
    login(page, programme["ben"], TEST_PASSWORD)
    page.goto(f"{overview}/edit")
    page.locator("#key_method").fill("Plan three questions at rising depth, then wait five seconds for answers.")
    _submit(page, "Save draft")
    assert _notice(page) == "Saved."
    visit(page, f"{overview}/changes", "team-draft-changes")
    assert "Ben Member edited: key method" in page.locator(".changes-list").inner_text()
    logout(page)

    # Ana comments (Ben gets a mail) and sends it for review; publishing now is refused.
    login(page, programme["ana"], TEST_PASSWORD)
    visit(page, overview)
    page.get_by_label("Add a comment").fill("Ben, the wait time reads well.")
    _submit(page, "Add comment")
    assert _notice(page) == "Comment added."
    page.get_by_label("Note for the reviewer (optional)").fill("Rita, over to you.")
    _submit(page, "Send for review")
    assert "in review" in page.locator(".page-head").inner_text()
    assert "reviewer outside the design team" in page.get_by_role("region", name="Next step").inner_text()
    assert page.get_by_role("button", name="Approve").count() == 0  # a team member cannot approve
    check_page(page, "team-draft-in-review")
    logout(page)

    # Rita, an author outside the team, approves.
    login(page, programme["rita"], TEST_PASSWORD)
    visit(page, overview)
    page.get_by_role("textbox", name="Comment", exact=True).fill("Clear and ready.")
    _submit(page, "Approve")
    assert "Approved" in _notice(page)
    assert page.get_by_role("button", name="Publish").count() == 0  # the team publishes, not the reviewer
    logout(page)

    login(page, programme["ana"], TEST_PASSWORD)
    page.goto(overview)
    _submit(page, "Publish")
    assert "Published" in _notice(page)
    check_page(page, "team-draft-published")
    logout(page)

    # The programme lead sees the team and its published micro-credential, and can filter and download.
    login(page, programme["lead"], TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation").get_by_role("link", name="Programme", exact=True).click()
    check_page(page, "programme-page")
    table = page.get_by_role("table").inner_text()
    assert team_name in table and programme["title"] in table and "published 1" in table
    page.get_by_label("State").select_option("in_review")
    _submit(page, "Filter")
    assert programme["title"] not in page.locator("main").inner_text()
    check_page(page, "programme-page-filtered")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename == f"programme-{programme['tag']}.csv"
