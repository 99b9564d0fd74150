"""An anonymous visitor browses and filters the public catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import unique, visit
from tests.factories import AlignmentFactory, CredentialVersionFactory, OrganisationFactory, StandardItemFactory


@pytest.fixture(scope="module")
def listed(live_server: Any) -> dict[str, Any]:
    tag = unique("cat")
    with live_server.seed():
        north = OrganisationFactory(name=f"North Academy {tag}")
        south = OrganisationFactory(name=f"South College {tag}")
        item = StandardItemFactory(human_coding_scheme=f"LIT-{tag}", full_statement="Leads close reading")
        reading = CredentialVersionFactory(
            organisation=north, published=True, title=f"Close reading {tag}", tags=[f"literacy-{tag}"]
        )
        AlignmentFactory(version=reading, item=item)
        CredentialVersionFactory(
            organisation=south, published=True, title=f"Number talks {tag}", tags=[f"numeracy-{tag}"]
        )
        CredentialVersionFactory(organisation=north, title=f"Unpublished draft {tag}")
        return {"tag": tag, "north": north.name, "south": south.name, "framework": item.framework.title}


def _titles(page: Any) -> list[str]:
    return page.locator(".catalogue-item h2").all_inner_texts()


def _filter(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()


def test_visitor_filters_by_words_topic_organisation_and_standard(page: Any, listed: dict[str, Any]) -> None:
    tag = listed["tag"]
    visit(page, "/catalogue/", "catalogue-all")
    assert f"Close reading {tag}" in _titles(page)
    assert f"Unpublished draft {tag}" not in _titles(page)  # drafts never appear

    page.get_by_label("Words").fill(tag)
    _filter(page)
    assert sorted(_titles(page)) == [f"Close reading {tag}", f"Number talks {tag}"]
    page.get_by_label("Organisation").select_option(label=listed["south"])
    _filter(page)
    assert _titles(page) == [f"Number talks {tag}"]
    visit(page, page.url, "catalogue-filtered")

    page.goto("/catalogue/")
    page.get_by_label("Topic", exact=True).fill(f"literacy-{tag}")
    _filter(page)
    assert _titles(page) == [f"Close reading {tag}"]

    page.goto("/catalogue/")
    page.get_by_label("Standards framework").select_option(label=listed["framework"])
    _filter(page)
    assert _titles(page) == [f"Close reading {tag}"]

    # From a credential's page, its standard leads to everything aligned to it.
    page.get_by_role("link", name=f"Close reading {tag}").click()
    page.get_by_role("link", name=f"LIT-{tag}").click()
    assert _titles(page) == [f"Close reading {tag}"]
    assert "Aligned to" in page.locator("form[role=search]").inner_text()


def test_nothing_matches_says_so(page: Any, listed: dict[str, Any]) -> None:
    visit(page, f"/catalogue/?q=nothing-like-this-{listed['tag']}", "catalogue-empty")
    assert "Nothing matches" in page.locator("main").inner_text()
    assert _titles(page) == []


def test_hostile_filters_are_ignored_not_errors(page: Any, listed: dict[str, Any]) -> None:
    visit(page, "/catalogue/?organisation=not-a-uuid&standard=%00&page=-5&q=%25_%5C")
    assert "0 micro-credentials" in page.get_by_role("status").inner_text()


def test_a_draft_page_is_not_found_for_visitors(page: Any, live_server: Any, listed: dict[str, Any]) -> None:
    from credentials.authoring.models import CredentialVersion

    with live_server.seed() as session:
        draft_id = session.query(CredentialVersion).filter_by(title=f"Unpublished draft {listed['tag']}").one().id
    visit(page, f"/catalogue/{draft_id}", "error-404", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
