"""Suspending and reinstating a badge: the paired suspension list, the verifier and the pages saying
SUSPENDED, revoked winning over suspended, the audit log, the earner's notices, the API and the CLI."""

from __future__ import annotations

import base64
import gzip
import uuid
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from badges import revocation, status
from badges.models import Badge, StatusList
from badges.verifier import verify
from core.db import db
from core.errors import Conflict, Forbidden, ValidationFailed
from core.models import AuditEvent, OutboxMessage, Role, User
from tests.badges.issued import admin_of, award, passed_submission
from tests.conftest import bearer, csrf_token, problem
from tests.factories import OrganisationFactory, member


def _bit(client: FlaskClient, list_id: uuid.UUID, index: int) -> tuple[str, bool]:
    """The purpose of the served (signed) list and its bit at ``index``, read as any verifier would."""
    response = client.get(f"/status-lists/{list_id}")
    assert response.status_code == 200
    subject = jwt.decode(response.get_data(as_text=True), options={"verify_signature": False})["credentialSubject"]
    raw = gzip.decompress(base64.urlsafe_b64decode(subject["encodedList"][1:] + "=="))
    return subject["statusPurpose"], bool(raw[index // 8] & (0x80 >> (index % 8)))


def _events(badge: Badge) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_id == str(badge.id)).order_by(AuditEvent.occurred_at)
    return [e for e in db.session.scalars(query) if e.action != "badge.issued"]


def _mails_to(user_id: Any) -> list[OutboxMessage]:
    user = db.session.get(User, user_id)
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == user.email)))


def test_suspending_sets_the_bit_in_the_paired_list_and_everyone_says_suspended(client: FlaskClient) -> None:
    badge = award(passed_submission())
    admin = admin_of(badge)
    assert status.suspension_list(revocation_list_id=badge.status_list_id) is None
    revocation.suspend(actor=admin, badge_id=badge.id, reason="Under investigation for copied evidence")
    db.session.flush()

    paired = status.suspension_list(revocation_list_id=badge.status_list_id)
    revocation_list = db.session.get(StatusList, badge.status_list_id)
    assert paired is not None and paired.purpose == "suspension" and paired.size == revocation_list.size
    assert _bit(client, paired.id, badge.status_index) == ("suspension", True)
    assert _bit(client, badge.status_list_id, badge.status_index) == ("revocation", False)
    # The credential keeps its one revocation entry; it never names the suspension list.
    assert badge.credential["credentialStatus"]["statusPurpose"] == "revocation"

    report = verify(badge.jwt)
    assert report.status == "suspended" and not report.verified
    details = [c["detail"] for c in report.checks if c["step"] == "status"]
    assert details[0].startswith("not revocation") and details[1].startswith("suspended: bit")
    assert status.status_list_url(paired.id) in details[1]

    page = client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "SUSPENDED" in page and "Under investigation for copied evidence" in page
    assert "REVOKED" not in page and ">VALID<" not in page
    api = client.post("/api/v1/verify", json={"credential": badge.jwt}).get_json()
    assert api["status"] == "suspended" and api["verified"] is False
    token = csrf_token(client.get("/verify").get_data(as_text=True))
    checked = client.post("/verify", data={"csrf_token": token, "text": badge.jwt}).get_data(as_text=True)
    assert 'class="banner suspended"' in checked and ">SUSPENDED<" in checked

    [event] = _events(badge)
    assert event.action == "badge.suspended" and event.actor_id == admin.id
    assert event.after == {"suspended": True, "reason": "Under investigation for copied evidence"}
    [notice] = _mails_to(badge.earner_id)
    assert notice.subject == f"Your badge “{badge.title}” has been suspended"
    assert "Under investigation for copied evidence" in notice.body and f"/badges/{badge.id}" in notice.body


def test_reinstating_clears_the_bit_and_the_badge_is_valid_again(client: FlaskClient) -> None:
    badge = award(passed_submission())
    admin = admin_of(badge)
    revocation.suspend(actor=admin, badge_id=badge.id, reason="Checking the evidence")
    revocation.reinstate(actor=admin, badge_id=badge.id, reason="The evidence is the earner's own")
    db.session.flush()
    paired = status.suspension_list(revocation_list_id=badge.status_list_id)
    assert _bit(client, paired.id, badge.status_index) == ("suspension", False)
    report = verify(badge.jwt)
    assert report.status == "valid", report.checks
    assert any(c["detail"].startswith("not suspension") for c in report.checks)
    assert badge.status() == "valid" and badge.suspension_reason is None
    assert [e.action for e in _events(badge)] == ["badge.suspended", "badge.reinstated"]
    assert _events(badge)[1].before["reason"] == "Checking the evidence"
    subjects = [m.subject for m in _mails_to(badge.earner_id)]
    assert subjects[-1] == f"Your badge “{badge.title}” is valid again"
    assert "The evidence is the earner's own" in _mails_to(badge.earner_id)[-1].body


def test_a_never_suspended_badge_of_ours_says_so(client: FlaskClient) -> None:
    badge = award(passed_submission())
    report = verify(badge.jwt)
    assert report.status == "valid"
    assert any("was ever suspended" in c["detail"] for c in report.checks if c["step"] == "status")


