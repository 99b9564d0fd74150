"""The review queue's periodic jobs (``TASK_SCHEDULE``): release stale claims, queue new submissions, act on
due dates (reminders and breaches).

Both are safe to run twice at once (a retried job, two schedulers): ``sweep_stale_claims`` takes each notice
and release with a conditional UPDATE, and ``enqueue_submitted`` skips submissions another run holds
(``SKIP LOCKED`` on PostgreSQL; SQLite has one writer at a time); ``sweep_due_dates`` takes each reminder and
breach with a conditional UPDATE too.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from assessors import queue, sla
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


@tasks.job("review.sla")
def sweep_due_dates() -> dict[str, int]:
    """Remind claim holders of work nearing its due date and act on breaches; the counts of each."""
    with unit_of_work():
        result = sla.sweep()
    if result.reminded or result.released or result.escalated:
        log.info("due dates: %s", result)
    return {"reminded": result.reminded, "released": result.released, "escalated": result.escalated}
