"""The start of the organisation hierarchy: units (state agency → district → school), created and moved by the
admins of both sides, without cycles; a parent's admins read their units' reports, and nothing more of them."""

from __future__ import annotations

import uuid

import pytest

from assessors import reports
from core import organisations
from core.authz import MAX_DEPTH, can
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import Organisation, Role
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_api import error_fields
from tests.core.test_web import BROWSER, location, sign_in, text
from tests.factories import OrganisationFactory, UserFactory, member


@pytest.fixture
def tree(session):
    """A state agency with two districts, one of which has a school; an admin for each."""
    state = OrganisationFactory(name="State Agency")
    north = OrganisationFactory(name="North District", parent=state)
    south = OrganisationFactory(name="South District", parent=state)
    school = OrganisationFactory(name="North High", parent=north)
    found = {"state": state, "north": north, "south": south, "school": school}
    return {**found, "admin": {name: member(org, Role.ORG_ADMIN) for name, org in found.items()}}


def admin(tree, name):
    return tree["admin"][name]


def test_a_flat_organisation_is_a_root(session):
    organisation = OrganisationFactory()
    assert organisation.parent_id is None and organisation.children == []


def test_a_parents_admin_reads_the_reports_of_units_below_it_at_any_depth(tree):
    for unit in ("north", "south", "school"):
        assert reports.credential_report(actor=admin(tree, "state"), organisation_id=tree[unit].id) == []
    assert reports.assessor_report(actor=admin(tree, "north"), organisation_id=tree["school"].id) == []


@pytest.mark.parametrize(("who", "whose"), [("north", "south"), ("north", "state"), ("school", "north")])
def test_siblings_and_units_do_not_read_each_others_or_their_parents_reports(tree, who, whose):
    with pytest.raises((Forbidden, NotFound)):
        reports.credential_report(actor=admin(tree, who), organisation_id=tree[whose].id)


def test_a_parents_admin_is_not_an_admin_of_its_units(tree):
    state_admin = admin(tree, "state")
    for action in ("organisation.update", "organisation.manage_members", "review.manage", "credential.list_drafts"):
        assert not can(state_admin, action, tree["north"]), action
    assert can(state_admin, "organisation.read", tree["school"])
    assert not can(admin(tree, "north"), "organisation.read", tree["south"])


