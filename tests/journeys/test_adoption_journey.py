"""Shared definitions over the HTTP API: a state agency publishes and shares, a district adopts, its earner submits
through the adoption, the district's assessors review it in the district's queue, and the badge, signed by the
district and naming the state's Achievement, verifies with our verifier. Hostile requests beside each step."""

from __future__ import annotations

import io
import uuid
from typing import Any

from sqlalchemy import select

from badges.models import Badge
from core.models import Role
from tests.conftest import bearer
from tests.factories import OrganisationFactory, UserFactory, member
from tests.journeys.test_lifecycle import PDF, REFLECTION, ok, publish, score, submit_portfolio


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_a_district_issues_the_states_definition_under_its_own_issuer_and_it_verifies(client, session):
    state = OrganisationFactory(kind="state_agency", name="State Education Agency")
    district = OrganisationFactory(parent=state, name="North District")
    sibling = OrganisationFactory(parent=state, name="South District")
    author, reviewer = member(state, Role.AUTHOR), member(state, Role.AUTHOR)
    state_admin = member(state, Role.ORG_ADMIN)
    district_admin, sibling_admin = member(district, Role.ORG_ADMIN), member(sibling, Role.ORG_ADMIN)
    assessors = [member(district, Role.ASSESSOR), member(district, Role.ASSESSOR)]
    version = publish(client, state, author, reviewer)
    mc = version["micro_credential_id"]

    # Share: hostile first (a district admin, an unknown mode, an unknown field), then for real.
    sharing = f"/api/v1/micro-credentials/{mc}/sharing"
    _problem(client.put(sharing, json={"mode": "adopt"}, headers=bearer(district_admin)), 404)
    _problem(client.put(sharing, json={"mode": "borrow"}, headers=bearer(state_admin)), 422)
    _problem(client.put(sharing, json={"mode": "adopt", "colour": "red"}, headers=bearer(state_admin)), 422)
    _problem(client.put(sharing, json={"mode": "adopt", "scope": "chosen"}, headers=bearer(state_admin)), 422)
    shared = ok(client.put(sharing, json={"mode": "adopt", "scope": "all"}, headers=bearer(state_admin)))
    assert shared["mode"] == "adopt" and shared["active"] is True
    assert ok(client.get(sharing, headers=bearer(state_admin)))["id"] == shared["id"]

    # Adopt: the offer is listed; hostile attempts answer precisely.
    offered = ok(client.get(f"/api/v1/organisations/{district.id}/offered-credentials", headers=bearer(district_admin)))
    assert [o["version"]["id"] for o in offered] == [version["id"]]
    adoptions = f"/api/v1/organisations/{district.id}/adoptions"
    _problem(client.post(adoptions, json={"version_id": version["id"]}, headers=bearer(sibling_admin)), 404)
    _problem(client.post(adoptions, json={"version_id": str(district.id)}, headers=bearer(district_admin)), 404)
    _problem(client.post(adoptions, json={}, headers=bearer(district_admin)), 422)
    adopted = ok(client.post(adoptions, json={"version_id": version["id"]}, headers=bearer(district_admin)), 201)
    assert adopted["version"]["number"] == 1 and adopted["owner"]["id"] == str(state.id)
    double = _problem(client.post(adoptions, json={"version_id": version["id"]}, headers=bearer(district_admin)), 409)
    assert "already adopted" in double["detail"]
    _problem(client.get(f"/api/v1/adoptions/{adopted['id']}", headers=bearer(sibling_admin)), 404)
    _problem(client.post(f"/api/v1/adoptions/{adopted['id']}/upgrade", headers=bearer(district_admin)), 409)
    catalogue = ok(client.get(f"/api/v1/catalogue?organisation={district.id}"))
    assert [v["id"] for v in catalogue] == [version["id"]]

    # The district's assessors qualify for the adopted definition in the district.
    for assessor in assessors:
        ok(
            client.post(
                f"/api/v1/organisations/{district.id}/assessor-qualifications",
                json={"micro_credential_id": mc, "user_id": str(assessor.id)},
                headers=bearer(district_admin),
            ),
            201,
        )
    _problem(
        client.post(
            f"/api/v1/organisations/{sibling.id}/assessor-qualifications",
            json={"micro_credential_id": mc, "user_id": str(member(sibling, Role.ASSESSOR).id)},
            headers=bearer(sibling_admin),
        ),
        404,
    )

    # The earner submits through the adoption; the district's queue reviews it, the state's never sees it.
    earner = UserFactory()
    started = ok(
        client.post(
            "/api/v1/submissions",
            json={"version_id": version["id"], "adoption_id": adopted["id"]},
            headers=bearer(earner),
        ),
        201,
    )
    assert started["organisation_id"] == str(district.id)
    ok(client.post(f"/api/v1/submissions/{started['id']}/withdraw", json={}, headers=bearer(earner)))
    submitted = _submit_through(client, earner, version["id"], adopted["id"])
    assert submitted["organisation_id"] == str(district.id)
    state_queue = ok(client.get(f"/api/v1/organisations/{state.id}/review-queue", headers=bearer(state_admin)))
    assert state_queue["total"] == 0
    score(client, district, assessors[0], level=3)
    score(client, district, assessors[1], level=3)
    assert ok(client.get(f"/api/v1/submissions/{submitted['id']}", headers=bearer(earner)))["state"] == "passed"

    badge = session.scalar(select(Badge).where(Badge.submission_id == uuid.UUID(submitted["id"])))
    assert badge.organisation_id == district.id
    credential = ok(client.get(f"/badges/{badge.id}.json"))
    assert credential["issuer"]["id"] == f"did:web:localhost:issuers:{district.id}"
    assert credential["issuer"]["name"] == "North District"
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["id"] == f"http://localhost/achievements/{version['id']}"  # the state's Achievement
    assert achievement["creator"]["id"] == f"did:web:localhost:issuers:{state.id}"
    report = ok(client.post("/api/v1/verify", json={"credential": credential}))
    assert report["verified"] is True and report["status"] == "valid", report["checks"]
    jwt = client.get(f"/badges/{badge.id}.jwt").get_data(as_text=True)
    assert ok(client.post("/api/v1/verify", json={"credential": jwt}))["status"] == "valid"

    # The state's report names the district and its version; withdrawing keeps the badge valid.
    report_rows = ok(client.get(f"/api/v1/organisations/{state.id}/shared-credentials", headers=bearer(state_admin)))
    assert [(a["adoption"]["organisation"]["name"], a["current"]) for a in report_rows[0]["adoptions"]] == [
        ("North District", True)
    ]
    withdrawn = ok(client.post(f"/api/v1/adoptions/{adopted['id']}/withdraw", headers=bearer(district_admin)))
    assert withdrawn["state"] == "withdrawn"
    refused = client.post(
        "/api/v1/submissions",
        json={"version_id": version["id"], "adoption_id": adopted["id"]},
        headers=bearer(UserFactory()),
    )
    _problem(refused, 409)
    assert ok(client.post("/api/v1/verify", json={"credential": credential}))["status"] == "valid"


