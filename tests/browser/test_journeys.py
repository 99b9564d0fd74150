"""The whole life of a badge, walked in the browser as people would: an earner finds a credential in the
catalogue and submits evidence with a file; an assessor claims it from the queue and scores it with the
keyboard, blind to who the earner is; the earner sees the decision and the badge, and shares it; an
anonymous visitor checks it on its page and on the verify page (pasted JSON, uploaded baked PNG); the org
admin suspends it (the page says SUSPENDED), lifts the suspension, then revokes it, each through a
confirmation page, and the badge page says so; the org admin rotates keys and reads the reports.

One module-scoped story (each test continues the one before, in file order) keeps the suite fast: seeding
and signing happen once. A test that fails leaves the later ones failing too, which names the broken step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import (
    CredentialImageFactory,
    OrganisationFactory,
    QualificationFactory,
    UserFactory,
    member,
    png_bytes,
    portfolio_version,
)

REFLECTION = "I planned a lesson on fractions, taught it twice and changed the second one after feedback."


@pytest.fixture(scope="module")
def story(live_server: Any) -> dict[str, Any]:
    tag = unique("jr")
    with live_server.seed():
        from assessors import settings

        org = OrganisationFactory(name=f"Riverside Teachers {tag}")
        admin = member(org, Role.ORG_ADMIN, email=f"admin-{tag}@example.org", name=f"Ada Admin {tag}")
        assessor = member(org, Role.ASSESSOR, email=f"assessor-{tag}@example.org", name=f"Sam Assessor {tag}")
        earner = UserFactory(email=f"earner-{tag}@example.org", name=f"Erin Earner {tag}")
        version = portfolio_version(organisation=org, title=f"Fractions in practice {tag}")
        version.image = CredentialImageFactory(data=png_bytes(16, 16))  # a PNG image: the baked PNG exists
        QualificationFactory(user=assessor, micro_credential=version.micro_credential)
        # One review per submission, so the first assessor's decision is final.
        settings.update_settings(
            actor=admin, organisation_id=org.id, changes={"double_first_n": 0, "double_share": 0.0}
        )
        return {
            "tag": tag,
            "org_id": str(org.id),
            "admin": admin.email,
            "assessor": assessor.email,
            "earner": earner.email,
            "earner_name": earner.name,
            "title": version.title,
            "version_id": str(version.id),
        }


def test_earner_finds_the_credential_and_submits_evidence_with_a_file(
    page: Any, story: dict[str, Any], tmp_path: Path
) -> None:
    login(page, story["earner"], TEST_PASSWORD)
    visit(page, f"/catalogue/?q={story['tag']}", "journey-catalogue")
    with page.expect_navigation():
        page.get_by_role("link", name=story["title"]).click()
    check_page(page, "journey-credential")
    with page.expect_navigation():
        page.get_by_role("button", name="Start a submission").click()
    assert "/portfolio/" in page.url
    check_page(page, "journey-submission-empty")
    checklist = page.locator("#problems")
    assert checklist.locator("li").count() >= 2  # nothing answered yet: the checklist names what is missing

    page.get_by_label(re.compile("^Your answer")).fill(REFLECTION)
    page.get_by_label("Link (https://…)").fill("https://video.example.org/lesson-1")
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    missing = page.locator("#problems").inner_text()
    assert "file" in missing.lower() or "artefact" in missing.lower() or page.locator("#problems li").count() == 1

    plan = tmp_path / "lesson-plan.png"
    plan.write_bytes(png_bytes(4, 4))
    page.locator("input[type=file]").first.set_input_files(str(plan))
    with page.expect_navigation():  # the script uploads with a progress bar, then reloads the page
        page.get_by_role("button", name="Upload").first.click()
    assert page.get_by_role("link", name="lesson-plan.png").count() == 1
    assert "Everything is answered" in page.locator("#problems").inner_text()
    check_page(page, "journey-submission-ready")

    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    assert page.locator("#status").inner_text() == "submitted"
    check_page(page, "journey-submission-submitted")
    story["submission_url"] = page.url
    visit(page, "/portfolio/", "journey-my-submissions")
    assert page.get_by_role("link", name=story["title"]).count() >= 1


def test_assessor_claims_and_scores_blind_with_the_keyboard(page: Any, story: dict[str, Any]) -> None:
    login(page, story["assessor"], TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Review").click()
    assert f"/review/{story['org_id']}" in page.url  # one organisation: straight to its queue
    check_page(page, "journey-review-queue")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim next").click()
    assert "/review/tasks/" in page.url
    check_page(page, "journey-review-task")
    body = page.locator("main").inner_text()
    assert REFLECTION in body  # the evidence is beside the rubric …
    assert story["earner_name"] not in body and story["earner"] not in body  # … and the earner is not named
    file_link = page.get_by_role("link", name=re.compile(r"^Download file 1 \(png"))
    assert file_link.count() == 1  # the file, under a neutral label
    with page.expect_download() as download:  # the signed-in assessor opens it (not a JSON 401 from the API)
        file_link.click()
    assert re.fullmatch(r"S-[0-9A-Z]+-file-1\.png", download.value.suggested_filename)
    assert Path(download.value.path()).read_bytes() == png_bytes(4, 4)
    preview = page.locator("figure.evidence-file img")
    assert preview.evaluate("img => img.complete && img.naturalWidth") == 4  # shown beside the rubric

    # A refused submit keeps everything chosen and written (level below passing, no feedback yet).
    page.locator("h1").click()  # focus out of any field, so the keys reach the page's shortcuts
    page.keyboard.press("1")
    page.get_by_label("Summary for the earner").fill("Clear planning and a thoughtful second lesson.")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    assert "below passing" in page.locator(".error-summary").inner_text()
    assert page.locator("input[type=radio][name^=level-]").nth(0).is_checked()
    assert page.get_by_label("Summary for the earner").input_value() == "Clear planning and a thoughtful second lesson."
    check_page(page, "journey-review-refused")
    page.locator(".error-summary a").first.click()  # the message links to the field it concerns
    page.wait_for_url(re.compile("#feedback-"))

    page.locator("h1").click()
    page.keyboard.press("3")  # the third level: Proficient, the passing one
    assert page.get_by_label(re.compile("Proficient")).is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit review").click()
    assert "Review submitted: pass. The decision is released" in page.locator(".flashes").inner_text()
    check_page(page, "journey-review-done")


def test_earner_sees_the_decision_and_the_badge_and_shares_it(page: Any, story: dict[str, Any]) -> None:
    login(page, story["earner"], TEST_PASSWORD)
    visit(page, story["submission_url"].replace(page.url.split("/portfolio")[0], ""), "journey-decision")
    assert page.locator("#status").inner_text() == "passed"
    assert "Proficient" in page.locator("main").inner_text()  # per-criterion feedback
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My badges").click()
    check_page(page, "journey-my-badges")
    row = page.get_by_role("row").filter(has_text=story["title"])
    link = row.get_by_label("Link").input_value()
    assert re.search(r"/badges/[0-9a-f-]{36}$", link)
    story["badge_path"] = link[link.index("/badges/") :]
    assert "linkedin.com" in row.get_by_role("link", name="Add to LinkedIn").get_attribute("href")

    for name, expected in (("JSON", "application/"), ("JWT", "text/plain"), ("PNG", "image/png"), ("SVG", "image/svg")):
        href = row.get_by_role("link", name=name, exact=True).get_attribute("href")
        response = page.request.get(href)
        assert response.ok and response.headers["content-type"].startswith(expected), (name, response.status)
    story["json"] = page.request.get(story["badge_path"] + ".json").text()
    story["png"] = page.request.get(story["badge_path"] + ".png").body()
    assert json.loads(story["json"])["credentialSubject"]["achievement"]["name"] == story["title"]


def test_visitor_sees_a_valid_badge_and_verifies_it_by_paste_and_upload(
    page: Any, story: dict[str, Any], tmp_path: Path
) -> None:
    visit(page, story["badge_path"], "journey-badge-valid")
    assert "valid" in page.locator(".badge-page .badge-status").get_attribute("class").split()
    with page.expect_navigation():
        page.get_by_role("link", name="Full criteria").click()
    check_page(page, "journey-achievement")
    assert story["title"] in page.locator("h1").inner_text()
    page.go_back()
    with page.expect_navigation():
        page.locator(".badge-page").get_by_role("link", name=re.compile("^Riverside Teachers")).first.click()
    check_page(page, "journey-issuer")
    page.goto(story["badge_path"])
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Verify a badge").click()
    check_page(page, "journey-verify")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()  # nothing given: the error names the field
    assert page.get_by_label(re.compile("^Paste a badge")).get_attribute("aria-describedby") == "verify-error"
    check_page(page, "journey-verify-empty")
    page.get_by_label(re.compile("^Paste a badge")).fill(story["json"])
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()
    check_page(page, "journey-verify-pasted")
    assert page.locator("#result-heading").inner_text() == "VALID"

    baked = tmp_path / "badge.png"
    baked.write_bytes(story["png"])
    page.goto("/verify")
    page.get_by_label(re.compile("upload the badge file")).set_input_files(str(baked))
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()
    check_page(page, "journey-verify-uploaded")
    assert page.locator("#result-heading").inner_text() == "VALID"
    assert page.locator(".verdict-headline").inner_text().startswith("Genuine and valid:")
    # The employer checks that the badge names the person in front of them, without uploading it again.
    page.get_by_label("Recipient's e-mail (optional)").fill(story["earner"])
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()
    assert f"The badge was awarded to {story['earner']}" in page.locator("p.recipient").inner_text()
    check_page(page, "journey-verify-recipient")

    forged = json.loads(story["json"])
    forged["credentialSubject"]["achievement"]["name"] = "Forged Doctorate"
    page.goto("/verify")
    page.get_by_label(re.compile("^Paste a badge")).fill(json.dumps(forged))
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Verify")).click()
    check_page(page, "journey-verify-forged")
    assert page.locator("#result-heading").inner_text() == "NOT GENUINE"
    assert page.locator(".verdict-headline").inner_text().startswith("Not genuine")
    assert "signature does not match" in page.locator(".verdict-reasons").inner_text()


def _open_action(page: Any, story: dict[str, Any], name: str) -> None:
    """From the badges issued page, the action link of the story's badge (its name includes the badge title)."""
    visit(page, f"/organisations/{story['org_id']}/badges")
    row = page.get_by_role("row").filter(has_text=story["title"])
    with page.expect_navigation():
        row.get_by_role("link", name=re.compile(f"^{name}")).click()


