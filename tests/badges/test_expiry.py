"""Expiry notices: 60, 30 and 7 days before a badge's validUntil and at it (configurable), each exactly once,
through the outbox; the ones not to send; the command; time moved with the injectable clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select

from badges import expiry, renewal, revocation
from badges.models import Badge, ExpiryNotice
from core import clock
from core.config import ConfigError, load
from core.db import db
from core.models import OutboxMessage, User
from tests.badges.issued import admin_of, award, passed_submission


def _mails(badge: Badge) -> list[OutboxMessage]:
    earner = db.session.get(User, badge.earner_id)
    query = select(OutboxMessage).where(OutboxMessage.to == earner.email).order_by(OutboxMessage.created_at)
    return list(db.session.scalars(query))


def _run_at(badge: Badge, before_expiry: timedelta, **kwargs: Any) -> int:
    assert badge.valid_until is not None
    with clock.frozen_at(badge.valid_until - before_expiry):
        return expiry.send_notices(**kwargs)


def _mine(badge: Badge) -> set[int]:
    return set(db.session.scalars(select(ExpiryNotice.days_before).where(ExpiryNotice.badge_id == badge.id)))


def test_each_notice_goes_out_once_at_its_day(session: Any) -> None:
    badge = award(passed_submission(validity_days=365))
    day = timedelta(days=1)
    _run_at(badge, 61 * day)
    assert _mine(badge) == set() and _mails(badge) == []
    for days, subject_end in ((60, "expires on"), (30, "expires on"), (7, "expires on"), (0, "has expired")):
        _run_at(badge, days * day)
        assert days in _mine(badge)
        assert subject_end in _mails(badge)[-1].subject
        # Running again the same day, or the day after, sends nothing more for this badge.
        count = len(_mails(badge))
        _run_at(badge, days * day)
        _run_at(badge, (days - 1) * day)
        assert len(_mails(badge)) == count
    assert _mine(badge) == {60, 30, 7, 0}
    assert len(_mails(badge)) == 4
    _run_at(badge, -10 * day)
    assert len(_mails(badge)) == 4


def test_the_mail_says_when_and_where(session: Any) -> None:
    badge = award(passed_submission(validity_days=365))
    _run_at(badge, timedelta(days=30))
    soon = _mails(badge)[-1]
    on = format_date(badge.valid_until, "long", locale="en")
    assert soon.subject == f"Your badge “{badge.title}” expires on {on}"
    assert "in 30 days" in soon.body and "EXPIRED" in soon.body
    assert f"/badges/{badge.id}" in soon.body and f"/achievements/{badge.version_id}" in soon.body
    _run_at(badge, timedelta(0))
    done = _mails(badge)[-1]
    assert done.subject == f"Your badge “{badge.title}” has expired" and f"expired on {on}" in done.body


def test_a_short_lived_badge_gets_the_nearest_notice_not_a_burst(session: Any) -> None:
    # Issued at noon, so "an hour after issue" is the same day whenever the suite runs (near midnight UTC the
    # days left would otherwise read 19).
    noon = clock.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with clock.frozen_at(noon):
        badge = award(passed_submission(validity_days=20))
    with clock.frozen_at(badge.valid_from + timedelta(hours=1)):
        expiry.send_notices()
    # 60 and 30 days before fell due together at issue: one notice (the 30-day one), never the stale 60-day one.
    assert _mine(badge) == {30} and len(_mails(badge)) == 1
    assert "in 20 days" in _mails(badge)[0].body
    _run_at(badge, timedelta(days=7))
    _run_at(badge, timedelta(0))
    assert _mine(badge) == {30, 7, 0} and len(_mails(badge)) == 3


def test_no_notice_for_revoked_suspended_renewed_stale_or_unexpiring_badges(session: Any) -> None:
    revoked, suspended, renewed = (award(passed_submission(validity_days=365)) for _ in range(3))
    revocation.revoke(actor=admin_of(revoked), badge_id=revoked.id, reason="Copied")
    revocation.suspend(actor=admin_of(suspended), badge_id=suspended.id, reason="Checking")
    renewal.renew(actor=admin_of(renewed), badge_id=renewed.id)
    for badge in (revoked, suspended, renewed):
        _run_at(badge, timedelta(days=7))
        assert _mine(badge) == set()
    stale = award(passed_submission(validity_days=365))
    _run_at(stale, -expiry.STALE_AFTER - timedelta(days=1))
    assert _mine(stale) == set()
    forever = award(passed_submission(validity_days=None))
    with clock.shifted(timedelta(days=3650)):
        expiry.send_notices()
    assert _mine(forever) == set() and not [m for m in _mails(forever) if "expire" in m.subject]


def test_the_days_are_configurable(session: Any) -> None:
    badge = award(passed_submission(validity_days=365))
    _run_at(badge, timedelta(days=30), days=(14,))
    assert _mine(badge) == set()
    _run_at(badge, timedelta(days=14), days=(14,))
    assert _mine(badge) == {14}
    _run_at(badge, timedelta(0), days=())
    assert _mine(badge) == {14}


def test_the_setting_is_parsed_and_checked() -> None:
    assert load(environ={})["EXPIRY_NOTICE_DAYS"] == (60, 30, 7, 0)
    assert load(environ={"EXPIRY_NOTICE_DAYS": " 7, 90,7 ,0"})["EXPIRY_NOTICE_DAYS"] == (90, 7, 0)
    assert load(environ={"EXPIRY_NOTICE_DAYS": ""})["EXPIRY_NOTICE_DAYS"] == ()
    for bad in ("soon", "30,-1", "99999", "7.5"):
        with pytest.raises(ConfigError, match="EXPIRY_NOTICE_DAYS"):
            load(environ={"EXPIRY_NOTICE_DAYS": bad})


def test_a_notice_another_run_sent_first_is_not_sent_again(session: Any, monkeypatch: Any) -> None:
    badge = award(passed_submission(validity_days=365))
    with clock.frozen_at(badge.valid_until - timedelta(days=7)):
        seen_before = [(b, d) for b, d in expiry.due() if b.id == badge.id]
        assert seen_before == [(badge, 7)]
        expiry.send_notices()
        # A second run that read the due list before the first one's insert: the primary key stops it.
        monkeypatch.setattr(expiry, "due", lambda **_: seen_before)
        assert expiry.send_notices() == 0
    assert len(_mails(badge)) == 1


def test_the_command_sends_and_reports(app: Any, session: Any) -> None:
    badge = award(passed_submission(validity_days=365))
    runner = app.test_cli_runner()
    with clock.frozen_at(badge.valid_until - timedelta(days=7)):
        first = runner.invoke(args=["badges", "expiry-notices"])
        assert first.exit_code == 0, first.output
        assert first.output.startswith("Sent ") and "expiry notice(s)" in first.output
        assert _mine(badge) == {7}
        second = runner.invoke(args=["badges", "expiry-notices"])
    assert second.output == "Sent 0 expiry notice(s).\n"
