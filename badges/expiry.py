"""Expiry notices: the earner of a badge with a ``validUntil`` is mailed ``EXPIRY_NOTICE_DAYS`` days before it
(60, 30 and 7 by default) and on the day it expires (0), each at most once, by ``flask badges expiry-notices``
run daily.

Which notices are due is worked out from the clock each run, so a missed day is caught up the next: a badge
gets the notice of the nearest threshold it has passed, once. When several thresholds fall due together (a
30-day badge, or a run after a long pause) only the nearest is sent, never a burst of stale ones. Nothing is
sent for badges revoked, suspended, already renewed, with no account behind them, or that expired more than
``STALE_AFTER`` ago. A notice is recorded in ``badge_expiry_notices`` (one row per badge and threshold) by an
``INSERT … ON CONFLICT DO NOTHING`` in the transaction that writes its mail to the outbox: two runs at once
send it once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from badges import notices
from badges.models import Badge, ExpiryNotice
from core import clock
from core.db import db

STALE_AFTER = timedelta(days=30)
BATCH = 500

_INSERT = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(ExpiryNotice.__table__)
    .on_conflict_do_nothing()
    .returning(ExpiryNotice.__table__.c.badge_id)
    for dialect in (postgresql, sqlite)
}


def _nearest(badge: Badge, days: Iterable[int], now: datetime) -> int | None:
    """The smallest threshold whose moment (``valid_until`` minus that many days) has come, or None."""
    assert badge.valid_until is not None
    due = [d for d in days if badge.valid_until - timedelta(days=d) <= now]
    return min(due) if due else None


def due(*, now: datetime | None = None, days: Iterable[int] | None = None) -> list[tuple[Badge, int]]:
    """The notices due at ``now``: (badge, threshold in days), soonest expiry first."""
    now = now or clock.now()
    days = tuple(current_app.config["EXPIRY_NOTICE_DAYS"] if days is None else days)
    if not days:
        return []
    renewal = aliased(Badge)
    candidates = db.session.scalars(
        select(Badge)
        .where(
            Badge.valid_until.is_not(None),
            Badge.valid_until <= now + timedelta(days=max(days)),
            Badge.valid_until > now - STALE_AFTER,
            Badge.revoked_at.is_(None),
            Badge.suspended_at.is_(None),
            Badge.earner_id.is_not(None),
            Badge.acceptance != "declined",  # the earner said they do not want it
            ~exists().where(renewal.renewed_from_id == Badge.id),
        )
        .order_by(Badge.valid_until, Badge.id)
    ).all()
    sent: dict[object, set[int]] = {}
    ids = [badge.id for badge in candidates]
    for start in range(0, len(ids), BATCH):
        rows = db.session.execute(
            select(ExpiryNotice.badge_id, ExpiryNotice.days_before).where(
                ExpiryNotice.badge_id.in_(ids[start : start + BATCH])
            )
        )
        for badge_id, days_before in rows:
            sent.setdefault(badge_id, set()).add(days_before)
    result = []
    for badge in candidates:
        nearest = _nearest(badge, days, now)
        # A nearer (or the same) notice already went out: what is left is stale.
        if nearest is not None and not any(d <= nearest for d in sent.get(badge.id, ())):
            result.append((badge, nearest))
    return result


def send_notices(*, now: datetime | None = None, days: Iterable[int] | None = None) -> int:
    """Mail every due expiry notice once (outbox, this transaction); returns how many were sent."""
    now = now or clock.now()
    insert = _INSERT[db.session.get_bind().dialect.name]
    count = 0
    for badge, days_before in due(now=now, days=days):
        row = {"badge_id": badge.id, "days_before": days_before, "sent_at": now}
        if db.session.execute(insert, row).first() is None:
            continue  # another run sent it first
        notices.expiry(badge=badge, days_before=days_before, now=now)
        count += 1
    return count
