"""The review queue's periodic jobs (``TASK_SCHEDULE``): release stale claims, queue new submissions.

Both are safe to run twice at once (a retried job, two schedulers): ``sweep_stale_claims`` takes each notice
and release with a conditional UPDATE, and ``enqueue_submitted`` skips submissions another run holds
(``SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from assessors import queue
from core import tasks
from core.db import db, unit_of_work
from core.models import Organisation

log = logging.getLogger("microcred.review")


@tasks.job("review.stale_claims")
def release_stale_claims() -> int:
    """Tell assessors whose lease ran out and return their claims to the queue; how many there were."""
    with unit_of_work():
        released = len(queue.sweep_stale_claims(clear=True))
    if released:
        log.info("released %d stale claim(s)", released)
    return released


@tasks.job("review.enqueue")
def enqueue_submitted() -> int:
    """Give newly submitted work of every organisation its review tasks; how many submissions."""
    total = 0
    for org_id in db.session.scalars(select(Organisation.id)).all():
        with unit_of_work():
            total += queue.enqueue_submitted(org_id)
    return total
