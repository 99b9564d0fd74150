"""Impact reports over HTTP: the page with its charts and tables, CSV and JSON downloads, and the API with its
validated query parameters (hostile values get precise 4xx, foreign and unknown ids the same 404)."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from core import clock
from tests.badges.impact_world import NOW, ImpactWorld
from tests.conftest import bearer, problem
from tests.core.test_web import BROWSER, sign_in

RANGE = "from=2026-01-01&to=2026-06-30"


@pytest.fixture
def world(session):
    with clock.frozen_at(NOW):
        made = ImpactWorld()
    return made


def test_the_page_shows_every_figure_with_its_table(client, world):
    sign_in(client, world.admin.email)
    r = client.get(f"/organisations/{world.district.id}/impact?{RANGE}&by=job_role", headers=BROWSER)
    assert r.status_code == 200
    html = " ".join(r.get_data(as_text=True).split())
    for words in (
        "4 badges to 3 earners",
        "Badges by job role",
        "Coach",
        "Completion funnel",
        "Time to earn",
        "Retention",
        "Of 3 earners with a first pass in the range, 3 (100%) attempted",
    ):
        assert words in html, words
    assert 'aria-label="Badges per month: Jan 2026 1 badges, 1 earners;' in html
    # The downloads keep the filters.
    assert f"/organisations/{world.district.id}/impact/funnel.csv?from=2026-01-01&amp;to=2026-06-30" in html
    assert "Include child organisations" in html and 'href="/organisations/' in html


def test_downloads_csv_and_json_for_the_same_filters(client, world):
    sign_in(client, world.admin.email)
    base = f"/organisations/{world.district.id}/impact"
    r = client.get(f"{base}/badges.csv?{RANGE}&by=unit", headers=BROWSER)
    assert r.mimetype == "text/csv" and "impact-badges-by-unit.csv" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert (rows[0]["month"], rows[0]["label"], rows[0]["badges"]) == ("2026-01", "School Y", "1")
    r = client.get(f"{base}/funnel.json?{RANGE}&job_role=coach", headers=BROWSER)
    data = json.loads(r.get_data(as_text=True))
    assert data["figure"] == "funnel" and data["filters"]["job_role"] == "coach"
    assert data["total"]["started"] == 2 and data["filters"]["from"] == "2026-01-01"
    r = client.get(f"{base}/time-to-earn.csv?{RANGE}", headers=BROWSER)
    assert "Reading" in r.get_data(as_text=True)
    r = client.get(f"{base}/retention.csv?{RANGE}", headers=BROWSER)
    assert r.get_data(as_text=True).startswith("cohort,earners,attempted_second")


def test_the_page_refuses_bad_filters_and_hides_other_organisations(client, world):
    sign_in(client, world.admin.email)
    base = f"/organisations/{world.district.id}/impact"
    assert client.get(f"{base}?from=2026-13-01", headers=BROWSER).status_code == 422
    assert client.get(f"{base}?from=2026-06-01&to=2026-01-01", headers=BROWSER).status_code == 422
    assert client.get(f"{base}?unit_id=not-a-uuid", headers=BROWSER).status_code == 422
    assert client.get(f"{base}/badges.csv?by=password", headers=BROWSER).status_code == 422
    # Empty fields of the form are "all".
    assert client.get(f"{base}?micro_credential_id=&unit_id=&job_role=", headers=BROWSER).status_code == 200
    for organisation in (world.state, world.other):
        assert client.get(f"/organisations/{organisation.id}/impact", headers=BROWSER).status_code == 404
    assert client.get(f"/organisations/{uuid.uuid4()}/impact", headers=BROWSER).status_code == 404


def test_a_parent_admin_reads_a_child_across_its_units(client, world):
    sign_in(client, world.state_admin.email)
    r = client.get(f"/organisations/{world.state.id}/impact?{RANGE}&include_children=true", headers=BROWSER)
    assert "5 badges to 4 earners" in " ".join(r.get_data(as_text=True).split())
    r = client.get(f"/organisations/{world.other.id}/impact?{RANGE}", headers=BROWSER)
    assert r.status_code == 200 and "1 badges to 1 earners" in " ".join(r.get_data(as_text=True).split())


def test_api_figures(client, world):
    url = f"/api/v1/organisations/{world.district.id}/impact"
    r = client.get(f"{url}/badges?{RANGE}&by=standard", headers=bearer(world.admin))
    assert r.status_code == 200, r.get_data(as_text=True)
    groups = {g["label"]: g["badges"] for g in r.get_json()["groups"]}
    assert groups == {"R.1 Reads closely": 4, "W.1 Writes clearly": 2}
    r = client.get(f"{url}/funnel?{RANGE}", headers=bearer(world.admin))
    assert r.get_json()["cohorts"][0]["started"] == 2
    r = client.get(f"{url}/time-to-earn?{RANGE}", headers=bearer(world.admin))
    assert r.get_json()["total"]["median_days"] == 23.0
    r = client.get(f"{url}/retention?{RANGE}&format=csv", headers=bearer(world.admin))
    assert r.mimetype == "text/csv"
    everything = f"/api/v1/organisations/{world.state.id}/impact/badges?{RANGE}&include_children=true"
    assert client.get(everything, headers=bearer(world.state_admin)).get_json()["total"]["badges"] == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2026-06-01&to=2026-01-01", "from"),
        ("from=0001-01-01", "from"),
        ("from=1900-01-01&to=2026-01-01", "from"),
        ("unit_id=1;DROP TABLE badges", "unit_id"),
        ("micro_credential_id=%00", "micro_credential_id"),
        ("job_role=%3Cscript%3E", "job_role"),
        ("include_children=maybe", "include_children"),
        ("format=xml", "format"),
        ("colour=red", "colour"),
    ],
)
def test_api_refuses_hostile_parameters_naming_the_field(client, world, query, field):
    r = client.get(f"/api/v1/organisations/{world.district.id}/impact/funnel?{query}", headers=bearer(world.admin))
    body = problem(r, 422)
    assert field in {e["field"] for e in body["errors"]}, body


def test_api_answers_foreign_and_unknown_ids_alike(client, world):
    def status(organisation_id, query="", actor=None):
        url = f"/api/v1/organisations/{organisation_id}/impact/badges?{query}"
        return client.get(url, headers=bearer(actor or world.admin))

    unknown = uuid.uuid4()
    foreign = problem(status(world.other.id), 404)
    assert problem(status(unknown), 404)["detail"] == foreign["detail"]
    assert problem(status(world.state.id), 404)["detail"] == foreign["detail"]  # the child cannot see its parent
    maths = status(world.district.id, f"micro_credential_id={world.maths.micro_credential_id}")
    assert (
        problem(maths, 404)["detail"]
        == problem(status(world.district.id, f"micro_credential_id={unknown}"), 404)["detail"]
    )
    assert (
        problem(status(world.district.id, f"unit_id={world.other.id}"), 404)["detail"]
        == problem(status(world.district.id, f"unit_id={unknown}"), 404)["detail"]
    )
    problem(status(world.district.id, actor=world.author), 403)
    assert client.get(f"/api/v1/organisations/{world.district.id}/impact/badges").status_code == 401


def test_the_openapi_document_describes_the_impact_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    funnel = paths["/api/v1/organisations/{organisation_id}/impact/funnel"]["get"]
    names = {p["name"] for p in funnel["parameters"]}
    assert {"from", "to", "include_children", "micro_credential_id", "unit_id", "job_role", "format"} <= names
    assert "by" in {
        p["name"] for p in paths["/api/v1/organisations/{organisation_id}/impact/badges"]["get"]["parameters"]
    }
