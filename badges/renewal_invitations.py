"""Renewal invitations: the earner of a badge whose micro-credential is renewed by evidence is mailed, once,
``RENEWAL_INVITATION_DAYS`` (60 by default) before its ``validUntil``, with the link that starts the renewal.

Run by the ``badges.renewal_invitations`` job (``TASK_SCHEDULE``) or ``flask badges renewal-invitations``. Which
invitations are due is worked out from the clock each run, so a missed run is caught up by the next. Nothing is
sent for badges revoked, suspended, declined, already renewed or being renewed, with no account behind them, or
that expired more than ``STALE_AFTER`` ago. An invitation is recorded in ``badge_renewal_invitations`` by an
``INSERT … ON CONFLICT DO NOTHING`` in the transaction that writes its mail to the outbox: two runs at once send
it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from badges import notices, renewal
from badges.models import Badge, RenewalInvitation
from core import clock, tasks
from core.db import db, unit_of_work
from credentials.authoring.models import CredentialVersion
from credentials.portfolios.models import OPEN_SUBMISSION_STATES, Submission

log = logging.getLogger("microcred.badges")

STALE_AFTER = timedelta(days=30)

_INSERT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(RenewalInvitation.__table__)
    .on_conflict_do_nothing()
    .returning(RenewalInvitation.__table__.c.badge_id)
    for dialect in (postgresql, sqlite)
}


def due(*, now: datetime | None = None) -> list[Badge]:
    """The badges whose invitation is due at ``now`` and not yet sent, soonest expiry first."""
    now = now or clock.now()
    days = current_app.config["RENEWAL_INVITATION_DAYS"]
    newer = aliased(Badge)
    candidates = db.session.scalars(
        select(Badge)
        .join(CredentialVersion, CredentialVersion.id == Badge.version_id)
        .where(
            CredentialVersion.renewal_months.is_not(None),
            Badge.valid_until.is_not(None),
            Badge.valid_until <= now + timedelta(days=days),
            Badge.valid_until > now - STALE_AFTER,
            Badge.revoked_at.is_(None),
            Badge.suspended_at.is_(None),
            Badge.earner_id.is_not(None),
            Badge.acceptance != "declined",
            ~exists().where(newer.renewed_from_id == Badge.id),
            ~exists().where(RenewalInvitation.badge_id == Badge.id),
            ~exists().where(Submission.renews_badge_id == Badge.id, Submission.state.in_(OPEN_SUBMISSION_STATES)),
        )
        .order_by(Badge.valid_until, Badge.id)
    ).all()
    # The version a renewal answers is the micro-credential's current one: it must still require renewal.
    return [badge for badge in candidates if renewal.renewal_version(badge) is not None]


def send_invitations(*, now: datetime | None = None) -> int:
    """Mail every due invitation once (outbox, this transaction); how many were sent."""
    now = now or clock.now()
    insert = _INSERT[db.session.get_bind().dialect.name]
    count = 0
    for badge in due(now=now):
        version = renewal.renewal_version(badge)
        assert version is not None
        if db.session.execute(insert, {"badge_id": badge.id, "sent_at": now}).first() is None:
            continue  # another run sent it first
        notices.renewal_invitation(badge=badge, version=version, now=now)
        count += 1
    return count


@tasks.job("badges.renewal_invitations")
def renewal_invitations() -> int:
    """The periodic sweep: invite every earner whose badge's renewal has opened; how many were invited."""
    with unit_of_work():
        sent = send_invitations()
    if sent:
        log.info("sent %d renewal invitation(s)", sent)
    return sent
