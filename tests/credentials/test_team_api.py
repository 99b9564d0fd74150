"""The design team API and pages over HTTP: wiring, status codes, problem documents, hostile input, CSV."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.models import Role
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_web import BROWSER, sign_in, text
from tests.factories import OrganisationFactory, member, valid_content


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


@pytest.fixture
def org(session) -> Any:
    return OrganisationFactory(name="Riverside")


@pytest.fixture
def admin(org) -> Any:
    return member(org, Role.ORG_ADMIN, name="Olivia Admin")


@pytest.fixture
def ana(org) -> Any:
    return member(org, Role.AUTHOR, name="Ana Author")


@pytest.fixture
def rita(org) -> Any:
    return member(org, Role.AUTHOR, name="Rita Reviewer")


def make_team(client: Any, org: Any, admin: Any, *members: Any, name: str = "Literacy team") -> dict[str, Any]:
    body = {"name": name, "member_ids": [str(m.id) for m in members]}
    return ok(client.post(f"/api/v1/organisations/{org.id}/design-teams", json=body, headers=bearer(admin)), 201)


def test_a_team_drafts_gets_reviewed_from_outside_and_publishes(client, org, admin, ana, rita):
    team = make_team(client, org, admin, ana)
    assert [m["name"] for m in team["members"]] == ["Ana Author"]
    version = ok(
        client.post(f"/api/v1/design-teams/{team['id']}/micro-credentials", json=valid_content(), headers=bearer(ana)),
        201,
    )
    assert version["team_id"] == team["id"] and version["stage"] == "draft"
    vid = version["id"]
    problem(client.patch(f"/api/v1/credential-versions/{vid}", json={"title": "Rita's"}, headers=bearer(rita)), 403)
    ok(client.patch(f"/api/v1/credential-versions/{vid}", json={"title": "Ana's"}, headers=bearer(ana)))
    ok(client.post(f"/api/v1/credential-versions/{vid}/request-review", json={}, headers=bearer(ana)))
    doc = problem(client.post(f"/api/v1/credential-versions/{vid}/publish", headers=bearer(ana)), 409)
    assert "reviewer outside its design team" in doc["detail"]
    ok(client.post(f"/api/v1/credential-versions/{vid}/approve", json={}, headers=bearer(rita)))
    assert ok(client.post(f"/api/v1/credential-versions/{vid}/publish", headers=bearer(ana)))["stage"] == "published"
    history = ok(client.get(f"/api/v1/credential-versions/{vid}/changes", headers=bearer(rita)))
    assert [e["action"] for e in history][:3] == [
        "credential.published",
        "credential.approved",
        "credential.review_requested",
    ]
    assert next(e for e in history if e["action"] == "credential.draft_updated")["fields"] == ["title"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "T", "member_ids": ["not-a-uuid"]}, "member_ids.0"),
        ({"name": "T", "member_ids": "everyone"}, "member_ids"),
        ({"name": "T", "colour": "red"}, "colour"),
        ({"name": "\u0000bad"}, "name"),
    ],
)
def test_hostile_team_bodies_are_422_naming_the_field(client, org, admin, body, field):
    doc = problem(client.post(f"/api/v1/organisations/{org.id}/design-teams", json=body, headers=bearer(admin)), 422)
    assert field in [e["field"] for e in doc["errors"]]


def test_foreign_ids_are_404_and_authors_are_403(client, org, admin, ana):
    team = make_team(client, org, admin, ana)
    stranger = member(OrganisationFactory(), Role.ORG_ADMIN)
    problem(client.get(f"/api/v1/design-teams/{team['id']}", headers=bearer(stranger)), 404)
    problem(client.get(f"/api/v1/design-teams/{uuid.uuid4()}", headers=bearer(admin)), 404)
    problem(client.get(f"/api/v1/organisations/{org.id}/design-teams", headers=bearer(stranger)), 404)
    problem(client.put(f"/api/v1/design-teams/{team['id']}/members/{ana.id}", headers=bearer(stranger)), 404)
    problem(client.patch(f"/api/v1/design-teams/{team['id']}", json={"name": "Mine"}, headers=bearer(ana)), 403)
    problem(client.get(f"/api/v1/organisations/{org.id}/programme", headers=bearer(ana)), 403)
    problem(client.get(f"/api/v1/organisations/{org.id}/programme", headers=bearer(stranger)), 404)
    problem(client.get(f"/api/v1/design-teams/{team['id']}"), 401)


def test_members_are_added_and_removed(client, org, admin, ana, rita):
    team = make_team(client, org, admin)
    url = f"/api/v1/design-teams/{team['id']}/members"
    assert [m["name"] for m in ok(client.put(f"{url}/{rita.id}", headers=bearer(admin)))["members"]] == [
        "Rita Reviewer"
    ]
    problem(client.put(f"{url}/{rita.id}", headers=bearer(admin)), 409)
    doc = problem(client.put(f"{url}/{member(org, Role.ASSESSOR).id}", headers=bearer(admin)), 422)
    assert doc["errors"][0]["field"] == "user_id"
    assert ok(client.delete(f"{url}/{rita.id}", headers=bearer(admin)))["members"] == []
    problem(client.delete(f"{url}/{rita.id}", headers=bearer(admin)), 404)
    problem(client.put(f"{url}/not-a-uuid", headers=bearer(admin)), 404)
    renamed = ok(client.patch(f"/api/v1/design-teams/{team['id']}", json={"name": "Reading"}, headers=bearer(admin)))
    assert renamed["name"] == "Reading"


def test_giving_an_existing_credential_to_a_team(client, org, admin, ana):
    team = make_team(client, org, admin, ana)
    version = ok(
        client.post(f"/api/v1/organisations/{org.id}/micro-credentials", json=valid_content(), headers=bearer(ana)),
        201,
    )
    url = f"/api/v1/micro-credentials/{version['micro_credential_id']}/team"
    problem(client.put(url, json={}, headers=bearer(admin)), 422)
    problem(client.put(url, json={"team_id": str(uuid.uuid4())}, headers=bearer(admin)), 422)
    problem(client.put(url, json={"team_id": team["id"]}, headers=bearer(ana)), 403)
    assert ok(client.put(url, json={"team_id": team["id"]}, headers=bearer(admin)))["team_id"] == team["id"]
    assert ok(client.put(url, json={"team_id": None}, headers=bearer(admin)))["team_id"] is None


def test_the_programme_json_filters_and_refuses_bad_filters(client, org, admin, ana):
    team = make_team(client, org, admin, ana)
    client.post(f"/api/v1/design-teams/{team['id']}/micro-credentials", json=valid_content(), headers=bearer(ana))
    report = ok(client.get(f"/api/v1/organisations/{org.id}/programme", headers=bearer(admin)))
    assert report["counts"]["draft"] == 1
    [row] = report["teams"]
    assert row["team_name"] == "Literacy team" and row["member_count"] == 1
    assert row["micro_credentials"][0]["stage"] == "draft"
    url = f"/api/v1/organisations/{org.id}/programme"
    assert ok(client.get(f"{url}?state=published", headers=bearer(admin)))["counts"]["draft"] == 0
    assert problem(client.get(f"{url}?state=lost", headers=bearer(admin)), 422)
    assert problem(client.get(f"{url}?team=nope", headers=bearer(admin)), 422)
    assert problem(client.get(f"{url}?team={uuid.uuid4()}", headers=bearer(admin)), 422)
    assert problem(client.get(f"{url}?colour=red", headers=bearer(admin)), 422)


def test_the_pages_offer_what_the_services_allow(client, org, admin, ana, rita):
    sign_in(client, admin.email)
    r = client.get(f"/authoring/teams?org={org.id}", headers=BROWSER)
    assert r.status_code == 200 and "New team" in text(r)
    token = csrf_token(text(r))
    r = client.post(
        "/authoring/teams",
        data={"csrf_token": token, "organisation": str(org.id), "name": "Maths team"},
        headers=BROWSER,
    )
    assert r.status_code == 302
    team_url = r.headers["Location"]
    r = client.post(f"{team_url}/members", data={"csrf_token": token, "user_id": str(ana.id)}, headers=BROWSER)
    assert r.status_code == 302
    page = text(client.get(team_url, headers=BROWSER))
    assert "Ana Author" in page and "Rita Reviewer" in page  # a member, and a candidate to add
    r = client.post(f"{team_url}/members", data={"csrf_token": token, "user_id": "junk"}, headers=BROWSER)
    assert r.status_code == 400
    r = client.post(
        "/authoring/teams", data={"csrf_token": token, "organisation": "junk", "name": "X"}, headers=BROWSER
    )
    assert r.status_code == 400
    csv_r = client.get(f"/authoring/programme.csv?org={org.id}", headers=BROWSER)
    assert csv_r.status_code == 200 and csv_r.mimetype == "text/csv"
    assert csv_r.get_data(as_text=True).splitlines()[1].startswith("Riverside,Maths team,1")
    assert "Maths team" in text(client.get(f"/authoring/programme?org={org.id}&state=lost&team=x", headers=BROWSER))


def test_authors_see_teams_but_not_the_programme_page(client, org, admin, ana):
    make_team(client, org, admin, ana)
    sign_in(client, ana.email)
    r = client.get("/authoring/teams", headers=BROWSER)
    assert r.status_code == 200 and "Literacy team" in text(r) and "New team" not in text(r)
    assert client.get(f"/authoring/programme?org={org.id}", headers=BROWSER).status_code == 403


def test_an_author_outside_the_team_is_sent_from_the_editor_to_the_overview(client, org, admin, ana, rita):
    team = make_team(client, org, admin, ana)
    version = ok(
        client.post(f"/api/v1/design-teams/{team['id']}/micro-credentials", json=valid_content(), headers=bearer(ana)),
        201,
    )
    sign_in(client, rita.email)
    r = client.get(f"/authoring/versions/{version['id']}/edit", headers=BROWSER)
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/authoring/versions/{version['id']}")
    page = text(client.get(f"/authoring/versions/{version['id']}", headers=BROWSER))
    assert "Only the members of its design team edit" in page
    assert f"/authoring/versions/{version['id']}/edit" not in page  # no Edit tab
    assert "Add a comment" in page  # a possible reviewer may discuss it