def test_revoked_wins_over_suspended(client: FlaskClient) -> None:
    badge = award(passed_submission())
    admin = admin_of(badge)
    revocation.suspend(actor=admin, badge_id=badge.id, reason="Checking")
    revocation.revoke(actor=admin, badge_id=badge.id, reason="The evidence was copied")
    db.session.flush()
    assert badge.status() == "revoked"
    assert verify(badge.jwt).status == "revoked"
    page = client.get(f"/badges/{badge.id}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "REVOKED" in page and "SUSPENDED" not in page
    with pytest.raises(Conflict, match="revocation cannot be lifted"):
        revocation.reinstate(actor=admin, badge_id=badge.id, reason="x")
    with pytest.raises(Conflict, match="cannot be suspended"):
        revocation.suspend(actor=admin, badge_id=badge.id, reason="x")
    assert _mails_to(badge.earner_id)[-1].subject.endswith("has been revoked")


def test_refusals_change_nothing(session: Any) -> None:
    badge = award(passed_submission())
    admin = admin_of(badge)
    for actor in (member(badge.organisation, Role.ASSESSOR), member(OrganisationFactory(), Role.ORG_ADMIN)):
        with pytest.raises(Forbidden):
            revocation.suspend(actor=actor, badge_id=badge.id, reason="x")
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(ValidationFailed) as refused:
            revocation.suspend(actor=admin, badge_id=badge.id, reason=reason)
        assert refused.value.errors[0]["field"] == "reason"
    with pytest.raises(Conflict, match="not suspended"):
        revocation.reinstate(actor=admin, badge_id=badge.id, reason="x")
    assert badge.suspended_at is None and _events(badge) == []
    assert status.suspension_list(revocation_list_id=badge.status_list_id) is None
    revocation.suspend(actor=admin, badge_id=badge.id, reason="Checking")
    with pytest.raises(Conflict, match="already suspended"):
        revocation.suspend(actor=admin, badge_id=badge.id, reason="again")


def test_new_badges_never_take_an_index_in_a_suspension_list(session: Any) -> None:
    submission = passed_submission()
    first = award(submission)
    revocation.suspend(actor=admin_of(first), badge_id=first.id, reason="Checking")
    paired = status.suspension_list(revocation_list_id=first.status_list_id)
    # The suspension list is the organisation's newest list, with room: allocation must still skip it.
    for _ in range(3):
        later = award(passed_submission(version=submission.version))
        assert later.status_list_id == first.status_list_id != paired.id


def test_a_suspended_badge_is_not_renewed(session: Any) -> None:
    from badges import renewal

    badge = award(passed_submission())
    revocation.suspend(actor=admin_of(badge), badge_id=badge.id, reason="Checking")
    with pytest.raises(Conflict, match="suspended"):
        renewal.renew(actor=admin_of(badge), badge_id=badge.id)


def test_api_suspends_and_reinstates_with_problem_documents(client: FlaskClient) -> None:
    badge = award(passed_submission())
    headers = bearer(admin_of(badge))
    url = f"/api/v1/badges/{badge.id}"
    problem(client.post(f"{url}/suspend", json={}, headers=headers), 422)
    problem(client.post(f"{url}/suspend", json={"reason": "x", "colour": "red"}, headers=headers), 422)
    problem(client.post(f"{url}/suspend", json={"reason": "x" * 501}, headers=headers), 422)
    problem(client.post(f"{url}/suspend", json={"reason": "x"}, headers=bearer(member(badge.organisation))), 403)
    problem(client.post(f"/api/v1/badges/{uuid.uuid4()}/suspend", json={"reason": "x"}, headers=headers), 404)
    problem(client.post(f"{url}/reinstate", json={"reason": "x"}, headers=headers), 409)
    body = client.post(f"{url}/suspend", json={"reason": "Checking the evidence"}, headers=headers).get_json()
    assert body["status"] == "suspended" and body["suspension_reason"] == "Checking the evidence"
    problem(client.post(f"{url}/suspend", json={"reason": "again"}, headers=headers), 409)
    body = client.post(f"{url}/reinstate", json={"reason": "Checked"}, headers=headers).get_json()
    assert body["status"] == "valid" and body["suspended_at"] is None


def test_cli_suspends_and_reinstates(app: Any, session: Any) -> None:
    badge = award(passed_submission())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["badges", "suspend", str(badge.id), "--reason", "Checking the evidence"])
    assert result.exit_code == 0, result.output
    db.session.refresh(badge)
    assert badge.status() == "suspended"
    again = runner.invoke(args=["badges", "suspend", str(badge.id), "--reason", "again"])
    assert again.exit_code == 2 and "already suspended" in again.output
    result = runner.invoke(args=["badges", "reinstate", str(badge.id), "--reason", "Checked"])
    assert result.exit_code == 0, result.output
    db.session.refresh(badge)
    assert badge.status() == "valid"
    assert [e.actor_id for e in _events(badge)] == [None, None]  # the console operator


def test_a_refused_change_leaves_no_notice_and_a_rolled_back_one_none_either(session: Any) -> None:
    badge = award(passed_submission())
    with pytest.raises(ValidationFailed):
        revocation.suspend(actor=admin_of(badge), badge_id=badge.id, reason=" ")
    assert _mails_to(badge.earner_id) == []
    with session.begin_nested() as savepoint:
        revocation.suspend(actor=admin_of(badge), badge_id=badge.id, reason="Checking")
        assert len(_mails_to(badge.earner_id)) == 1
        savepoint.rollback()
    assert _mails_to(badge.earner_id) == []