def _submit_through(client: Any, earner: Any, version_id: str, adoption_id: str) -> dict[str, Any]:
    """The lifecycle test's portfolio, started through an adoption."""
    sub = ok(
        client.post(
            "/api/v1/submissions", json={"version_id": version_id, "adoption_id": adoption_id}, headers=bearer(earner)
        ),
        201,
    )
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
            f"/api/v1/submissions/{sub['id']}", json={"answers": {"reflection": REFLECTION}}, headers=bearer(earner)
        )
    )
    return ok(client.post(f"/api/v1/submissions/{sub['id']}/submit", json={}, headers=bearer(earner)))


def test_issue_centrally_the_parent_reviews_and_issues(client, session):
    state = OrganisationFactory(kind="state_agency")
    district = OrganisationFactory(parent=state)
    author, reviewer, admin = member(state, Role.AUTHOR), member(state, Role.AUTHOR), member(state, Role.ORG_ADMIN)
    version = publish(client, state, author, reviewer)
    ok(
        client.put(
            f"/api/v1/micro-credentials/{version['micro_credential_id']}/sharing",
            json={"mode": "central"},
            headers=bearer(admin),
        )
    )
    assert [v["id"] for v in ok(client.get(f"/api/v1/catalogue?organisation={district.id}"))] == [version["id"]]
    refused = client.post(
        f"/api/v1/organisations/{district.id}/adoptions",
        json={"version_id": version["id"]},
        headers=bearer(member(district, Role.ORG_ADMIN)),
    )
    assert "centrally" in _problem(refused, 409)["detail"]
    submitted = submit_portfolio(client, UserFactory(), version["id"])
    assert submitted["organisation_id"] == str(state.id)
