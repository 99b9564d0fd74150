"""The submission editor's JavaScript in Chromium: word count, autosave, the two-tab warning, upload progress."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from credentials import submissions as services
from credentials.models import Submission
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory, portfolio_version

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\2" * 4000


@pytest.fixture
def live_url(app: Any, session: Any) -> Iterator[str]:
    """The app served over HTTP from a thread, on this test's (rolled-back) database connection."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium on this machine (Debian package `chromium`)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_autosave_word_count_two_tabs_and_upload_progress(live_url: str, browser: Any, session: Any) -> None:
    earner = UserFactory()
    submission = services.start(actor=earner, version_id=portfolio_version().id)
    session.flush()
    context = browser.new_context()
    first = context.new_page()
    first.goto(f"{live_url}/login")
    first.fill("#email", earner.email)
    first.fill("#password", TEST_PASSWORD)
    first.click("form button[type=submit] >> nth=-1")
    first.wait_for_url(f"{live_url}/account")

    url = f"{live_url}/portfolio/{submission.id}"
    first.goto(url)
    second = context.new_page()
    second.goto(url)

    first.fill("#answer-reflection", "one two three")
    assert first.inner_text("#count-reflection") == "3 words (2 more needed)"
    first.wait_for_selector("#autosave-status:has-text('Saved at')")

    second.fill("#answer-reflection", "the other tab writes this")
    second.wait_for_selector("#conflict-warning", state="visible")
    assert "Not saved" in second.inner_text("#autosave-status")

    first.reload()
    first.set_input_files("#file-artefact", files=[{"name": "plan.png", "mimeType": "image/png", "buffer": PNG}])
    with first.expect_navigation():
        first.click("form[data-upload] button[type=submit]")
    assert "plan.png" in first.inner_text("#req-artefact")

    session.expire_all()
    saved = session.get(Submission, uuid.UUID(str(submission.id)))
    assert {a.requirement_key: a.text for a in saved.answers}["reflection"] == "one two three"
    assert [f.filename for f in saved.files] == ["plan.png"]
