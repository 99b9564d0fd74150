"""Misconduct: a recorded decision suspends the badge and tells the earner how to appeal; another admin rules on
the appeal (uphold revokes, overturn reinstates); without an appeal the window's end revokes it, once. The pages,
the API with hostile input, the audit log and the mails."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from badges import misconduct
from badges.models import Badge, MisconductCase
from badges.verifier import verify
from core import clock
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import AuditEvent, OutboxMessage, Role, User
from tests.badges.issued import admin_of, award, passed_submission
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_web import BROWSER, sign_in
from tests.factories import OrganisationFactory, UserFactory, member

FINDING = "The lesson plan in the portfolio is copied word for word from a published source (link in the file)."


def _mails(user_id: uuid.UUID | None) -> list[OutboxMessage]:
    user = db.session.get(User, user_id)
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == user.email)))


def _actions(case: MisconductCase) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.object_id == str(case.id)).order_by(AuditEvent.occurred_at)
    return list(db.session.scalars(query))


@pytest.fixture
def badge(app: object) -> Badge:
    return award(passed_submission())


def test_a_decision_suspends_the_badge_and_tells_the_earner_the_finding_and_the_deadline(badge: Badge) -> None:
    admin = admin_of(badge)
    case = misconduct.decide(actor=admin, badge_id=badge.id, finding=FINDING, policy="Handbook §4.2")

    assert case.state == "open" and case.decided_by_id == admin.id
    assert case.appeal_by - case.decided_at == timedelta(days=30)
    assert badge.suspended_at is not None and badge.revoked_at is None
    assert "misconduct decision" in badge.suspension_reason and FINDING not in badge.suspension_reason
    assert verify(badge.jwt).status == "suspended"
    [notice] = _mails(badge.earner_id)  # one mail, not the plain "suspended" notice as well
    assert notice.subject == f"A misconduct decision about your badge “{badge.title}”"
    assert FINDING in notice.body and "Handbook §4.2" in notice.body
    assert f"/my/misconduct/{case.id}" in notice.body and "You may appeal until" in notice.body
    assert _actions(case) == ["misconduct.decided"]


def test_the_public_page_gives_the_fact_of_the_decision_not_the_finding(client: FlaskClient, badge: Badge) -> None:
    misconduct.decide(actor=admin_of(badge), badge_id=badge.id, finding=FINDING)
    page = client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "SUSPENDED" in page and "misconduct decision" in page and FINDING not in page


def test_an_upheld_appeal_revokes_and_an_overturned_one_reinstates(app: object) -> None:
    for outcome, state, status in (("uphold", "revoked", "revoked"), ("overturn", "overturned", "valid")):
        badge = award(passed_submission())
        decider, other = admin_of(badge), admin_of(badge)
        earner = db.session.get(User, badge.earner_id)
        case = misconduct.decide(actor=decider, badge_id=badge.id, finding=FINDING)
        misconduct.appeal(actor=earner, case_id=case.id, statement="I wrote every word; drafts are attached.")
        assert case.state == "appealed"
        to_admins = db.session.scalars(select(OutboxMessage.to).where(OutboxMessage.subject.like("Appeal against%")))
        assert {decider.email, other.email} <= set(to_admins)

        with pytest.raises(Conflict, match="someone other than the person who made the decision"):
            misconduct.rule(actor=decider, case_id=case.id, outcome=outcome, reason="Looked again.")
        misconduct.rule(actor=other, case_id=case.id, outcome=outcome, reason="The panel compared the drafts.")
        assert case.state == state and case.outcome_by_id == other.id
        assert verify(badge.jwt).status == status
        last = _mails(earner.id)[-1]
        assert last.subject == f"The outcome of your appeal about “{badge.title}”"
        assert "The panel compared the drafts." in last.body
        assert _actions(case) == ["misconduct.decided", "misconduct.appealed", "misconduct.ruled"]


def test_without_an_appeal_the_window_closing_revokes_once(badge: Badge) -> None:
    case = misconduct.decide(actor=admin_of(badge), badge_id=badge.id, finding=FINDING)
    assert misconduct.close_expired_windows() == 0  # not yet due
    with clock.frozen_at(case.appeal_by + timedelta(minutes=1)):
        assert misconduct.close_expired_windows() == 1
        assert misconduct.close_expired_windows() == 0  # a second run changes nothing
        with pytest.raises(Conflict, match="can no longer be appealed"):
            misconduct.appeal(actor=db.session.get(User, badge.earner_id), case_id=case.id, statement="Late")
        db.session.refresh(badge)
        assert verify(badge.jwt).status == "revoked"  # (the list was re-signed at this moment)
    assert case.state == "revoked" and badge.revoked_at is not None
    assert badge.revocation_reason == misconduct.REVOKED_REASON
    assert _mails(badge.earner_id)[-1].subject == f"Your badge “{badge.title}” has been revoked"
    assert _actions(case)[-1] == "misconduct.window_closed"


def test_an_appeal_after_the_deadline_is_refused(badge: Badge) -> None:
    case = misconduct.decide(actor=admin_of(badge), badge_id=badge.id, finding=FINDING)
    with clock.frozen_at(case.appeal_by + timedelta(seconds=1)), pytest.raises(Conflict, match="ended on"):
        misconduct.appeal(actor=db.session.get(User, badge.earner_id), case_id=case.id, statement="Please")
    assert case.state == "open"


def test_refusals(badge: Badge) -> None:
    admin = admin_of(badge)
    earner = db.session.get(User, badge.earner_id)
    outsider = member(OrganisationFactory(), Role.ORG_ADMIN)
    with pytest.raises(ValidationFailed, match="finding"):
        misconduct.decide(actor=admin, badge_id=badge.id, finding="   ")
    with pytest.raises(ValidationFailed, match="finding"):
        misconduct.decide(actor=admin, badge_id=badge.id, finding="x" * 4001)
    with pytest.raises(Forbidden):
        misconduct.decide(actor=outsider, badge_id=badge.id, finding=FINDING)
    with pytest.raises(Forbidden):
        misconduct.decide(actor=earner, badge_id=badge.id, finding=FINDING)
    assert badge.suspended_at is None  # nothing half-done
    case = misconduct.decide(actor=admin, badge_id=badge.id, finding=FINDING)
    with pytest.raises(Conflict, match="already open"):
        misconduct.decide(actor=admin, badge_id=badge.id, finding=FINDING)
    with pytest.raises(NotFound):
        misconduct.appeal(actor=UserFactory(), case_id=case.id, statement="Not mine")
    with pytest.raises(NotFound):
        misconduct.get_case(actor=outsider, case_id=case.id)
    with pytest.raises(NotFound):
        misconduct.rule(actor=outsider, case_id=case.id, outcome="overturn", reason="x")
    with pytest.raises(Conflict, match="no appeal waiting"):
        misconduct.rule(actor=admin_of(badge), case_id=case.id, outcome="overturn", reason="x")
    with pytest.raises(ValidationFailed, match="statement"):
        misconduct.appeal(actor=earner, case_id=case.id, statement="")
    misconduct.appeal(actor=earner, case_id=case.id, statement="It is mine.")
    with pytest.raises(Conflict):
        misconduct.appeal(actor=earner, case_id=case.id, statement="Again")
    with pytest.raises(ValidationFailed, match="outcome"):
        misconduct.rule(actor=admin_of(badge), case_id=case.id, outcome="maybe", reason="x")


def test_an_admin_above_hears_the_appeal_when_the_school_has_one_admin(app: object) -> None:
    badge = award(passed_submission())
    district = OrganisationFactory()
    badge.organisation.parent_id = district.id
    db.session.flush()
    case = misconduct.decide(actor=admin_of(badge), badge_id=badge.id, finding=FINDING)
    misconduct.appeal(actor=db.session.get(User, badge.earner_id), case_id=case.id, statement="Mine.")
    misconduct.rule(actor=member(district, Role.ORG_ADMIN), case_id=case.id, outcome="overturn", reason="Drafts.")
    assert case.state == "overturned"


def test_api_flow_and_hostile_input(client: FlaskClient, badge: Badge) -> None:
    admin, other = admin_of(badge), admin_of(badge)
    earner = db.session.get(User, badge.earner_id)
    url = f"/api/v1/badges/{badge.id}/misconduct"
    assert problem(client.post(url, json={"finding": ""}, headers=bearer(admin)), 422)
    assert problem(client.post(url, json={"finding": FINDING, "extra": 1}, headers=bearer(admin)), 422)
    assert problem(client.post(url, json=[1], headers=bearer(admin)), 422)
    assert problem(client.post(url, json={"finding": FINDING}, headers=bearer(earner)), 403)
    assert problem(
        client.post(f"/api/v1/badges/{uuid.uuid4()}/misconduct", json={"finding": FINDING}, headers=bearer(admin)), 404
    )
    assert client.get(f"/badges/{badge.id}.json").get_json()  # still public
    created = client.post(url, json={"finding": FINDING, "policy": "§4.2"}, headers=bearer(admin))
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert case["state"] == "open" and case["policy"] == "§4.2"
    assert problem(client.post(url, json={"finding": FINDING}, headers=bearer(admin)), 409)

    listed = client.get(f"/api/v1/organisations/{badge.organisation_id}/misconduct-cases", headers=bearer(admin))
    assert [c["id"] for c in listed.get_json()] == [case["id"]]
    bad_state = f"/api/v1/organisations/{badge.organisation_id}/misconduct-cases?state=lost"
    assert problem(client.get(bad_state, headers=bearer(admin)), 422)
    case_url = f"/api/v1/misconduct-cases/{case['id']}"
    assert client.get(case_url, headers=bearer(earner)).status_code == 200
    assert problem(client.get(case_url, headers=bearer(UserFactory())), 404)
    assert problem(client.get(f"/api/v1/misconduct-cases/{uuid.uuid4()}", headers=bearer(admin)), 404)

    assert problem(client.post(case_url + "/appeal", json={"statement": "x" * 4001}, headers=bearer(earner)), 422)
    appealed = client.post(case_url + "/appeal", json={"statement": "Mine."}, headers=bearer(earner))
    assert appealed.status_code == 200 and appealed.get_json()["state"] == "appealed"
    ruling = {"outcome": "uphold", "reason": "Copied."}
    assert problem(client.post(case_url + "/ruling", json=ruling, headers=bearer(admin)), 409)
    assert problem(client.post(case_url + "/ruling", json={**ruling, "outcome": "x"}, headers=bearer(other)), 422)
    ruled = client.post(case_url + "/ruling", json=ruling, headers=bearer(other))
    assert ruled.status_code == 200 and ruled.get_json()["state"] == "revoked"
    assert client.post("/api/v1/verify", json={"credential": badge.jwt}).get_json()["status"] == "revoked"


def test_pages_decide_appeal_rule(client: FlaskClient, badge: Badge) -> None:
    admin, other = admin_of(badge), admin_of(badge)
    earner = db.session.get(User, badge.earner_id)
    org = badge.organisation_id
    sign_in(client, admin.email)
    listing = client.get(f"/organisations/{org}/badges").get_data(as_text=True)
    decide_url = f"/organisations/{org}/badges/{badge.id}/misconduct"
    assert decide_url in listing
    form = client.get(decide_url).get_data(as_text=True)
    assert "appeal within 30 days" in form
    refused = client.post(decide_url, data={"csrf_token": csrf_token(form), "finding": "", "policy": "§4"})
    assert refused.status_code == 422 and "§4" in refused.get_data(as_text=True)  # what was typed is kept
    assert db.session.scalar(select(MisconductCase).where(MisconductCase.badge_id == badge.id)) is None
    done = client.post(decide_url, data={"csrf_token": csrf_token(form), "finding": FINDING})
    assert done.status_code == 302
    case = db.session.scalar(select(MisconductCase).where(MisconductCase.badge_id == badge.id))
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert FINDING in page and "Rule on the appeal" not in page

    client.post("/logout", data={"csrf_token": csrf_token(page)}, headers=BROWSER)
    sign_in(client, earner.email)
    mine = client.get("/my/badges").get_data(as_text=True)
    assert f"/my/misconduct/{case.id}" in mine
    appeal_page = client.get(f"/my/misconduct/{case.id}").get_data(as_text=True)
    assert FINDING in appeal_page and "Appeal the decision" in appeal_page
    sent = client.post(f"/my/misconduct/{case.id}", data={"csrf_token": csrf_token(appeal_page), "statement": "Mine."})
    assert sent.status_code == 302
    assert client.get(f"/organisations/{org}/misconduct/{case.id}").status_code == 404  # not the earner's page

    client.post("/logout", data={"csrf_token": csrf_token(appeal_page)}, headers=BROWSER)
    sign_in(client, other.email)
    assert "appealed" in client.get(f"/organisations/{org}/misconduct").get_data(as_text=True)
    rule_page = client.get(f"/organisations/{org}/misconduct/{case.id}").get_data(as_text=True)
    assert "Rule on the appeal" in rule_page and "Mine." in rule_page
    ruled = client.post(
        f"/organisations/{org}/misconduct/{case.id}",
        data={"csrf_token": csrf_token(rule_page), "outcome": "overturn", "reason": "Drafts show it is theirs."},
    )
    assert ruled.status_code == 302
    db.session.refresh(case)
    assert case.state == "overturned"