def test_org_admin_suspends_the_badge_then_lifts_the_suspension(
    page: Any, story: dict[str, Any], live_server: Any
) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    _open_action(page, story, "Suspend")
    assert page.get_by_role("heading", level=1).inner_text() == "Suspend this badge?"
    check_page(page, "journey-admin-suspend-confirm")
    page.get_by_label(re.compile("^Reason for suspending")).fill("A complaint about the evidence is being checked.")
    with page.expect_navigation():
        page.get_by_role("button", name="Suspend badge").click()
    assert "Badge suspended" in page.locator(".flashes").inner_text()
    assert any(m.to == story["earner"] and m.subject.endswith("has been suspended") for m in live_server.mail())
    logout(page)
    visit(page, story["badge_path"], "journey-badge-suspended")
    assert page.locator(".badge-page .badge-status .verdict").inner_text() == "SUSPENDED"
    assert "complaint about the evidence" in page.locator("main").inner_text()

    login(page, story["admin"], TEST_PASSWORD)
    _open_action(page, story, "Lift suspension")
    page.get_by_label(re.compile("^Reason for lifting")).fill("The evidence is the earner's own.")
    with page.expect_navigation():
        page.get_by_role("button", name="Lift suspension").click()
    assert "Suspension lifted" in page.locator(".flashes").inner_text()
    logout(page)
    page.goto(story["badge_path"])
    assert page.locator(".badge-page .badge-status .verdict").inner_text() == "VALID"