def test_an_admin_creates_a_unit_of_their_organisation_even_with_self_service_off(tree, app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_ORGANISATION_SIGNUP", False)
    north_admin = admin(tree, "north")
    unit = organisations.create_organisation(actor=north_admin, name="North Middle", parent_id=tree["north"].id)
    assert unit.parent is tree["north"] and north_admin.roles_in(unit.id) == {Role.ORG_ADMIN, Role.AUTHOR}
    # the state's admin may add one under a district too; nobody else
    organisations.create_organisation(actor=admin(tree, "state"), name="North Elementary", parent_id=tree["north"].id)
    with pytest.raises(ValidationFailed) as caught:  # an organisation the actor has nothing to do with: not found
        organisations.create_organisation(actor=admin(tree, "south"), name="Spy", parent_id=tree["north"].id)
    assert caught.value.errors[0]["field"] == "parent_id"
    with pytest.raises(Forbidden):  # an author of the district is no admin of it
        organisations.create_organisation(
            actor=member(tree["north"], Role.AUTHOR), name="X", parent_id=tree["north"].id
        )
    with pytest.raises(ValidationFailed):
        organisations.create_organisation(actor=north_admin, name="Ghost", parent_id=uuid.uuid4())


def test_moving_a_unit_needs_both_sides_and_refuses_cycles(tree):
    state_admin, north_admin = admin(tree, "state"), admin(tree, "north")
    # the school's own admin cannot take it away from its district
    with pytest.raises(Forbidden):
        organisations.set_parent(actor=admin(tree, "school"), organisation_id=tree["school"].id, parent_id=None)
    # the district's admin may not place it under a district they do not administer
    with pytest.raises(ValidationFailed):
        organisations.set_parent(actor=north_admin, organisation_id=tree["school"].id, parent_id=tree["south"].id)
    # the state's admin administers both sides
    moved = organisations.set_parent(actor=state_admin, organisation_id=tree["school"].id, parent_id=tree["south"].id)
    assert moved.parent is tree["south"]
    with pytest.raises(Conflict):
        organisations.set_parent(actor=state_admin, organisation_id=tree["state"].id, parent_id=tree["south"].id)
    with pytest.raises(Conflict):
        organisations.set_parent(actor=state_admin, organisation_id=tree["south"].id, parent_id=tree["south"].id)
    root = organisations.set_parent(actor=state_admin, organisation_id=tree["south"].id, parent_id=None)
    assert root.parent_id is None
    assert not can(state_admin, "review.report", tree["school"])  # it went with its district


def test_units_nest_only_so_deep(session):
    platform = UserFactory(is_platform_admin=True)
    chain = [OrganisationFactory()]
    for _ in range(MAX_DEPTH - 1):
        chain.append(OrganisationFactory(parent=chain[-1]))
    with pytest.raises(ValidationFailed, match="nest"):
        organisations.create_organisation(actor=platform, name="Too deep", parent_id=chain[-1].id)
    other_root = OrganisationFactory()
    OrganisationFactory(parent=other_root)
    with pytest.raises(ValidationFailed, match="nest"):
        organisations.set_parent(actor=platform, organisation_id=other_root.id, parent_id=chain[-2].id)


# --- API ---------------------------------------------------------------------------------------------------


def test_api_units_parent_and_reports(client, tree):
    state_admin = bearer(admin(tree, "state"))
    units = client.get(f"/api/v1/organisations/{tree['state'].id}/units", headers=state_admin)
    assert [u["name"] for u in units.json] == ["North District", "South District"]
    assert units.json[0]["parent_id"] == str(tree["state"].id)
    r = client.get(f"/api/v1/organisations/{tree['school'].id}/review-reports/credentials", headers=state_admin)
    assert r.status_code == 200
    south = bearer(admin(tree, "south"))
    problem(client.get(f"/api/v1/organisations/{tree['north'].id}/review-reports/credentials", headers=south), 403)
    problem(client.get(f"/api/v1/organisations/{tree['north'].id}/units", headers=south), 403)

    url = f"/api/v1/organisations/{tree['school'].id}/parent"
    moved = client.put(url, json={"parent_id": str(tree["south"].id)}, headers=state_admin)
    assert moved.status_code == 200 and moved.json["parent_id"] == str(tree["south"].id)
    cycle = {"parent_id": str(tree["school"].id)}
    body = problem(client.put(f"/api/v1/organisations/{tree['state'].id}/parent", json=cycle, headers=state_admin), 409)
    assert error_fields(body) == {"parent_id": "#/parent_id"}
    assert error_fields(problem(client.put(url, json={}, headers=state_admin), 422)) == {"parent_id": "#/parent_id"}
    assert error_fields(problem(client.put(url, json={"parent_id": "x"}, headers=state_admin), 422))
    created = client.post(
        "/api/v1/organisations", json={"name": "South Prep", "parent_id": str(tree["south"].id)}, headers=south
    )
    assert created.status_code == 201 and created.json["parent_id"] == str(tree["south"].id)


# --- pages -------------------------------------------------------------------------------------------------


def test_the_overview_lists_units_with_their_reports_and_adds_one(client, tree, session):
    state_admin = admin(tree, "state")
    sign_in(client, state_admin.email)
    html = text(client.get(f"/organisations/{tree['state'].id}", headers=BROWSER))
    assert "North District" in html and "South District" in html
    assert f'href="/review/{tree["north"].id}/reports"' in html
    assert f'href="/organisations/new?parent={tree["state"].id}"' in html

    report = client.get(f"/review/{tree['north'].id}/reports", headers=BROWSER)
    assert report.status_code == 200
    assert f'href="/organisations/{tree["north"].id}/members"' not in text(report)  # only the reports tab
    assert client.get(f"/organisations/{tree['north'].id}/members", headers=BROWSER).status_code == 403

    new_page = client.get(f"/organisations/new?parent={tree['state'].id}", headers=BROWSER)
    assert f'<option value="{tree["state"].id}" selected>' in text(new_page)
    token = csrf_token(text(new_page))
    form = {"csrf_token": token, "name": "East District", "parent_id": str(tree["state"].id)}
    r = client.post("/organisations/new", data=form, headers=BROWSER)
    assert r.status_code == 302
    unit = session.query(Organisation).filter_by(name="East District").one()
    assert unit.parent_id == tree["state"].id
    assert "A unit of" in text(client.get(location(r), headers=BROWSER))
    r = client.post("/organisations/new", data={**form, "parent_id": "nope"}, headers=BROWSER)
    assert r.status_code == 422 and 'id="parent_id-error"' in text(r)
