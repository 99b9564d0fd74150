"""The submission editor's JavaScript in Chromium: word count, autosave, the two-tab warning, upload progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from credentials.portfolios import services
from credentials.portfolios.models import Submission
from tests.browser.conftest import check_page, login
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
