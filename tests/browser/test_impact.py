"""A district's admin reads the impact reports: charts with their tables, a filter, a download; the agency's
admin reads across its districts. axe-clean, no sideways scrolling at 390 px."""

from __future__ import annotations

from typing import Any

import pytest

from core import clock
from tests.badges.impact_world import NOW, ImpactWorld
from tests.browser.conftest import check_page, login, logout, visit
from tests.conftest import TEST_PASSWORD

RANGE = "from=2026-01-01&to=2026-06-30"


@pytest.fixture(scope="module")
def world(live_server: Any) -> dict[str, str]:
    with live_server.seed(), clock.frozen_at(NOW):
        made = ImpactWorld(signed=True)
        return {
            "admin": made.admin.email,
            "state_admin": made.state_admin.email,
            "district": str(made.district.id),
            "state": str(made.state.id),
        }


def test_a_district_admin_reads_filters_and_downloads(page: Any, world: dict[str, str]) -> None:
    login(page, world["admin"], TEST_PASSWORD)
    visit(page, f"/organisations/{world['district']}/impact?{RANGE}", "impact-district")
    assert page.get_by_role("heading", level=1).inner_text() == "Impact reports"
    assert page.get_by_role("link", name="Impact", exact=True).get_attribute("aria-current") == "page"
    chart = page.get_by_role("img", name="Badges per month", exact=False)
    assert "Feb 2026 1 badges, 1 earners" in chart.get_attribute("aria-label")
    by_unit = page.get_by_role("table", name="Badges and earners by unit")
    assert "School Y" in by_unit.inner_text()

    page.get_by_label("Badges by").select_option(label="Standard")
    page.get_by_label("Earner's job role").select_option(label="Coach")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    table = page.get_by_role("table", name="Badges and earners by standard").inner_text()
    assert "R.1 Reads closely" in table and "W.1 Writes clearly" in table
    assert "2 badges to 1 earners" in page.get_by_role("region", name="Badges and earners").inner_text()
    check_page(page, "impact-district-filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (by standard)").click()
    assert download.value.suggested_filename == "impact-badges-by-standard.csv"
    logout(page)


def test_the_agency_admin_reads_across_its_districts(page: Any, world: dict[str, str]) -> None:
    login(page, world["state_admin"], TEST_PASSWORD)
    visit(page, f"/organisations/{world['state']}/impact?{RANGE}&include_children=true")
    assert page.get_by_label("Include child organisations").is_checked()
    assert "5 badges to 4 earners" in page.get_by_role("region", name="Badges and earners").inner_text()
    logout(page)


def test_a_district_admin_cannot_open_the_agency_report(page: Any, world: dict[str, str]) -> None:
    login(page, world["admin"], TEST_PASSWORD)
    visit(page, f"/organisations/{world['state']}/impact", status=404)
    logout(page)
