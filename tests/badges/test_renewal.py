"""Renewal as a workflow: a version renewed every N months (its badges' validUntil), the invitation mailed once
before validUntil, the earner's renewal submission in the same queue scored against the renewal rubric, "not yet"
and another attempt, a pass issuing one new badge linked to the old one (not revoked), and what the pages say.
Time is moved with the injectable clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from assessors import queue, scoring
from badges import renewal, renewal_invitations, revocation
from badges.models import Badge, RenewalInvitation
from core import clock
from core.db import db
from core.errors import Conflict, NotFound
from core.models import OutboxMessage, User
from credentials.portfolios import services as portfolios
from credentials.portfolios.models import Submission
from tests.badges.issued import admin_of, schema_errors
from tests.badges.renewable import PRACTICE, renewable_badge, renewable_version, renewal_assessor
from tests.factories import CredentialVersionFactory, member

DAY = timedelta(days=1)


def _earner(badge: Badge) -> User:
    user = db.session.get(User, badge.earner_id)
    assert user is not None
    return user


def _mails(badge: Badge) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.to == _earner(badge).email).order_by(OutboxMessage.created_at)
    return list(db.session.scalars(query))


def _in_window(badge: Badge) -> Any:
    assert badge.valid_until is not None
    return clock.frozen_at(badge.valid_until - 30 * DAY)


def _submit(badge: Badge, text: str = PRACTICE) -> Submission:
    submission, new = renewal.start(actor=_earner(badge), badge_id=badge.id)
    assert new
    portfolios.save_draft(actor=_earner(badge), submission_id=submission.id, answers={"practice": text})
    return portfolios.submit(actor=_earner(badge), submission_id=submission.id)


def _decide(badge: Badge, level: int) -> Any:
    assessor = renewal_assessor(badge)
    task = queue.claim_next(actor=assessor, organisation_id=badge.organisation_id)
    assert task is not None
    scores = [{"criterion_key": "currency", "level": level, "feedback": "" if level else "Show a recent lesson."}]
    return scoring.submit_review(actor=assessor, task_id=task.id, scores=scores, summary="Thank you.")


def test_a_renewable_version_sets_valid_until_in_months(session: Any) -> None:
    start = clock.now().replace(year=2025, month=1, day=31, hour=12, minute=0, second=0, microsecond=0)
    badge = renewable_badge(awarded=start)
    assert badge.valid_until == start.replace(year=2026, month=1)
    assert badge.credential["validUntil"].startswith("2026-01-31")
    leap = renewable_badge(renewable_version(), awarded=start.replace(year=2023, month=2, day=28))
    assert leap.valid_until is not None and leap.valid_until.date().isoformat() == "2024-02-28"


def test_the_whole_renewal_issues_one_linked_badge(session: Any) -> None:
    old = renewable_badge()
    with _in_window(old):
        submission = _submit(old)
        assert submission.kind == "renewal" and submission.renews_badge_id == old.id
        assert [r.key for r in submission.requirements] == ["practice"]
        assert renewal.state(old).state == "in_review"
        assessor = renewal_assessor(old)
        task = queue.claim_next(actor=assessor, organisation_id=old.organisation_id)
        view = scoring.task_view(actor=assessor, task_id=task.id)
        assert view["submission"]["kind"] == "renewal"
        assert [c["key"] for c in view["submission"]["rubric"]] == ["currency"]
        assert view["submission"]["passing_level"] == "Current"
        listed = queue.list_queue(actor=assessor, organisation_id=old.organisation_id)
        assert [item.kind for item in listed.items] == ["renewal"]
        scoring.submit_review(
            actor=assessor, task_id=task.id, scores=[{"criterion_key": "currency", "level": 1}], summary="Current."
        )
        new = db.session.scalar(select(Badge).where(Badge.renewed_from_id == old.id))
        assert new is not None and new.submission_id == submission.id and new.source == "renewal"
        today = clock.now().date()
        assert new.valid_until is not None and new.valid_until.date() == today.replace(year=today.year + 1)
    assert old.revoked_at is None and old.status() == "valid"  # not revoked: it lapses at its own validUntil
    evidence = new.credential["evidence"][0]
    assert evidence["id"].endswith(f"/badges/{old.id}") and evidence["genre"] == "Renewal"
    assert schema_errors(new.credential) == []
    assert renewal.state(old).state == "renewed" and renewal.state(old).renewed_by.id == new.id
    assert renewal.state(new).renews.id == old.id
    # Exactly once: handing the same pass over again finds the same badge; renewing again is refused.
    from tests.badges.issued import award

    assert award(submission).id == new.id
    with _in_window(old), pytest.raises(Conflict, match="already been renewed"):
        renewal.start(actor=_earner(old), badge_id=old.id)
    with pytest.raises(Conflict, match="already been renewed"):
        renewal.renew(actor=admin_of(old), badge_id=old.id)


def test_not_yet_then_another_attempt_prefilled(session: Any) -> None:
    old = renewable_badge()
    with _in_window(old):
        first = _submit(old)
        _decide(old, level=0)
        assert first.state == "not_yet" and renewal.state(old).state == "renewable"
        again = portfolios.next_attempt(actor=_earner(old), submission_id=first.id)
        assert again.kind == "renewal" and again.renews_badge_id == old.id and again.previous_id == first.id
        assert {a.requirement_key: a.text for a in again.answers} == {"practice": PRACTICE}
        assert renewal.state(old).state == "draft"
        assert portfolios.attempts_left(again, again.earner_id) == 1  # 3 allowed: this is the second
        portfolios.submit(actor=_earner(old), submission_id=again.id)
    mails = [m.subject for m in _mails(old)]
    assert any("not yet passed" in s for s in mails)


def test_an_open_renewal_is_given_back_not_duplicated(session: Any) -> None:
    old = renewable_badge()
    with _in_window(old):
        first, new = renewal.start(actor=_earner(old), badge_id=old.id)
        second, again = renewal.start(actor=_earner(old), badge_id=old.id)
    assert new and not again and first.id == second.id


def test_hostile_renewals_are_refused(session: Any) -> None:
    old = renewable_badge()
    stranger = member(old.organisation)
    with _in_window(old):
        with pytest.raises(NotFound):
            renewal.start(actor=stranger, badge_id=old.id)  # someone else's badge
        with pytest.raises(NotFound):
            renewal.start(actor=stranger, badge_id=stranger.id)  # no such badge
    assert old.valid_until is not None
    with clock.frozen_at(old.valid_until - 61 * DAY), pytest.raises(Conflict, match="Renewal opens on"):
        renewal.start(actor=_earner(old), badge_id=old.id)
    revoked = renewable_badge()
    revocation.revoke(actor=admin_of(revoked), badge_id=revoked.id, reason="Issued in error.")
    with _in_window(revoked), pytest.raises(Conflict, match="revoked"):
        renewal.start(actor=_earner(revoked), badge_id=revoked.id)
    assert renewal.state(revoked).state is None
    plain = renewable_badge(CredentialVersionFactory(published=True, validity_days=365))
    with _in_window(plain), pytest.raises(Conflict, match="not renewed by evidence"):
        renewal.start(actor=_earner(plain), badge_id=plain.id)
    # While its earner renews it by evidence, an admin's re-issue is refused; after the pass it is renewed once.
    with _in_window(old):
        _submit(old)
    with pytest.raises(Conflict, match="renewing this badge by evidence"):
        renewal.renew(actor=admin_of(old), badge_id=old.id)


def test_a_lapsed_badge_with_a_renewal_in_review_says_so(client: Any, session: Any) -> None:
    old = renewable_badge()
    with _in_window(old):
        _submit(old)
    assert old.valid_until is not None
    with clock.frozen_at(old.valid_until + DAY):
        page = client.get(f"/badges/{old.id}").get_data(as_text=True)
    assert "EXPIRED" in page and "RENEWAL IN REVIEW" in page
    with clock.frozen_at(old.valid_until + DAY):
        _decide(old, level=1)
        new = db.session.scalar(select(Badge).where(Badge.renewed_from_id == old.id))
        old_page = client.get(f"/badges/{old.id}").get_data(as_text=True)
        new_page = client.get(f"/badges/{new.id}").get_data(as_text=True)
    assert "EXPIRED" in old_page and "Renewed by" in old_page and f"/badges/{new.id}" in old_page
    assert "RENEWAL IN REVIEW" not in old_page
    assert "VALID" in new_page and "Renews" in new_page and f"/badges/{old.id}" in new_page


def test_the_invitation_is_mailed_once_with_the_link(session: Any) -> None:
    badge = renewable_badge()
    assert badge.valid_until is not None
    with clock.frozen_at(badge.valid_until - 61 * DAY):
        assert renewal_invitations.send_invitations() == 0
    with clock.frozen_at(badge.valid_until - 60 * DAY):
        assert renewal_invitations.send_invitations() == 1
        assert renewal_invitations.send_invitations() == 0
    with clock.frozen_at(badge.valid_until - 10 * DAY):
        assert renewal_invitations.send_invitations() == 0
    mail = [m for m in _mails(badge) if m.subject.startswith("Renew")]
    assert len(mail) == 1
    on = f"{badge.valid_until:%Y-%m-%d}"
    assert mail[0].subject == f"Renew your badge “{badge.title}” before {on}"
    assert f"/my/badges/{badge.id}/renew" in mail[0].body and "in 60 days" in mail[0].body
    assert "- Current practice" in mail[0].body and "12 months" in mail[0].body
    assert db.session.get(RenewalInvitation, badge.id) is not None


def test_no_invitation_for_revoked_renewing_or_plain_badges(session: Any, app: Any) -> None:
    revoked, renewing = renewable_badge(), renewable_badge()
    plain = renewable_badge(CredentialVersionFactory(published=True, validity_days=365))
    revocation.revoke(actor=admin_of(revoked), badge_id=revoked.id, reason="Issued in error.")
    with _in_window(renewing):
        _submit(renewing)
        assert renewal_invitations.send_invitations() == 0
    assert all(not m.subject.startswith("Renew") for b in (revoked, renewing, plain) for m in _mails(b))
    # The sweep is a scheduled job, and a shorter window is configurable.
    assert "badges.renewal_invitations" in app.config["TASK_SCHEDULE"]
    fresh = renewable_badge()
    assert fresh.valid_until is not None
    app.config["RENEWAL_INVITATION_DAYS"] = 14
    try:
        with clock.frozen_at(fresh.valid_until - 30 * DAY):
            assert renewal_invitations.send_invitations() == 0
        with clock.frozen_at(fresh.valid_until - 14 * DAY):
            assert renewal_invitations.send_invitations() == 1
    finally:
        app.config["RENEWAL_INVITATION_DAYS"] = 60
