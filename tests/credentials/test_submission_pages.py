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
    assert r.status_code == 422
    html = text(r)
    box = html.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert html.count('id="problems"') == 1 and 'class="warning" id="problems" role="alert"' in html
    assert "Not submitted: 3 items need attention before you can submit." in box
    # each item links to the control it is about, and that control is on the page
    for anchor, words in (("answer-reflection", "write your answer"), ("answer-video", "add a link"),
                          ("file-artefact", "add at least 1 more file")):  # fmt: skip
        assert f'<a href="#{anchor}">' in box and words in box
        assert f'id="{anchor}"' in html
    assert '<dd id="status">draft</dd>' in html
    # the plain page (no refused submit) shows the same list as a warning, not announced
    html = text(client.get(url, headers=BROWSER))
    assert 'class="warning" id="problems">' in html and "3 items to finish before you can submit" in html


def test_an_executable_is_refused_once_in_plain_words(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    r = _web_upload(client, url, token, b"MZ\x90\x00" + PNG, "setup.png", BROWSER)
    html = text(client.get(location(r), headers=BROWSER))
    assert html.count("is a program (an executable file)") == 1
    assert "“setup.png” is a program" in html and "file:" not in html
    r = _web_upload(client, url, token, b"MZ\x90\x00" + PNG, "setup.png", {"Accept": "application/json"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"].startswith("“setup.png” is a program") and body["error"].count("program") == 1


def test_several_files_in_one_upload(client: Any, session: Any, earner: Any) -> None:
    url, token = _start(client, portfolio_version())
    html = text(client.get(url, headers=BROWSER))
    assert 'name="file" required multiple' in html and "up to 2 more" in html
    data = {
        "csrf_token": token,
        "lock_version": _lock(html),
        "requirement_key": "artefact",
        "file": [(io.BytesIO(PNG), "one.png"), (io.BytesIO(b"%PDF-1.7\n" + b"1" * 50), "two.pdf")],
    }
    r = client.post(f"{url}/files", data=data, headers=BROWSER, content_type="multipart/form-data")
    assert r.status_code == 302
    html = text(client.get(location(r), headers=BROWSER))
    assert "2 files uploaded." in html and "one.png" in html and "two.pdf" in html
    # the requirement is full: the form says so and no longer offers several
    assert "has all the files it takes" in html and "multiple" not in html.split('id="file-artefact"')[1][:80]
    # a third file is refused whole, in plain words, and nothing is added
    data["file"] = [(io.BytesIO(PNG), "three.png")]
    data["lock_version"] = _lock(html)
    r = client.post(f"{url}/files", data=data, headers=BROWSER, content_type="multipart/form-data")
    html = text(client.get(location(r), headers=BROWSER))
    assert "takes at most 2 files: no more fit." in html and "three.png" not in html


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
    # attempt 1's feedback, criterion by criterion, beside attempt 2's editor
    aside = html.split('<aside class="card previous-feedback"', 1)[1].split("</aside>", 1)[0]
    criterion = row.version.criteria[0].name
    assert "Feedback on attempt 1" in aside and "Nearly there." in aside
    assert criterion in aside and "Level reached: Developing" in aside and "Cite the text." in aside
    assert f'href="{url}"' in aside and 'id="answer-reflection"' in html
    # another earner cannot open attempt 2, nor see attempt 1's feedback through it
    second = location(r)
    client.post("/logout", data={"csrf_token": csrf_token(html)}, headers=BROWSER)
    sign_in(client, UserFactory().email)
    assert client.get(second, headers=BROWSER).status_code == 404
    assert client.get(url, headers=BROWSER).status_code == 404


def test_a_passed_submission_links_to_its_badge(client: Any, session: Any) -> None:
    from tests.badges.issued import award, passed_submission

    submission = passed_submission()
    sign_in(client, submission.earner.email)
    url = f"/portfolio/{submission.id}"
    html = text(client.get(url, headers=BROWSER))
    assert "Your badge is being issued" in html and "/badges/" not in html.split('id="badge-link"')[1][:400]
    badge = award(submission)
    html = text(client.get(url, headers=BROWSER))
    assert f'<a href="/badges/{badge.id}">See your badge</a>' in html


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
