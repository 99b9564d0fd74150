"""Earners' submissions through the API: drafting, uploads, submitting, attempts, privacy and bad input."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from core import audit, storage
from core.models import Role, User
from credentials.portfolios import services
from credentials.portfolios.models import CriterionFeedback, EvidenceFile, Submission, SubmissionState
from tests.conftest import bearer, problem
from tests.factories import UserFactory, member, portfolio_version

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 200
REFLECTION = "I planned the lesson, taught it, and reflected with my team afterwards."


def _files_in_store(app: Any) -> list[str]:
    with app.app_context():
        store = storage.backend()
        assert not list(store.staging_dir.glob("upload-*")), "a staging file was left behind"
        return [digest for digest, _ in store.list()]


def _start(client: Any, user: Any, version: Any) -> dict[str, Any]:
    response = client.post("/api/v1/submissions", json={"version_id": str(version.id)}, headers=bearer(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    return {**response.get_json(), "etag": response.headers["ETag"]}


def _upload(client: Any, user: Any, sub: dict[str, Any], *files: tuple[bytes, str], key: str = "artefact") -> Any:
    data = {"requirement_key": key, "file": [(io.BytesIO(content), name) for content, name in files]}
    return client.post(
        f"/api/v1/submissions/{sub['id']}/files", data=data, headers=bearer(user), content_type="multipart/form-data"
    )


def _fill(client: Any, user: Any, sub: dict[str, Any]) -> str:
    response = client.patch(
        f"/api/v1/submissions/{sub['id']}",
        json={"answers": {"reflection": REFLECTION, "video": "https://video.example/lesson"}},
        headers=bearer(user),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    response = _upload(client, user, sub, (PNG, "plan.png"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.headers["ETag"])


@pytest.fixture
def version(session: Any) -> Any:
    return portfolio_version()


@pytest.fixture
def earner(session: Any) -> Any:
    return UserFactory()


def test_draft_upload_submit_and_download(client: Any, version: Any, earner: Any, app: Any) -> None:
    sub = _start(client, earner, version)
    assert sub["state"] == "draft" and sub["attempt"] == 1 and sub["reference"].startswith("S-")
    assert {p["pointer"] for p in sub["problems"]} == {"#/answers/reflection", "#/answers/video", "#/files/artefact"}
    _fill(client, earner, sub)
    body = client.get(f"/api/v1/submissions/{sub['id']}", headers=bearer(earner)).get_json()
    assert body["problems"] == [] and body["files"][0]["media_type"] == "image/png"
    response = client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(earner))
    assert response.status_code == 200 and response.get_json()["state"] == "submitted"
    download = client.get(f"/api/v1/submissions/{sub['id']}/files/{body['files'][0]['id']}", headers=bearer(earner))
    assert download.status_code == 200 and download.data == PNG
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert body["files"][0]["sha256"] in _files_in_store(app)


def test_submit_lists_every_missing_and_out_of_bounds_item(client: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    client.patch(
        f"/api/v1/submissions/{sub['id']}", json={"answers": {"reflection": "Too short."}}, headers=bearer(earner)
    )
    body = problem(client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(earner)), 422)
    pointers = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert set(pointers) == {"#/answers/reflection", "#/answers/video", "#/files/artefact"}
    assert "at least 5" in pointers["#/answers/reflection"]


def test_two_tabs_conflict_is_detected(client: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    first = client.patch(
        f"/api/v1/submissions/{sub['id']}",
        json={"answers": {"reflection": "tab one"}},
        headers={**bearer(earner), "If-Match": sub["etag"]},
    )
    assert first.status_code == 200 and first.headers["ETag"] != sub["etag"]
    stale = client.patch(
        f"/api/v1/submissions/{sub['id']}",
        json={"answers": {"reflection": "tab two"}},
        headers={**bearer(earner), "If-Match": sub["etag"]},
    )
    problem(stale, 412)
    assert client.get(f"/api/v1/submissions/{sub['id']}", headers=bearer(earner)).get_json()["answers"][0]["text"] == (
        "tab one"
    )


def test_one_open_submission_and_the_attempt_limit(client: Any, session: Any, earner: Any) -> None:
    version = portfolio_version(max_attempts=2)
    sub = _start(client, earner, version)
    problem(client.post("/api/v1/submissions", json={"version_id": str(version.id)}, headers=bearer(earner)), 409)
    # a "not yet" decision (the review domain's job), with feedback
    row = session.get(Submission, uuid.UUID(sub["id"]))
    row.state, row.decided_at, row.feedback_summary = SubmissionState.NOT_YET.value, row.created_at, "Add more detail."
    row.answers.clear()
    session.add(CriterionFeedback(submission=row, criterion_key="quality", level_position=1, level_name="Developing"))
    session.add(
        EvidenceFile(
            submission=row,
            requirement_key="artefact",
            sha256="a" * 64,
            size=3,
            media_type="image/png",
            filename="x.png",
        )
    )
    session.flush()
    response = client.post(f"/api/v1/submissions/{sub['id']}/next-attempt", headers=bearer(earner))
    assert response.status_code == 201, response.get_data(as_text=True)
    second = response.get_json()
    assert second["attempt"] == 2 and second["previous_id"] == sub["id"]
    assert [f["sha256"] for f in second["files"]] == ["a" * 64], "file rows copied, same bytes"
    history = client.get(f"/api/v1/submissions/{second['id']}/history", headers=bearer(earner)).get_json()
    assert [h["attempt"] for h in history] == [1, 2]
    assert history[0]["feedback"][0]["level_name"] == "Developing"
    assert history[0]["feedback_summary"] == "Add more detail."
    session.get(Submission, uuid.UUID(second["id"])).state = SubmissionState.NOT_YET.value
    session.flush()
    problem(client.post(f"/api/v1/submissions/{second['id']}/next-attempt", headers=bearer(earner)), 409)


def test_withdraw_before_review_only(client: Any, session: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    _fill(client, earner, sub)
    client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(earner))
    assert client.post(f"/api/v1/submissions/{sub['id']}/withdraw", headers=bearer(earner)).get_json()["state"] == (
        "withdrawn"
    )
    again = _start(client, earner, version)
    session.get(Submission, uuid.UUID(again["id"])).state = SubmissionState.IN_REVIEW.value
    session.flush()
    problem(client.post(f"/api/v1/submissions/{again['id']}/withdraw", headers=bearer(earner)), 409)


def test_evidence_public_toggle_and_list(client: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    response = client.patch(f"/api/v1/submissions/{sub['id']}", json={"evidence_public": True}, headers=bearer(earner))
    assert response.get_json()["evidence_public"] is True
    listed = client.get("/api/v1/submissions", headers=bearer(earner)).get_json()
    assert [s["id"] for s in listed] == [sub["id"]]


def test_privacy_only_earner_and_org_admin_assessors_go_the_blind_way(client: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    stranger, admin = UserFactory(), member(version.organisation, Role.ORG_ADMIN)
    assessor = member(version.organisation, Role.ASSESSOR)
    for outsider in (stranger, assessor):
        problem(client.get(f"/api/v1/submissions/{sub['id']}", headers=bearer(outsider)), 404)
        problem(client.patch(f"/api/v1/submissions/{sub['id']}", json={}, headers=bearer(outsider)), 404)
        problem(_upload(client, outsider, sub, (PNG, "x.png")), 404)
    assert client.get(f"/api/v1/submissions/{sub['id']}", headers=bearer(admin)).status_code == 200
    problem(client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(admin)), 403)


# --- bad input: a precise 4xx and no trace ---------------------------------------------------------------


def _no_trace(app: Any, session: Any, sub: dict[str, Any], before: list[str]) -> None:
    assert (
        session.scalar(
            select(func.count()).select_from(EvidenceFile).where(EvidenceFile.submission_id == uuid.UUID(sub["id"]))
        )
        == 0
    )
    assert _files_in_store(app) == before


@pytest.mark.parametrize(
    ("content", "name", "status", "detail"),
    [
        (b"", "empty.png", 422, "empty"),
        (b"MZ\x90\0" + PNG, "photo.png", 422, "executable"),
        (b"\x7fELF" + PNG, "photo.png", 422, "executable"),
        (b"<svg onload='alert(1)'/>", "x.png", 422, "SVG"),
        (b"<!doctype html><script>alert(1)</script>", "x.pdf", 422, "HTML"),
        (b"just text", "notes.png", 422, "not an allowed type"),
        (PNG, "../../etc/passwd", 422, "plain name"),
        (PNG, "evil\x07.png", 422, "control"),
    ],
)
def test_bad_files_are_refused_without_trace(
    client: Any, session: Any, app: Any, version: Any, earner: Any, content: bytes, name: str, status: int, detail: str
) -> None:
    sub = _start(client, earner, version)
    before = _files_in_store(app)
    body = problem(_upload(client, earner, sub, (content, name)), status)
    assert detail in body["detail"] or any(detail in e["detail"] for e in body.get("errors", []))
    _no_trace(app, session, sub, before)


def test_oversized_file_is_413(
    client: Any, session: Any, app: Any, version: Any, earner: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILE_SIZE", 1000)
    sub = _start(client, earner, version)
    before = _files_in_store(app)
    problem(_upload(client, earner, sub, (PNG + b"\0" * 900, "big.png")), 413)  # the request itself is allowed
    problem(_upload(client, earner, sub, (PNG + b"\0" * 100_000, "huge.png")), 413)  # the request is too large
    _no_trace(app, session, sub, before)


def test_submission_total_size_and_count_limits(
    client: Any, session: Any, app: Any, earner: Any, monkeypatch: Any
) -> None:
    version = portfolio_version()
    version.requirements[2].max_files = None
    session.flush()
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_FILES", 2)
    sub = _start(client, earner, version)
    before = _files_in_store(app)
    body = problem(_upload(client, earner, sub, (PNG, "a.png"), (PNG + b"1", "b.png"), (PNG + b"2", "c.png")), 422)
    assert "at most 2 files" in body["detail"]
    _no_trace(app, session, sub, before)
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_SUBMISSION_SIZE", len(PNG) + 10)
    body = problem(_upload(client, earner, sub, (PNG, "a.png"), (PNG + b"1", "b.png")), 413)
    assert "total limit" in body["detail"]
    _no_trace(app, session, sub, before)


def test_ten_thousand_tiny_files_are_refused_cheaply(
    client: Any, session: Any, app: Any, version: Any, earner: Any
) -> None:
    sub = _start(client, earner, version)
    before = _files_in_store(app)
    response = _upload(client, earner, sub, *[(b"x", f"{i}.txt") for i in range(10_000)])
    assert response.status_code == 413  # Werkzeug stops parsing at 1,000 form parts
    _no_trace(app, session, sub, before)


def test_truncated_multipart_body(client: Any, session: Any, app: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    before = _files_in_store(app)
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="requirement_key"\r\n\r\nartefact\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode() + PNG[:50]
    response = client.post(
        f"/api/v1/submissions/{sub['id']}/files",
        data=body,
        headers={**bearer(earner), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert "incomplete" in problem(response, 400)["detail"]
    _no_trace(app, session, sub, before)


def test_five_megabyte_text_answer_is_413(client: Any, session: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    response = client.patch(
        f"/api/v1/submissions/{sub['id']}",
        data=json.dumps({"answers": {"reflection": "word " * 1_000_000}}),
        headers=bearer(earner),
        content_type="application/json",
    )
    problem(response, 413)
    assert session.scalar(select(func.count()).select_from(sa.table("answers"))) == 0


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,<script>", "file:///etc/passwd", "/relative", "http://", "https://a b"],
)
def test_bad_links_are_refused(client: Any, session: Any, version: Any, earner: Any, url: str) -> None:
    sub = _start(client, earner, version)
    body = problem(
        client.patch(f"/api/v1/submissions/{sub['id']}", json={"answers": {"video": url}}, headers=bearer(earner)), 422
    )
    assert body["errors"][0]["pointer"] == "#/answers/video"
    assert session.scalar(select(func.count()).select_from(sa.table("answers"))) == 0


def test_unknown_requirement_key_and_wrong_kind(client: Any, version: Any, earner: Any) -> None:
    sub = _start(client, earner, version)
    body = problem(
        client.patch(f"/api/v1/submissions/{sub['id']}", json={"answers": {"nope": "x"}}, headers=bearer(earner)), 422
    )
    assert body["errors"][0]["pointer"] == "#/answers/nope"
    problem(
        client.patch(f"/api/v1/submissions/{sub['id']}", json={"answers": {"artefact": "x"}}, headers=bearer(earner)),
        422,
    )
    problem(_upload(client, earner, sub, (PNG, "a.png"), key="nope"), 422)
    problem(_upload(client, earner, sub, (PNG, "a.png"), key="reflection"), 422)


def test_answering_a_submitted_or_decided_submission_is_409(
    client: Any, session: Any, version: Any, earner: Any
) -> None:
    sub = _start(client, earner, version)
    _fill(client, earner, sub)
    client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(earner))
    problem(
        client.patch(f"/api/v1/submissions/{sub['id']}", json={"answers": {"reflection": "x"}}, headers=bearer(earner)),
        409,
    )
    problem(_upload(client, earner, sub, (PNG + b"!", "b.png")), 409)
    session.get(Submission, uuid.UUID(sub["id"])).state = SubmissionState.PASSED.value
    session.flush()
    problem(client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=bearer(earner)), 409)


def test_unpublished_version_cannot_be_started(client: Any, session: Any, earner: Any) -> None:
    from tests.factories import CredentialVersionFactory

    draft = CredentialVersionFactory()
    problem(client.post("/api/v1/submissions", json={"version_id": str(draft.id)}, headers=bearer(earner)), 404)


# --- faults: nothing lost, nothing orphaned -----------------------------------------------------------


def test_storage_failure_leaves_no_row(
    client: Any, session: Any, app: Any, version: Any, earner: Any, monkeypatch: Any
) -> None:
    sub = _start(client, earner, version)
    before = _files_in_store(app)

    def broken_replace(*args: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    problem(_upload(client, earner, sub, (PNG + b"never stored", "plan.png")), 503)
    _no_trace(app, session, sub, before)


def test_database_failure_after_upload_leaves_an_orphan_that_gc_removes(
    client: Any, session: Any, app: Any, version: Any, earner: Any, monkeypatch: Any
) -> None:
    from datetime import timedelta

    from core import clock

    sub = _start(client, earner, version)
    before = _files_in_store(app)

    def failing_record(**kwargs: Any) -> None:
        raise sa.exc.IntegrityError("INSERT", {}, Exception("database went away"))

    monkeypatch.setattr(audit, "record", failing_record)
    problem(_upload(client, earner, sub, (PNG + b"orphan", "plan.png")), 409)
    monkeypatch.undo()
    orphaned = set(_files_in_store(app)) - set(before)
    assert len(orphaned) == 1
    assert (
        session.scalar(
            select(func.count()).select_from(EvidenceFile).where(EvidenceFile.submission_id == uuid.UUID(sub["id"]))
        )
        == 0
    )
    with app.app_context():
        assert storage.collect_garbage(grace=timedelta(hours=1)) == [], "in-flight uploads are safe"
        with clock.shifted(timedelta(hours=2)):
            removed = set(storage.collect_garbage(grace=timedelta(hours=1)))
    assert orphaned <= removed
    assert not orphaned & set(_files_in_store(app))


def test_gc_keeps_referenced_files(client: Any, session: Any, app: Any, version: Any, earner: Any) -> None:
    from datetime import timedelta

    from core import clock

    sub = _start(client, earner, version)
    _fill(client, earner, sub)
    digest = client.get(f"/api/v1/submissions/{sub['id']}", headers=bearer(earner)).get_json()["files"][0]["sha256"]
    with app.app_context(), clock.shifted(timedelta(days=3)):
        assert digest not in storage.collect_garbage(grace=timedelta(hours=1))
    assert digest in _files_in_store(app)


def test_openapi_documents_the_submission_endpoints(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/submissions/{submission_id}/files" in paths
    assert "multipart/form-data" in paths["/api/v1/submissions/{submission_id}/files"]["post"]["requestBody"]["content"]


def test_docs_exist(app: Any) -> None:
    assert "EVIDENCE_MAX_FILE_SIZE" in (Path(__file__).parents[2] / "docs" / "evidence.md").read_text()


def test_upload_and_download_through_s3(
    client: Any,
    session: Any,
    app: Any,
    version: Any,
    earner: Any,
    monkeypatch: Any,
    s3_server: str,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    from tests.conftest import S3_TEST_SETTINGS

    config = {"S3_ENDPOINT_URL": s3_server, **S3_TEST_SETTINGS}
    store = storage.S3Backend(s3_bucket, "api", config, staging_dir=tmp_path / "staging")
    monkeypatch.setitem(app.extensions, "storage", store)
    sub = _start(client, earner, version)
    response = _upload(client, earner, sub, (PNG + b"s3", "plan.png"))
    assert response.status_code == 201, response.get_data(as_text=True)
    file = response.get_json()[0]
    assert store.exists(file["sha256"])
    download = client.get(f"/api/v1/submissions/{sub['id']}/files/{file['id']}", headers=bearer(earner))
    assert download.status_code == 302 and download.headers["Location"].startswith(s3_server)
    assert "response-content-disposition=attachment" in download.headers["Location"]


def test_the_demo_gives_the_earner_a_draft_a_submitted_and_a_not_yet_submission(app: Any, session: Any) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    from core.demo import DEMO_DOMAIN

    earner = session.scalar(select(User.id).where(User.email == f"earner@{DEMO_DOMAIN}"))
    rows = list(session.scalars(select(Submission).where(Submission.earner_id == earner)))
    # Later demo steps (review, issuing) move some of the earner's submissions on; these three remain.
    states = {s.state for s in rows}
    assert {"draft", "not_yet"} <= states and states & {"submitted", "in_review"}
    not_yet = next(s for s in rows if s.state == "not_yet")
    assert not_yet.feedback and not_yet.feedback_summary
    submitted = next(s for s in rows if s.state in ("submitted", "in_review"))
    assert services.problems(submitted) == []
    stored = set(_files_in_store(app))
    assert {f.sha256 for s in rows for f in s.files} <= stored
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    # The three above and the renewal of a badge near expiry (badges' demo step); a second run adds none.
    assert session.scalar(select(func.count()).select_from(Submission).where(Submission.earner_id == earner)) == 4


def test_state_changes_are_audited_and_withdrawn_attempts_do_not_count(client: Any, session: Any, earner: Any) -> None:
    from core.models import AuditEvent

    version = portfolio_version(max_attempts=1)
    sub = _start(client, earner, version)
    client.post(f"/api/v1/submissions/{sub['id']}/withdraw", headers=bearer(earner))
    again = _start(client, earner, version)  # the withdrawn one used no attempt
    assert again["attempt"] == 2 and again["reference"] != sub["reference"]
    _fill(client, earner, again)
    client.post(f"/api/v1/submissions/{again['id']}/submit", headers=bearer(earner))
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id.in_([sub["id"], again["id"]]))))
    assert {"submission.started", "submission.withdrawn", "submission.files_added", "submission.submitted"} <= actions
    client.post(f"/api/v1/submissions/{again['id']}/withdraw", headers=bearer(earner))
    session.get(Submission, uuid.UUID(again["id"])).state = SubmissionState.NOT_YET.value
    session.flush()
    body = problem(
        client.post("/api/v1/submissions", json={"version_id": str(version.id)}, headers=bearer(earner)), 409
    )
    assert "all 1 attempts" in body["detail"]


def test_stale_if_match_on_upload_and_submit_is_412(
    client: Any, session: Any, app: Any, version: Any, earner: Any
) -> None:
    sub = _start(client, earner, version)
    etag = _fill(client, earner, sub)
    before = _files_in_store(app)
    data = {"requirement_key": "artefact", "file": [(io.BytesIO(PNG + b"late"), "late.png")]}
    stale = {**bearer(earner), "If-Match": sub["etag"]}
    problem(client.post(f"/api/v1/submissions/{sub['id']}/files", data=data, headers=stale), 412)
    assert _files_in_store(app) == before
    problem(client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=stale), 412)
    current = {**bearer(earner), "If-Match": etag}
    assert client.post(f"/api/v1/submissions/{sub['id']}/submit", headers=current).status_code == 200


def test_references_are_random_pseudonyms(session: Any) -> None:
    import re

    earner = UserFactory()
    references = {services.start(actor=earner, version_id=portfolio_version().id).reference for _ in range(5)}
    assert len(references) == 5
    assert all(re.fullmatch(r"S-[2-9A-HJ-NP-Z]{10}", r) for r in references)
