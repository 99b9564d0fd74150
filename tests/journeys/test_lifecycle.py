"""The whole lifecycle over the HTTP API, across every domain: author → earner → assessors → badge → verifier.

Each domain has its own tests; this one checks the seams between them (publication feeds submissions,
a final passed decision hands off to issuance exactly once, the badge verifies, revocation shows at once).
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from badges.models import Badge
from core import mail
from core.models import Role
from tests.conftest import bearer
from tests.factories import OrganisationFactory, UserFactory, member, valid_content

REFLECTION = " ".join(["Students cited the text in every answer and argued from evidence."] * 40)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def publish(client: Any, org: Any, author: Any, reviewer: Any) -> dict[str, Any]:
    version = ok(
        client.post(f"/api/v1/organisations/{org.id}/micro-credentials", json=valid_content(), headers=bearer(author)),
        201,
    )
    base = f"/api/v1/credential-versions/{version['id']}"
    ok(client.post(f"{base}/request-review", json={}, headers=bearer(author)))
    ok(client.post(f"{base}/approve", json={"comment": "Ready."}, headers=bearer(reviewer)))
    return ok(client.post(f"{base}/publish", headers=bearer(author)))


def submit_portfolio(client: Any, earner: Any, version_id: str) -> dict[str, Any]:
    sub = ok(client.post("/api/v1/submissions", json={"version_id": version_id}, headers=bearer(earner)), 201)
    ok(
        client.post(
            f"/api/v1/submissions/{sub['id']}/files",
            data={"requirement_key": "lesson-plan", "file": [(io.BytesIO(PDF), "plan.pdf")]},
            headers=bearer(earner),
            content_type="multipart/form-data",
        ),
        201,
    )
    ok(
        client.patch(
            f"/api/v1/submissions/{sub['id']}",
            json={"answers": {"reflection": REFLECTION}, "evidence_public": True},
            headers=bearer(earner),
        )
    )
    return ok(client.post(f"/api/v1/submissions/{sub['id']}/submit", json={}, headers=bearer(earner)))


def score(client: Any, org: Any, assessor: Any, level: int) -> dict[str, Any]:
    claimed = ok(client.post(f"/api/v1/organisations/{org.id}/review-queue/claim", json={}, headers=bearer(assessor)))
    scores = [
        {"criterion_key": key, "level": level, "feedback": "Clear evidence of the practice."}
        for key in ("planning", "analysis")
    ]
    return ok(
        client.post(
            f"/api/v1/review-tasks/{claimed['task']['id']}/submit",
            json={"scores": scores, "summary": "Well evidenced."},
            headers=bearer(assessor),
        )
    )


def test_a_passed_portfolio_becomes_one_verifiable_badge_that_revocation_reaches_at_once(client, session):
    org = OrganisationFactory()
    author, reviewer, admin = member(org, Role.AUTHOR), member(org, Role.AUTHOR), member(org, Role.ORG_ADMIN)
    first, second = member(org, Role.ASSESSOR), member(org, Role.ASSESSOR)
    earner = UserFactory()

    version = publish(client, org, author, reviewer)
    for assessor in (first, second):
        ok(
            client.post(
                f"/api/v1/organisations/{org.id}/assessor-qualifications",
                json={"micro_credential_id": version["micro_credential_id"], "user_id": str(assessor.id)},
                headers=bearer(admin),
            ),
            201,
        )
    submitted = submit_portfolio(client, earner, version["id"])
    assert submitted["state"] == "submitted"

    # The first submissions of a new version are double-scored: two independent passes make it final.
    score(client, org, first, level=3)
    score(client, org, second, level=3)
    mine = ok(client.get(f"/api/v1/submissions/{submitted['id']}", headers=bearer(earner)))
    assert mine["state"] == "passed" and {f["criterion_key"] for f in mine["feedback"]} == {"planning", "analysis"}
    told = [m for m in mail.sent if m.to == earner.email and "reviewed" in m.body]
    assert told, "the earner is told of the decision"
    link = re.search(r"https?://\S+", told[-1].body).group(0)
    assert client.get(urlsplit(link).path, headers={"Accept": "text/html"}).status_code in (200, 302)

    badges = ok(client.get("/api/v1/me/badges", headers=bearer(earner)))
    items = badges["items"] if isinstance(badges, dict) else badges
    assert len(items) == 1
    assert session.scalar(select(func.count()).select_from(Badge)) == 1
    badge = session.scalar(select(Badge))

    credential = ok(client.get(f"/badges/{badge.id}.json"))
    assert credential["credentialSubject"]["achievement"]["name"] == valid_content()["title"]
    report = ok(client.post("/api/v1/verify", json={"credential": credential}))
    assert report["verified"] is True and report["status"] == "valid", report["checks"]
    jwt = client.get(f"/badges/{badge.id}.jwt").get_data(as_text=True)
    assert ok(client.post("/api/v1/verify", json={"credential": jwt}))["status"] == "valid"

    ok(client.post(f"/api/v1/badges/{badge.id}/revoke", json={"reason": "Issued in error."}, headers=bearer(admin)))
    assert ok(client.post("/api/v1/verify", json={"credential": credential}))["status"] == "revoked"
    assert "REVOKED" in client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
