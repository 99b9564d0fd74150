"""A state agency's admin endorses a district's micro-credential on the Endorsements page; the endorsement shows on
the public achievement page; the earner downloads their transcript (CLR 2.0) from "My badges", and the district's
admin downloads it from Badges issued."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.models import OrganisationKind, Role
from tests.browser.conftest import check_page, login, logout, unique
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, member


@pytest.fixture(scope="module")
def people(live_server: Any) -> dict[str, str]:
    tag = unique("endorse")
    with live_server.seed():
        from tests.badges.issued import award, passed_submission

        district = OrganisationFactory(name=f"Harbor District {tag}")
        version = CredentialVersionFactory(organisation=district, published=True, title=f"Questioning {tag}")
        district_admin = member(district, Role.ORG_ADMIN, email=f"dadmin-{tag}@example.org")
        agency = OrganisationFactory(name=f"State Board {tag}", kind=OrganisationKind.STATE_AGENCY.value)
        agency_admin = member(agency, Role.ORG_ADMIN, email=f"sadmin-{tag}@example.org")
        passed = passed_submission(version=version)
        award(passed)
        passed.earner.email = f"earner-{tag}@example.org"
        return {
            "agency_admin": agency_admin.email,
            "district_admin": district_admin.email,
            "earner": passed.earner.email,
            "agency": str(agency.id),
            "agency_name": agency.name,
            "district": str(district.id),
            "district_name": district.name,
            "version": str(version.id),
            "title": version.title,
        }


def _click(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def test_an_agency_endorses_and_the_earner_downloads_a_transcript(page: Any, people: dict[str, str]) -> None:
    login(page, people["agency_admin"], TEST_PASSWORD)
    page.goto(f"/organisations/{people['agency']}/endorsements")
    check_page(page, "endorsements-empty")
    _click(page, page.get_by_role("button", name="Sign and publish the endorsement"))  # nothing chosen
    assert "Choose what to endorse" in page.locator(".error-summary").inner_text()
    check_page(page, "endorsements-error")
    page.get_by_label("What you endorse").select_option(f"achievement:{people['version']}")
    page.get_by_label("What you say about it").fill("Counts toward licence renewal in our state.")
    _click(page, page.get_by_role("button", name="Sign and publish the endorsement"))
    assert "Endorsed:" in page.locator(".flashes").inner_text()
    assert "standing" in page.get_by_role("row").filter(has_text=people["title"]).inner_text()
    check_page(page, "endorsements-made")
    logout(page)

    page.goto(f"/achievements/{people['version']}")
    endorsed = page.get_by_role("region", name=f"Endorsed by {people['agency_name']}")
    assert "Counts toward licence renewal in our state." in endorsed.inner_text()
    check_page(page, "achievement-endorsed")

    login(page, people["earner"], TEST_PASSWORD)
    page.goto("/my/badges")
    transcripts = page.get_by_role("region", name="Transcripts (CLR 2.0)")
    check_page(page, "my-badges-transcripts")
    with page.expect_download() as info:
        transcripts.get_by_role("link", name=f"All badges from {people['district_name']} (JSON)").click()
    doc = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert doc["type"] == ["VerifiableCredential", "ClrCredential"]
    assert doc["credentialSubject"]["verifiableCredential"][0]["name"] == people["title"]
    assert doc["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    logout(page)

    login(page, people["district_admin"], TEST_PASSWORD)
    page.goto(f"/organisations/{people['district']}/badges")
    check_page(page, "badges-issued-transcripts")
    with page.expect_download() as info:
        page.get_by_role("link", name="Transcript (CLR)").first.click()
    assert json.loads(Path(info.value.path()).read_text(encoding="utf-8"))["id"] == doc["id"]
