"""Earners' submission pages over HTTP, as a browser without JavaScript uses them (and as autosave does)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

from credentials.portfolios.models import CriterionFeedback, Submission, SubmissionState
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, location, page, sign_in, text
from tests.factories import UserFactory, portfolio_version

PNG = b"\x89PNG\r\n\x1a\n" + b"\1" * 300
REFLECTION = "I planned the lesson, taught it, and reflected with my team afterwards."


@pytest.fixture
def earner(client: Any, session: Any) -> Any:
    user = UserFactory()
    sign_in(client, user.email)
    return user


def _start(client: Any, version: Any) -> tuple[str, str]:
    _, token = page(client, "/portfolio/")
    r = client.post("/portfolio/start", data={"csrf_token": token, "version_id": str(version.id)}, headers=BROWSER)
    assert r.status_code == 302, text(r)
    url = location(r)
    return url, csrf_token(text(client.get(url, headers=BROWSER)))


def _lock(html: str) -> str:
    import re

    match = re.search(r'name="lock_version" value="(\d+)"', html)
    assert match
    return match.group(1)


def _web_upload(client: Any, url: str, token: str, content: bytes, name: str, headers: dict[str, str]) -> Any:
    """Post the editor's upload form for the artefact requirement, with the page's current lock version."""
    data = {
        "csrf_token": token,
        "lock_version": _lock(text(client.get(url, headers=BROWSER))),
        "requirement_key": "artefact",
        "file": (io.BytesIO(content), name),
    }
    return client.post(f"{url}/files", data=data, headers=headers, content_type="multipart/form-data")


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    r = client.get("/portfolio/", headers=BROWSER)
    assert r.status_code == 302 and location(r).startswith("/login")


def test_draft_save_upload_submit_without_javascript(client: Any, session: Any, earner: Any) -> None:
    version = portfolio_version()
    listing = text(client.get("/portfolio/", headers=BROWSER))
    assert version.title in listing
    url, token = _start(client, version)
    html = text(client.get(url, headers=BROWSER))
    assert "Before you submit" in html and "data-word-count" in html and "portfolio.js" in html
    r = client.post(
        f"{url}/answers",
        data={
            "csrf_token": token,
            "lock_version": _lock(html),
            "answer-reflection": REFLECTION,
            "answer-video": "https://video.example/x",
        },
        headers=BROWSER,
    )
    assert r.status_code == 302
    r = _web_upload(client, url, token, PNG, "plan.png", BROWSER)
    assert r.status_code == 302
    html = text(client.get(url, headers=BROWSER))
    assert "plan.png" in html and "Everything is answered" in html
    download = client.get(url + "/files/" + html.split(url + "/files/")[1].split('"')[0], headers=BROWSER)
    assert download.data == PNG and download.headers["Content-Disposition"].startswith("attachment")
    r = client.post(f"{url}/submit", data={"csrf_token": token, "lock_version": _lock(html)}, headers=BROWSER)
    html = text(client.get(location(r), headers=BROWSER))
    assert "Submitted." in html and '<dd id="status">submitted</dd>' in html


def test_submit_with_gaps_shows_the_checklist(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    r = client.post(f"{url}/submit", data={"csrf_token": token}, headers=BROWSER)
    html = text(client.get(location(r), headers=BROWSER))
    assert "3 item(s) need attention" in html
    assert "write your answer" in html and "add a link" in html


def test_second_tab_is_warned_not_overwritten(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    stale = _lock(text(client.get(url, headers=BROWSER)))
    first = client.post(
        f"{url}/answers",
        data={"csrf_token": token, "lock_version": stale, "answer-reflection": "tab one"},
        headers={"Accept": "application/json"},
    )
    assert first.status_code == 200 and int(first.get_json()["lock_version"]) > int(stale)
    autosave = client.post(
        f"{url}/answers",
        data={"csrf_token": token, "lock_version": stale, "answer-reflection": "tab two"},
        headers={"Accept": "application/json"},
    )
    assert autosave.status_code == 412
    plain = client.post(
        f"{url}/answers",
        data={"csrf_token": token, "lock_version": stale, "answer-reflection": "tab two"},
        headers=BROWSER,
    )
    assert plain.status_code == 412 and "not saved" in text(plain) and "tab two" in text(plain)
    assert "tab one" in text(client.get(url, headers=BROWSER))


def test_feedback_next_attempt_and_history(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    row = session.get(Submission, uuid.UUID(url.rsplit("/", 1)[1]))
    row.state, row.decided_at, row.feedback_summary = SubmissionState.NOT_YET.value, row.created_at, "Nearly there."
    session.add(
        CriterionFeedback(
            submission=row,
            criterion_key="quality",
            level_position=1,
            level_name="Developing",
            feedback="Cite the text.",
        )
    )
    session.flush()
    html = text(client.get(url, headers=BROWSER))
    assert "Nearly there." in html and "Cite the text." in html and "Start attempt 2" in html
    r = client.post(f"{url}/next-attempt", data={"csrf_token": token}, headers=BROWSER)
    html = text(client.get(location(r), headers=BROWSER))
    assert "Attempt</dt><dd>2 of" in html and "All attempts" in html


def test_withdraw_and_evidence_toggle(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    r = client.post(f"{url}/evidence-public", data={"csrf_token": token, "evidence_public": "1"}, headers=BROWSER)
    assert "shows on the public badge page" in text(client.get(location(r), headers=BROWSER))
    r = client.post(f"{url}/withdraw", data={"csrf_token": token}, headers=BROWSER)
    assert "withdrawn" in text(client.get(location(r), headers=BROWSER))


def test_forms_need_a_csrf_token(client: Any, session: Any, earner: Any) -> None:
    url, _ = _start(client, portfolio_version())
    assert client.post(f"{url}/withdraw", headers=BROWSER).status_code == 400
    r = client.post(
        f"{url}/files",
        data={"requirement_key": "artefact", "file": (io.BytesIO(PNG), "plan.png")},
        headers=BROWSER,
        content_type="multipart/form-data",
    )
    assert r.status_code == 400


def test_another_users_submission_is_404(client: Any, session: Any, earner: Any) -> None:
    from tests.factories import SubmissionFactory

    other = SubmissionFactory()
    assert client.get(f"/portfolio/{other.id}", headers=BROWSER).status_code == 404


def test_web_upload_may_exceed_the_general_request_limit(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    big = b"%PDF-1.7\n" + b"0" * (3 * 1024 * 1024)  # three times MAX_CONTENT_LENGTH
    r = _web_upload(client, url, token, big, "a.pdf", {"Accept": "application/json"})
    assert r.status_code == 200, text(r)
    assert "a.pdf" in text(client.get(url, headers=BROWSER))