def test_org_admin_revokes_the_badge_and_its_page_says_so(page: Any, story: dict[str, Any]) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    _open_action(page, story, "Revoke")
    assert page.get_by_role("heading", level=1).inner_text() == "Revoke this badge?"
    assert "Revocation is permanent" in page.locator("main").inner_text()
    check_page(page, "journey-admin-revoke-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke badge").click()  # no reason: refused, the message tied to the field
    field = page.get_by_label(re.compile("^Reason for revoking"))
    assert field.get_attribute("aria-invalid") == "true"
    check_page(page, "journey-admin-revoke-refused")
    field.fill("Awarded in error: the evidence was someone else's.")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke badge").click()
    assert "Badge revoked" in page.locator(".flashes").inner_text()
    check_page(page, "journey-admin-badges")
    logout(page)
    visit(page, story["badge_path"], "journey-badge-revoked")
    assert "revoked" in page.locator(".badge-page .badge-status").get_attribute("class").split()
    assert "someone else" in page.locator("main").inner_text()


def test_org_admin_rotates_keys_and_reads_reports_with_csv(page: Any, story: dict[str, Any]) -> None:
    login(page, story["admin"], TEST_PASSWORD)
    visit(page, f"/organisations/{story['org_id']}/issuer", "journey-admin-issuer")
    active_before = page.get_by_role("row").filter(has_text="active").count()
    assert active_before >= 1
    with page.expect_navigation():
        page.get_by_role("link", name="Rotate keys…").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Rotate signing keys?"
    assert page.get_by_role("row").filter(has_text="Ed25519").count() >= 1  # the keys about to be retired
    check_page(page, "journey-admin-rotate-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Rotate keys").click()
    assert "Keys rotated" in page.locator(".flashes").inner_text()
    assert page.get_by_role("row").filter(has_text="retired").count() >= active_before
    check_page(page, "journey-admin-keys-rotated")

    for tab, shot in (
        ("Members", "journey-admin-members"),
        ("Assessors and review", "journey-admin-review"),
        ("Import past awards", "journey-admin-import"),
    ):
        with page.expect_navigation():
            page.get_by_role("link", name=tab, exact=True).click()
        check_page(page, shot)
    with page.expect_navigation():
        page.get_by_role("link", name="Reports", exact=True).click()
    check_page(page, "journey-admin-reports")
    assert page.locator("figure.chart").count() == 4
    assert (
        page.locator("figure.chart.trend svg[role=img]").get_attribute("aria-label").startswith("Decisions per month")
    )
    # Titles are whole in the bar charts (not cut at 24 characters) and kappa is explained in words.
    assert story["title"] in page.locator("figure.chart ul.bars").first.inner_text()
    page.get_by_text("What exact, adjacent and kappa mean").click()
    assert "better the two agree than chance" in page.locator("details.explain").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV (by micro-credential)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("micro_credential_id") and story["title"] in text
