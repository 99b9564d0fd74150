"""Recipient consent: an organisation that requires acceptance issues pending badges (page says so, nothing to
share or download) until the earner accepts; declining and hiding; imported awards to people outside the
organisation always pending; who may act (the earner only: anyone else gets the 404 of an unknown id); the audit
log, the mail with its accept link, the importer's view of who has not accepted, and the API."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from badges import consent, imports
from badges.models import Badge
from badges.verifier import verify
from core.db import db, unit_of_work
from core.errors import Conflict, Forbidden, NotFound
from core.models import AuditEvent, OutboxMessage, Role, User
from tests.badges.issued import award, passed_submission
from tests.conftest import bearer, csrf_token, problem
from tests.core.test_web import BROWSER, sign_in
from tests.factories import CredentialVersionFactory, OrganisationFactory, UserFactory, member

DOWNLOADS = ("json", "jwt", "png", "svg")


def _org_requiring_acceptance() -> tuple[Any, User]:
    organisation = OrganisationFactory()
    version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=365)
    admin = member(organisation, Role.ORG_ADMIN)
    consent.set_requires_acceptance(actor=admin, organisation_id=organisation.id, require=True)
    return version, admin


@pytest.fixture
def pending(session: Any) -> Badge:
    version, _admin = _org_requiring_acceptance()
    return award(passed_submission(version=version))


def _earner(badge: Badge) -> User:
    user = db.session.get(User, badge.earner_id)
    assert user is not None
    return user


def _events(badge: Badge, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_id == str(badge.id), AuditEvent.action == action)
    return list(db.session.scalars(query))


def _sign_out(client: FlaskClient) -> None:
    token = csrf_token(client.get("/my/badges", headers=BROWSER).get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}, headers=BROWSER).status_code == 302
    assert client.get("/my/badges", headers=BROWSER).status_code == 302


def _post(client: FlaskClient, badge_id: Any, change: str) -> Any:
    token = csrf_token(client.get("/my/badges", headers=BROWSER).get_data(as_text=True))
    return client.post(f"/my/badges/{badge_id}/{change}", data={"csrf_token": token}, headers=BROWSER)


def test_without_the_setting_a_badge_is_public_at_once(session: Any) -> None:
    badge = award(passed_submission())
    assert badge.acceptance == "accepted" and consent.visibility(badge) == consent.PUBLIC
    assert not consent.requires_acceptance(badge.organisation_id)


def test_a_pending_badge_says_so_offers_nothing_to_share_and_refuses_downloads(
    client: FlaskClient, pending: Badge
) -> None:
    earner = _earner(pending)
    assert pending.acceptance == "pending"
    html = client.get(f"/badges/{pending.id}", headers=BROWSER).get_data(as_text=True)
    assert "PENDING ACCEPTANCE" in html and "(pending acceptance) · Micro-credentials</title>" in html
    assert "linkedin.com" not in html and f"/badges/{pending.id}.json" not in html
    assert earner.name not in html and "I taught; they read closely." not in html  # no name, no evidence
    assert "og:image" not in html  # a preview would fetch the refused PNG
    for kind in DOWNLOADS:
        body = problem(client.get(f"/badges/{pending.id}.{kind}", headers={"Accept": "application/json"}), 403)
        assert "acceptance" in body["detail"]
    for media_type in ("application/vc+ld+json", "application/vc+jwt"):
        assert client.get(f"/badges/{pending.id}", headers={"Accept": media_type}).status_code == 403
    # Not even the earner can download it before accepting.
    sign_in(client, earner.email)
    assert client.get(f"/badges/{pending.id}.json").status_code == 403
    mine = client.get(f"/badges/{pending.id}", headers=BROWSER)
    assert "Accept or decline it on My badges" in mine.get_data(as_text=True)
    assert mine.headers["Cache-Control"].startswith("private")


def test_the_earner_is_mailed_an_accept_link_through_the_outbox(pending: Badge) -> None:
    earner = _earner(pending)
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == earner.email))
    assert mail.subject.startswith(f"Accept your badge “{pending.title}”")
    assert f"http://localhost/my/badges#badge-{pending.id}" in mail.body and "decline" in mail.body
    [issued] = _events(pending, "badge.issued")
    assert issued.after["acceptance"] == "pending"


def test_accepting_on_my_badges_makes_it_public_and_is_audited(client: FlaskClient, pending: Badge) -> None:
    earner = _earner(pending)
    sign_in(client, earner.email)
    listing = client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    assert "Waiting for your answer" in listing and ">Accept<" in listing
    response = _post(client, pending.id, "accept")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#badge-{pending.id}")
    db.session.refresh(pending)
    assert pending.acceptance == "accepted" and pending.acceptance_at is not None
    [event] = _events(pending, "badge.accepted")
    assert event.actor_id == earner.id
    assert event.before["acceptance"] == "pending" and event.after["acceptance"] == "accepted"
    _sign_out(client)
    html = client.get(f"/badges/{pending.id}", headers=BROWSER).get_data(as_text=True)
    assert "PENDING" not in html and "linkedin.com" in html and earner.name in html
    assert client.get(f"/badges/{pending.id}.json").status_code == 200
    # Accepting twice is refused, and says why.
    with pytest.raises(Conflict):
        consent.accept(actor=earner, badge_id=pending.id)


def test_another_person_cannot_accept_decline_or_hide_my_badge(client: FlaskClient, pending: Badge) -> None:
    stranger = member(pending.organisation, Role.ORG_ADMIN)  # even the issuing organisation's admin
    for change in consent.CHANGES.values():
        with pytest.raises(NotFound):
            change(actor=stranger, badge_id=pending.id)
    sign_in(client, stranger.email)
    foreign = _post(client, pending.id, "accept")
    unknown = _post(client, uuid.uuid4(), "accept")
    assert foreign.status_code == unknown.status_code == 404
    api = problem(client.post(f"/api/v1/me/badges/{pending.id}/accept", headers=bearer(stranger)), 404)
    assert (
        api["detail"]
        == problem(client.post(f"/api/v1/me/badges/{uuid.uuid4()}/accept", headers=bearer(stranger)), 404)["detail"]
    )
    db.session.refresh(pending)
    assert pending.acceptance == "pending" and not _events(pending, "badge.accepted")


def test_hostile_requests_are_refused_without_a_change(client: FlaskClient, pending: Badge) -> None:
    earner = _earner(pending)
    # Anonymous: to the sign-in page; without the CSRF token: refused.
    assert client.post(f"/my/badges/{pending.id}/accept").status_code in (302, 400)
    sign_in(client, earner.email)
    assert client.post(f"/my/badges/{pending.id}/accept", headers=BROWSER).status_code == 400
    assert client.post(f"/my/badges/{pending.id}/delete", headers=BROWSER).status_code in (400, 404, 405)
    assert client.post("/my/badges/not-a-uuid/accept", headers=BROWSER).status_code in (400, 404)
    problem(client.post(f"/api/v1/me/badges/{pending.id}/accept"), 401)
    problem(client.post(f"/api/v1/me/badges/{pending.id}/obliterate", headers=bearer(earner)), 404)
    db.session.refresh(pending)
    assert pending.acceptance == "pending"


def test_declining_hides_the_badge_from_everyone_but_it_can_be_accepted_later(
    client: FlaskClient, pending: Badge
) -> None:
    earner = _earner(pending)
    consent.decline(actor=earner, badge_id=pending.id)
    assert len(_events(pending, "badge.declined")) == 1
    with pytest.raises(Conflict):
        consent.decline(actor=earner, badge_id=pending.id)
    with pytest.raises(Conflict):
        consent.hide(actor=earner, badge_id=pending.id)
    assert client.get(f"/badges/{pending.id}", headers=BROWSER).status_code == 404
    for kind in DOWNLOADS:
        assert client.get(f"/badges/{pending.id}.{kind}").status_code == 404
    sign_in(client, earner.email)
    assert "DECLINED" in client.get(f"/badges/{pending.id}", headers=BROWSER).get_data(as_text=True)
    assert "DECLINED" in client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    assert _post(client, pending.id, "accept").status_code == 302
    db.session.refresh(pending)
    assert pending.acceptance == "accepted"


def test_declining_an_accepted_badge_is_refused(client: FlaskClient, pending: Badge) -> None:
    earner = _earner(pending)
    consent.accept(actor=earner, badge_id=pending.id)
    problem(client.post(f"/api/v1/me/badges/{pending.id}/decline", headers=bearer(earner)), 409)
    sign_in(client, earner.email)
    response = _post(client, pending.id, "decline")
    assert response.status_code == 302
    listing = client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    assert "hide an accepted badge from public view instead" in listing


def test_a_hidden_badge_says_only_that_it_is_valid_and_stays_verifiable(client: FlaskClient, session: Any) -> None:
    badge = award(passed_submission())
    earner = _earner(badge)
    sign_in(client, earner.email)
    assert _post(client, badge.id, "hide").status_code == 302
    db.session.refresh(badge)
    assert badge.hidden_at is not None and len(_events(badge, "badge.hidden")) == 1
    own = client.get(f"/badges/{badge.id}.json")
    assert own.status_code == 200 and own.headers["Cache-Control"] == "private, no-store"
    assert "Hide from public view" not in client.get("/my/badges", headers=BROWSER).get_data(as_text=True)
    _sign_out(client)

    html = client.get(f"/badges/{badge.id}", headers=BROWSER).get_data(as_text=True)
    assert ">VALID<" in html and "hidden this badge from public view" in html
    assert earner.name not in html and "Rubric result" not in html and "I taught; they read closely." not in html
    assert "linkedin.com" not in html
    for kind in DOWNLOADS:
        problem(client.get(f"/badges/{badge.id}.{kind}", headers={"Accept": "application/json"}), 403)
    # Whoever holds the credential can still verify it.
    assert verify(badge.jwt).status == "valid"
    assert client.post("/api/v1/verify", json={"credential": badge.credential}).get_json()["status"] == "valid"

    shown = client.post(f"/api/v1/me/badges/{badge.id}/show", headers=bearer(earner))
    assert shown.status_code == 200 and shown.json["hidden_at"] is None and shown.json["acceptance"] == "accepted"
    assert earner.name in client.get(f"/badges/{badge.id}", headers=BROWSER).get_data(as_text=True)
    problem(client.post(f"/api/v1/me/badges/{badge.id}/show", headers=bearer(earner)), 409)


def _csv(version: Any, *emails: str) -> bytes:
    rows = "".join(f"{e},Person {i},{version.id},2023-05-0{i + 1},\n" for i, e in enumerate(emails))
    return f"email,name,version_id,awarded_on,award_id\n{rows}".encode()


def test_imports_to_people_outside_the_organisation_wait_for_their_acceptance(
    client: FlaskClient, session: Any
) -> None:
    organisation = OrganisationFactory()
    version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=None)
    admin = member(organisation, Role.ORG_ADMIN)
    insider = member(organisation, Role.ASSESSOR)
    outsider = member(OrganisationFactory(), Role.ORG_ADMIN)  # an account, but of another organisation
    data = _csv(version, insider.email, outsider.email.upper(), "nobody-yet@example.org")
    report = imports.import_awards(actor=admin, organisation_id=organisation.id, data=data)
    badges = {r["line"]: db.session.get(Badge, r["badge_id"]) for r in report["rows"]}
    assert [badges[line].acceptance for line in (2, 3, 4)] == ["accepted", "pending", "pending"]
    assert badges[3].earner_id == outsider.id
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == outsider.email))
    assert f"/my/badges#badge-{badges[3].id}" in mail.body
    assert not list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to == insider.email)))

    # The outsider's "My badges" asks them; the importer sees who has not accepted.
    sign_in(client, admin.email)
    listing = client.get(f"/organisations/{organisation.id}/badges?acceptance=pending", headers=BROWSER)
    text = listing.get_data(as_text=True)
    assert "2 badges not accepted yet" in text and "Person 1" in text and "Person 2" in text
    assert "Person 0" not in text
    assert client.get(f"/organisations/{organisation.id}/badges?acceptance=x", headers=BROWSER).status_code == 422
    everything = client.get(f"/organisations/{organisation.id}/badges", headers=BROWSER).get_data(as_text=True)
    assert everything.count("not accepted yet</span>") == 2
    api = client.get(f"/api/v1/organisations/{organisation.id}/badges?acceptance=pending", headers=bearer(admin))
    assert sorted(b["recipient_name"] for b in api.json) == ["Person 1", "Person 2"]
    assert {b["acceptance"] for b in api.json} == {"pending"}
    problem(client.get(f"/api/v1/organisations/{organisation.id}/badges?acceptance=maybe", headers=bearer(admin)), 422)


def test_the_import_page_counts_the_badges_not_accepted(client: FlaskClient, session: Any) -> None:
    organisation = OrganisationFactory()
    version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=None)
    admin = member(organisation, Role.ORG_ADMIN)
    outsider = UserFactory()
    with unit_of_work():  # without a task queue the job runs right after this commit
        job = imports.start_import(
            actor=admin, organisation_id=organisation.id, data=_csv(version, outsider.email, "x@example.org")
        )
    db.session.refresh(job)
    assert job.status == "done"  # no task queue configured: the job ran inline
    sign_in(client, admin.email)
    page = client.get(f"/organisations/{organisation.id}/badges/imports/{job.id}", headers=BROWSER)
    text = page.get_data(as_text=True)
    assert "2 of these badges are waiting for the earner's acceptance" in text
    assert "acceptance=pending" in text
    badge_id = job.results[0]["badge_id"]
    consent.accept(actor=outsider, badge_id=uuid.UUID(badge_id))
    text = client.get(f"/organisations/{organisation.id}/badges/imports/{job.id}", headers=BROWSER).get_data(
        as_text=True
    )
    assert "1 of these badges is waiting" in text


def test_the_setting_is_for_org_admins_audited_and_validated(client: FlaskClient, session: Any) -> None:
    organisation = OrganisationFactory()
    admin = member(organisation, Role.ORG_ADMIN)
    author = member(organisation, Role.AUTHOR)
    url = f"/api/v1/organisations/{organisation.id}/issuing-settings"
    problem(client.put(url, json={"require_acceptance": True}, headers=bearer(author)), 403)
    problem(client.get(url, headers=bearer(member(OrganisationFactory(), Role.ORG_ADMIN))), 403)
    problem(client.put(url, json={"require_acceptance": "perhaps"}, headers=bearer(admin)), 422)
    problem(client.put(url, json={"require_acceptance": True, "extra": 1}, headers=bearer(admin)), 422)
    problem(client.put(url, json={}, headers=bearer(admin)), 422)
    assert client.get(url, headers=bearer(admin)).json == {"require_acceptance": False}
    assert client.put(url, json={"require_acceptance": True}, headers=bearer(admin)).json == {
        "require_acceptance": True
    }
    assert consent.requires_acceptance(organisation.id)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "issuing.settings_changed"))
    assert event.actor_id == admin.id and event.after == {"require_acceptance": True}
    with pytest.raises(Forbidden):
        consent.set_requires_acceptance(actor=author, organisation_id=organisation.id, require=False)

    # The issuer page's form turns it off again.
    sign_in(client, admin.email)
    page = client.get(f"/organisations/{organisation.id}/issuer", headers=BROWSER).get_data(as_text=True)
    assert "Require acceptance" in page and "checked" in page
    response = client.post(
        f"/organisations/{organisation.id}/issuer/consent", data={"csrf_token": csrf_token(page)}, headers=BROWSER
    )
    assert response.status_code == 302
    assert not consent.requires_acceptance(organisation.id)


def test_a_declined_badge_gets_no_expiry_notice_but_a_pending_one_does(pending: Badge) -> None:
    from datetime import timedelta

    from badges import expiry
    from badges.models import ExpiryNotice
    from core import clock
    from credentials.authoring.models import CredentialVersion

    declined = award(passed_submission(version=db.session.get(CredentialVersion, pending.version_id)))
    consent.decline(actor=_earner(declined), badge_id=declined.id)
    assert pending.valid_until is not None and declined.valid_until is not None
    with clock.frozen_at(max(pending.valid_until, declined.valid_until) - timedelta(days=7)):
        expiry.send_notices()
    sent = set(db.session.scalars(select(ExpiryNotice.badge_id)))
    assert pending.id in sent and declined.id not in sent


def test_a_renewal_keeps_the_earners_answer(pending: Badge) -> None:
    from badges import renewal

    earner = _earner(pending)
    admin = member(pending.organisation, Role.ORG_ADMIN)
    consent.accept(actor=earner, badge_id=pending.id)
    consent.hide(actor=earner, badge_id=pending.id)
    renewed = renewal.renew(actor=admin, badge_id=pending.id)
    assert renewed.acceptance == "accepted" and renewed.hidden_at is not None  # not asked again, still hidden
