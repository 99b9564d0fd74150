"""Conflicts of interest and members' units over HTTP: the conflicts page, the members page's unit and job role,
the queue's "why it waits" for admins, and the API's placement and settings."""

from __future__ import annotations

from typing import Any

from assessors import conflicts, settings
from assessors.models import DeclaredConflict
from core.models import Invitation, Membership, Role
from tests.assessors.test_conflicts import Hierarchy
from tests.conftest import bearer
from tests.core.test_api import problem
from tests.core.test_web import BROWSER, page, sign_in
from tests.factories import OrganisationFactory, member


def _text(r: Any) -> str:
    return r.get_data(as_text=True)


def test_an_assessor_declares_and_withdraws_a_conflict_on_the_page(client, session):
    h = Hierarchy(session)
    sign_in(client, h.assessor.email)
    r, token = page(client, f"/review/{h.org.id}")
    assert "/review/conflicts" in _text(r)
    r, token = page(client, "/review/conflicts")
    assert "You have declared no conflicts" in _text(r)
    r = client.post(
        "/review/conflicts", data={"csrf_token": token, "email": "Pat@Example.org", "reason": "Sister"}, headers=BROWSER
    )
    assert r.status_code == 302
    r, token = page(client, "/review/conflicts")
    assert "pat@example.org" in _text(r) and "Sister" in _text(r)
    row = session.query(DeclaredConflict).one()
    r = client.post(f"/review/conflicts/{row.id}/withdraw", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 302 and conflicts.list_declared(actor=h.assessor) == []


def test_the_conflicts_page_names_the_field_of_bad_input(client, session):
    h = Hierarchy(session)
    sign_in(client, h.assessor.email)
    _, token = page(client, "/review/conflicts")
    for email, reason, field in [
        ("not-an-email", "", "email"),
        ("<script>@x", "", "email"),
        ("p@example.org", "x" * 300, "reason"),
    ]:
        r = client.post(
            "/review/conflicts", data={"csrf_token": token, "email": email, "reason": reason}, headers=BROWSER
        )
        assert r.status_code == 422
        assert f'id="{field}-error"' in _text(r) and "<script>@x" not in _text(r).replace(
            'value="&lt;script&gt;@x"', ""
        )
    r = client.post("/review/conflicts", data={"email": "p@example.org"}, headers=BROWSER)  # no CSRF token
    assert r.status_code == 400
    assert session.query(DeclaredConflict).count() == 0


def test_the_admin_places_members_and_sees_why_work_waits(client, session):
    h = Hierarchy(session)
    earner = member(h.org, Role.AUTHOR, name="Robin Earner")
    sign_in(client, h.admin.email)
    r, token = page(client, f"/organisations/{h.org.id}/members")
    assert "School A" in _text(r) and "support staff" in _text(r)
    r = client.post(
        f"/organisations/{h.org.id}/members/{earner.id}/placement",
        data={"csrf_token": token, "unit_id": str(h.s1.id), "job_role": "Instructional Coach"},
        headers=BROWSER,
    )
    assert r.status_code == 302
    rows = session.query(Membership).filter_by(user_id=earner.id).all()
    assert {(m.unit_id, m.job_role) for m in rows} == {(h.s1.id, "instructional coach")}
    r, token = page(client, f"/organisations/{h.org.id}/members")
    assert "instructional coach" in _text(r)  # shown, and offered to others from now on
    for bad in ({"unit_id": "not-a-uuid"}, {"unit_id": str(h.version.id)}, {"job_role": "<b>x</b>"}):
        r = client.post(
            f"/organisations/{h.org.id}/members/{earner.id}/placement",
            data={"csrf_token": token, "job_role": "teacher"} | bad,
            headers=BROWSER,
        )
        assert r.status_code == 302
        assert {(m.unit_id, m.job_role) for m in session.query(Membership).filter_by(user_id=earner.id)} == {
            (h.s1.id, "instructional coach")
        }
    h.place(h.assessor, h.s1)
    h.submission(earner=earner)
    settings.update_settings(actor=h.admin, organisation_id=h.org.id, changes={"conflict_by_unit": True})
    r, _ = page(client, f"/review/{h.org.id}")
    assert "Why it waits" in _text(r) and "2 of 3 qualified assessors may take it (kept off: 1 same unit)." in _text(r)
    sign_in(client, h.assessor.email)
    r, _ = page(client, f"/review/{h.org.id}")
    assert "Why it waits" not in _text(r)


def test_invitations_carry_a_unit_and_job_role(client, session):
    h = Hierarchy(session)
    sign_in(client, h.admin.email)
    _, token = page(client, f"/organisations/{h.org.id}/members")
    r = client.post(
        f"/organisations/{h.org.id}/invitations",
        data={
            "csrf_token": token,
            "email": "new@example.org",
            "roles": ["assessor"],
            "unit_id": str(h.s3.id),
            "job_role": "administrator",
        },
        headers=BROWSER,
    )
    assert r.status_code == 302
    invitation = session.query(Invitation).filter_by(email="new@example.org").one()
    assert (invitation.unit_id, invitation.job_role) == (h.s3.id, "administrator")
    r = client.post(
        f"/organisations/{h.org.id}/invitations",
        data={"csrf_token": token, "email": "other@example.org", "roles": ["assessor"], "unit_id": str(h.admin.id)},
        headers=BROWSER,
    )
    assert r.status_code == 422 and "Choose this organisation or one of its units" in _text(r)


def test_the_api_sets_a_placement_and_refuses_hostile_input(client, session):
    h = Hierarchy(session)
    earner = member(h.org, Role.AUTHOR)
    admin = bearer(h.admin)
    url = f"/api/v1/organisations/{h.org.id}/members/{earner.id}/placement"
    r = client.put(url, json={"unit_id": str(h.s2.id), "job_role": "Support Staff"}, headers=admin)
    assert r.status_code == 200, r.json
    assert r.json["unit_name"] == "School B" and r.json["job_role"] == "support staff"
    for body in (
        {"unit_id": "nope", "job_role": None},
        {"unit_id": None, "job_role": "x" * 41},
        {"unit_id": None, "job_role": "'; drop table users; --"},
        {"unit_id": str(h.admin.id), "job_role": None},
        {"unit_id": None},
        {"unit_id": None, "job_role": None, "extra": 1},
        [],
    ):
        r = client.put(url, json=body, headers=admin)
        assert r.status_code == 422, (body, r.status_code)
        assert r.content_type.startswith("application/problem+json")
    other_tree = OrganisationFactory()
    problem(client.put(url, json={"unit_id": str(other_tree.id), "job_role": None}, headers=admin), 422)
    problem(client.put(url, json={"unit_id": None, "job_role": None}, headers=bearer(h.assessor)), 403)
    listed = client.get(f"/api/v1/organisations/{h.org.id}/members", headers=admin).json
    assert [m["unit_id"] for m in listed if m["user"]["id"] == str(earner.id)] == [str(h.s2.id)]
    settings_url = f"/api/v1/organisations/{h.org.id}/review-settings"
    problem(client.patch(settings_url, json={"conflict_by_parent": "maybe"}, headers=admin), 422)
    assert client.patch(settings_url, json={"conflict_by_parent": True}, headers=admin).json["conflict_by_parent"]
