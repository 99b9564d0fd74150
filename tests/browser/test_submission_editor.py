"""The submission editor's JavaScript in Chromium: word count, autosave, the two-tab warning, upload progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from credentials.portfolios import services
from credentials.portfolios.models import Submission
from tests.browser.conftest import check_page, login, screenshot
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory, portfolio_version

PNG = b"\x89PNG\r\n\x1a\n" + b"\2" * 4000


def test_autosave_word_count_two_tabs_and_upload_progress(page: Any, live_server: Any) -> None:
    with live_server.seed():
        earner = UserFactory()
        email, submission_id = earner.email, services.start(actor=earner, version_id=portfolio_version().id).id
    login(page, email, TEST_PASSWORD)

    url = f"/portfolio/{submission_id}"
    page.goto(url)
    check_page(page, "portfolio-editor")
    second = page.context.new_page()
    second.goto(url)

    page.fill("#answer-reflection", "one two three")
    assert page.inner_text("#count-reflection") == "3 words (2 more needed)"
    page.wait_for_selector("#autosave-status:has-text('Saved at')")

    second.fill("#answer-reflection", "the other tab writes this")
    second.wait_for_selector("#conflict-warning", state="visible")
    assert "Not saved" in second.inner_text("#autosave-status")
    second.close()

    page.reload()
    page.set_input_files("#file-artefact", files=[{"name": "plan.png", "mimeType": "image/png", "buffer": PNG}])
    with page.expect_navigation():
        page.click("form[data-upload] button[type=submit]")
    assert "plan.png" in page.inner_text("#req-artefact")
    check_page(page, "portfolio-editor-uploaded")

    with live_server.seed() as session:
        saved = session.scalar(select(Submission).where(Submission.id == submission_id))
        assert {a.requirement_key: a.text for a in saved.answers}["reflection"] == "one two three"
        assert [f.filename for f in saved.files] == ["plan.png"]


PDF = b"%PDF-1.7\n" + b"3" * 60_000

# Records, across the reload that follows a successful upload, every state the upload form passes through.
WATCH_UPLOAD = """(selector) => {
  const form = document.querySelector(selector);
  const button = form.querySelector("button[type=submit]");
  const progress = form.querySelector("[data-progress]");
  const log = () => {
    const seen = JSON.parse(sessionStorage.getItem("upload-log") || "[]");
    seen.push({disabled: button.disabled, shown: !progress.hidden,
               percent: progress.querySelector("[data-percent]").textContent});
    sessionStorage.setItem("upload-log", JSON.stringify(seen));
  };
  new MutationObserver(log).observe(form, {attributes: true, childList: true, subtree: true, characterData: true});
}"""


def _draft(live_server: Any) -> tuple[str, str]:
    with live_server.seed():
        earner = UserFactory()
        return earner.email, f"/portfolio/{services.start(actor=earner, version_id=portfolio_version().id).id}"


def test_several_files_upload_at_once_with_a_percentage_and_the_button_held(page: Any, live_server: Any) -> None:
    email, url = _draft(live_server)
    login(page, email, TEST_PASSWORD)
    page.goto(url)
    assert page.get_by_text("You can choose several files at once (up to 2 more).").is_visible()
    page.evaluate(WATCH_UPLOAD, "#req-artefact form[data-upload]")
    page.set_input_files(
        "#file-artefact",
        files=[
            {"name": "plan.png", "mimeType": "image/png", "buffer": PNG},
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Upload").click()
    card = page.locator("#req-artefact")
    assert "plan.png" in card.inner_text() and "notes.pdf" in card.inner_text()
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('upload-log') || '[]')")
    assert any(s["disabled"] and s["shown"] for s in seen), seen  # held and showing progress while it went
    assert "100%" in [s["percent"] for s in seen], seen
    # full now: one file at a time is all the form offers, and it says why
    assert page.locator("#file-artefact").get_attribute("multiple") is None
    assert "has all the files it takes" in card.inner_text()
    check_page(page, "portfolio-editor-two-files")


def test_an_executable_is_refused_once_in_plain_words(page: Any, live_server: Any) -> None:
    email, url = _draft(live_server)
    login(page, email, TEST_PASSWORD)
    page.goto(url)
    page.set_input_files(
        "#file-artefact", files=[{"name": "setup.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00" + PNG}]
    )
    page.get_by_role("button", name="Upload").click()
    error = page.locator("#req-artefact .error")
    error.wait_for(state="visible")
    assert error.inner_text() == (
        "“setup.png” is a program (an executable file). Programs cannot be evidence: upload a document, "
        "an image or a recording instead."
    )
    assert page.get_by_role("button", name="Upload").is_enabled()
    assert page.locator("#req-artefact [data-progress]").is_hidden()
    check_page(page, "portfolio-editor-upload-refused")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    assert page.locator("#problems[role=alert]").is_visible()
    check_page(page, "portfolio-editor-not-submitted-js")


def test_several_files_upload_without_javascript(browser: Any, live_server: Any) -> None:
    email, url = _draft(live_server)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        login(page, email, TEST_PASSWORD)
        page.goto(url)
        page.set_input_files(
            "#file-artefact",
            files=[
                {"name": "plan.png", "mimeType": "image/png", "buffer": PNG},
                {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": PDF},
            ],
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Upload").click()
        assert page.locator(".flashes").inner_text() == "2 files uploaded."
        assert "notes.pdf" in page.locator("#req-artefact").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name="Submit for review").click()
        problems = page.locator("#problems")
        assert "Not submitted: 2 items need attention" in problems.inner_text()
        with page.expect_navigation():
            problems.get_by_role("link", name="write your answer").click()
        assert page.url.endswith("#answer-reflection")
        screenshot(page, "portfolio-editor-not-submitted")  # axe needs scripts: the page is checked with them above
    finally:
        context.close()
    assert not live_server.errors, live_server.errors


def test_attempt_two_shows_attempt_ones_feedback_beside_the_editor(page: Any, live_server: Any) -> None:
    from core import clock
    from credentials.portfolios.models import CriterionFeedback

    with live_server.seed() as session:
        earner = UserFactory()
        version = portfolio_version()
        first = services.start(actor=earner, version_id=version.id)
        first.state, first.decided_at, first.feedback_summary = "not_yet", clock.now(), "Close: cite the text."
        session.add(
            CriterionFeedback(
                submission=first, criterion_key="quality", level_position=1, level_name="Developing",
                feedback="Quote the passage your pupils used.",
            )
        )  # fmt: skip
        email, url, criterion = earner.email, f"/portfolio/{first.id}", version.criteria[0].name
    login(page, email, TEST_PASSWORD)
    page.goto(url)
    with page.expect_navigation():
        page.get_by_role("button", name="Start attempt 2 from this one").click()
    aside = page.get_by_role("complementary", name="Feedback on attempt 1")
    text = aside.inner_text()
    assert criterion in text and "Level reached: Developing" in text and "Quote the passage" in text
    # beside the editor on a desktop: the feedback's column starts right of the requirements
    editor = page.locator("#req-reflection").bounding_box()
    assert aside.bounding_box()["x"] > editor["x"] + editor["width"] - 1
    check_page(page, "portfolio-attempt-2-with-feedback")
