"""Review API wiring: status codes, problem documents with JSON pointers, blind bodies, CSV reports."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from assessors.models import Review
from core.models import Role
from credentials.portfolios.models import SubmissionState
from tests.assessors.test_services import World, full_scores
from tests.conftest import bearer, problem
from tests.factories import EvidenceFileFactory, OrganisationFactory, member


def _claim(client, world, who):
    return client.post(f"/api/v1/organisations/{world.org.id}/review-queue/claim", json={}, headers=bearer(who))


def test_claim_score_and_submit_over_http(client, session):
    world = World(session)
    earner = member(world.org, name="Ottoline Fairweather", email="ottoline@example.org")
    submission = world.submission(earner=earner)
    EvidenceFileFactory(submission=submission, filename="ottoline-fairweather.pdf")

    queue = client.get(f"/api/v1/organisations/{world.org.id}/review-queue", headers=bearer(world.assessor))
    assert queue.status_code == 200 and queue.json["total"] == 1 and queue.json["items"][0]["reference"]

    response = _claim(client, world, world.assessor)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for secret in ("Ottoline", "Fairweather", "ottoline", str(earner.id)):
        assert secret not in body
    task_id = response.json["task"]["id"]
    assert response.json["submission"]["files"][0]["label"].startswith("file 1 (png")

    saved = client.put(
        f"/api/v1/review-tasks/{task_id}/scores",
        json={"scores": [{"criterion_key": "quality", "level": 1}]},
        headers=bearer(world.assessor),
    )
    assert saved.status_code == 200 and saved.json["state"] == "draft"

    incomplete = problem(
        client.post(f"/api/v1/review-tasks/{task_id}/submit", json={}, headers=bearer(world.assessor)), 422
    )
    assert {e["field"] for e in incomplete["errors"]} == {"/scores/0/feedback", "/scores/1/level", "/summary"}

    done = client.post(
        f"/api/v1/review-tasks/{task_id}/submit",
        json={"scores": full_scores(3, 3), "summary": "Well evidenced."},
        headers=bearer(world.assessor),
    )
    assert done.status_code == 200 and done.json["decision"] == "passed"
    again = client.post(
        f"/api/v1/review-tasks/{task_id}/submit",
        json={"scores": full_scores(3, 3), "summary": "Again."},
        headers=bearer(world.assessor),
    )
    problem(again, 409)
    assert _claim(client, world, world.assessor).status_code == 204


def test_bad_scoring_requests_are_precise_4xx_and_change_nothing(client, session):
    world = World(session)
    world.submission()
    task_id = _claim(client, world, world.assessor).json["task"]["id"]
    url = f"/api/v1/review-tasks/{task_id}/scores"
    problem(client.put(url, json={"scores": full_scores()}, headers=bearer(world.assessor2)), 403)
    stranger = member(OrganisationFactory(), Role.ASSESSOR)
    problem(client.put(url, json={"scores": full_scores()}, headers=bearer(stranger)), 404)  # foreign ids are unknown
    bad = problem(
        client.put(url, json={"scores": [{"criterion_key": "quality", "level": 9}]}, headers=bearer(world.assessor)),
        422,
    )
    assert bad["errors"][0]["field"] == "/scores/0/level"
    problem(client.put(url, json={"scores": [], "extra": 1}, headers=bearer(world.assessor)), 422)
    problem(client.put(url, json={"scores": full_scores()}), 401)
    problem(client.get(f"/api/v1/review-tasks/{uuid.uuid4()}", headers=bearer(world.assessor)), 404)
    assert session.scalar(select(func.count()).select_from(Review)) == 0


def test_release_and_my_claims(client, session):
    world = World(session)
    world.submission()
    task_id = _claim(client, world, world.assessor).json["task"]["id"]
    mine = client.get("/api/v1/review-tasks/mine", headers=bearer(world.assessor))
    assert [t["id"] for t in mine.json] == [task_id]
    assert client.post(f"/api/v1/review-tasks/{task_id}/release", headers=bearer(world.assessor)).status_code == 200
    assert client.get("/api/v1/review-tasks/mine", headers=bearer(world.assessor)).json == []


def test_admin_endpoints_and_reports(client, session):
    world = World(session)
    admin = bearer(world.admin)
    url = f"/api/v1/organisations/{world.org.id}/review-settings"
    assert client.patch(url, json={"turnaround_hours": 24}, headers=admin).json["turnaround_hours"] == 24
    problem(client.patch(url, json={"double_share": 2}, headers=admin), 422)
    problem(client.patch(url, json={"turnaround_hours": 24}, headers=bearer(world.assessor)), 403)
    quals = client.get(f"/api/v1/organisations/{world.org.id}/assessor-qualifications", headers=admin)
    assert len(quals.json) == 3
    new = member(world.org, Role.ASSESSOR)
    made = client.post(
        f"/api/v1/organisations/{world.org.id}/assessor-qualifications",
        json={"micro_credential_id": str(world.mc_id), "user_id": str(new.id), "is_lead": True},
        headers=admin,
    )
    assert made.status_code == 201 and made.json["is_lead"] is True
    assert client.delete(f"/api/v1/assessor-qualifications/{made.json['id']}", headers=admin).status_code == 204

    reports_url = f"/api/v1/organisations/{world.org.id}/review-reports"
    assert client.get(f"{reports_url}/credentials", headers=admin).status_code == 200
    csv_response = client.get(f"{reports_url}/assessors?format=csv", headers=admin)
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    problem(client.get(f"{reports_url}/credentials?format=xml", headers=admin), 422)
    trend = client.get(f"{reports_url}/trend?months=3", headers=admin)
    assert trend.status_code == 200 and len(trend.json) == 3 and set(trend.json[0]) >= {"month", "decided"}
    assert client.get(f"{reports_url}/trend?format=csv", headers=admin).text.startswith("month,decided")
    for bad in ("0", "37", "x", "99999999999999999999"):
        problem(client.get(f"{reports_url}/trend?months={bad}", headers=admin), 422)
    problem(client.get(f"{reports_url}/trend", headers=bearer(world.assessor)), 403)
    problem(client.get(f"{reports_url}/credentials", headers=bearer(world.assessor)), 403)


def test_appeal_over_http(client, session):
    world = World(session)
    submission = world.submission()
    task_id = _claim(client, world, world.assessor).json["task"]["id"]
    client.post(
        f"/api/v1/review-tasks/{task_id}/submit",
        json={"scores": full_scores(0, 0, "More evidence."), "summary": "Not yet."},
        headers=bearer(world.assessor),
    )
    session.refresh(submission)
    assert submission.state == SubmissionState.NOT_YET.value
    url = f"/api/v1/submissions/{submission.id}/appeal"
    problem(client.post(url, json={"reason": " "}, headers=bearer(submission.earner)), 422)
    problem(client.post(url, json={"reason": "Mine?"}, headers=bearer(world.assessor)), 404)
    assert client.post(url, json={"reason": "Look again."}, headers=bearer(submission.earner)).status_code == 201
    problem(client.post(url, json={"reason": "Again."}, headers=bearer(submission.earner)), 409)


def test_calibration_over_http(client, session):
    world = World(session)
    author = member(world.org, Role.AUTHOR)
    anchor_submission = world.submission()
    made = client.post(
        f"/api/v1/micro-credentials/{world.mc_id}/calibration-anchors",
        json={"submission_id": str(anchor_submission.id), "agreed_levels": {"quality": 2, "impact": 1}},
        headers=bearer(author),
    )
    assert made.status_code == 201
    shown = client.get(f"/api/v1/micro-credentials/{world.mc_id}/calibration", headers=bearer(world.assessor))
    assert shown.json["status"] == {"required": True, "current": False, "lapsed": False, "last_passed_at": None}
    attempt = client.post(
        f"/api/v1/micro-credentials/{world.mc_id}/calibration",
        json={"levels": {made.json["id"]: {"quality": 2, "impact": 1}}},
        headers=bearer(world.assessor),
    )
    assert attempt.status_code == 201 and attempt.json["passed"] is True
    stranger = member(OrganisationFactory(), Role.ASSESSOR)
    problem(client.get(f"/api/v1/micro-credentials/{world.mc_id}/calibration", headers=bearer(stranger)), 403)


def test_evidence_download_is_blind_and_only_for_the_claimant(client, session, app):
    import hashlib
    import tempfile
    from pathlib import Path

    from core import storage
    from tests.factories import png_bytes

    world = World(session)
    submission = world.submission(earner=member(world.org, name="Ottoline Fairweather"))
    data = png_bytes(3, 3)
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        path.write_bytes(data)
        storage.backend().put(path, digest)
    file = EvidenceFileFactory(
        submission=submission, filename="ottoline-fairweather.png", sha256=digest, size=len(data)
    )
    url = f"/api/v1/review-evidence/{file.id}"
    problem(client.get(url, headers=bearer(world.assessor)), 403)  # not claimed yet
    assert _claim(client, world, world.assessor).status_code == 200

    response = client.get(url, headers=bearer(world.assessor))
    assert response.status_code == 200 and response.data == data
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and submission.reference in disposition
    assert "ottoline" not in disposition.lower()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    other = member(world.org, Role.ASSESSOR)
    problem(client.get(url, headers=bearer(other)), 403)
    problem(client.get(f"/api/v1/review-evidence/{uuid.uuid4()}", headers=bearer(world.assessor)), 404)
