"""The review queue and its claims.

The first time the queue of an organisation is read, submitted work becomes ``in_review`` with one review task,
or two independent ones when it is double scored. An assessor claims the oldest task they may take and gets a
lease; an expired lease makes the task claimable again (checked in the claim query, so nothing has to run for
it). ``sweep_stale_claims`` tells assessors whose lease ran out and can clear those claims.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import exists, func, select, update

from assessors import sla
from assessors.access import _micro_credential
from assessors.conflicts import AssessorConflicts
from assessors.models import (
    OPEN_TASK,
    CalibrationAnchor,
    CalibrationAttempt,
    Qualification,
    ReviewTask,
    TaskKind,
    TaskState,
)
from assessors.settings import _double_scored, _settings_map, settings_for
from core import audit, clock
from core.authz import authorize, has_role
from core.db import db
from core.errors import Conflict, Forbidden, NotFound
from core.members import unit_of
from core.models import Organisation, Role, User
from credentials.authoring import offerings
from credentials.portfolios.models import TO_QUEUE, Submission, SubmissionState


def _new_task(
    submission: Submission,
    kind: TaskKind,
    slot: int = 1,
    queued_at: datetime | None = None,
    *,
    due: tuple[datetime, datetime] | None = None,
) -> ReviewTask:
    """A task on the queue; ``due`` is its (due, remind) times, else counted afresh from ``queued_at``."""
    earner = db.session.get(User, submission.earner_id)
    queued_at = queued_at or submission.submitted_at or clock.now()
    if due is None:
        settings = settings_for(submission.organisation_id, submission.micro_credential_id)
        due = sla.calendar_for(submission.organisation_id)(queued_at, settings)
    unit_id = unit_of(earner, submission.organisation_id) if earner else None
    task = ReviewTask(
        submission_id=submission.id,
        organisation_id=submission.organisation_id,
        micro_credential_id=submission.micro_credential_id,
        version_id=submission.version_id,
        earner_id=submission.earner_id,
        earner_unit=earner.unit if earner else None,
        earner_unit_id=unit_id,
        earner_unit_parent_id=db.session.scalar(select(Organisation.parent_id).where(Organisation.id == unit_id))
        if unit_id
        else None,
        kind=kind.value,
        slot=slot,
        queued_at=queued_at,
        due_at=due[0],
        remind_at=due[1],
    )
    db.session.add(task)
    return task


def enqueue_submitted(organisation_id: uuid.UUID) -> int:
    """Give each newly submitted submission of the organisation its review task(s); returns how many.

    The earner side knows nothing of review (domains import one way), so new submissions are picked up
    here, when the queue is read. ``SKIP LOCKED`` lets two readers share the work without waiting. The
    submission stays ``submitted`` (its earner may still withdraw it) until an assessor claims it.
    """
    stmt = (
        select(Submission)
        .where(Submission.organisation_id == organisation_id, TO_QUEUE)  # literal: the partial index serves it
        .order_by(Submission.submitted_at)
        .limit(500)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    submissions = db.session.scalars(stmt).all()
    if not submissions:
        return 0
    settings_of = _settings_map(organisation_id)
    dated = sla.calendar_for(organisation_id)
    due_at: dict[uuid.UUID, datetime] = {}
    for submission in submissions:
        settings = settings_of(submission.micro_credential_id)
        double = _double_scored(submission, settings)  # before adding its own task, which autoflush would count
        due = dated(submission.submitted_at or clock.now(), settings)
        due_at[submission.id] = due[0]
        _new_task(submission, TaskKind.REVIEW, 1, due=due)
        if double:
            _new_task(submission, TaskKind.REVIEW, 2, due=due)
        db.session.flush()
    if submissions:
        # A plain UPDATE: queuing is not a change the earner made, so their ETag (lock_version) stays valid.
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_([s.id for s in submissions]))
            .values(queued_at=clock.now(), due_at=sa.case(due_at, value=Submission.id))
            .execution_options(synchronize_session="fetch")
        )
    return len(submissions)


def cancel_queued(submission: Submission) -> None:
    """Take a withdrawn submission's unclaimed tasks off the queue (registered with the earner side)."""
    db.session.execute(
        update(ReviewTask)
        .where(ReviewTask.submission_id == submission.id, OPEN_TASK)
        .values(state=TaskState.CANCELLED.value)
        .execution_options(synchronize_session="fetch")
    )


@dataclass
class QueueItem:
    task: ReviewTask
    reference: str
    age_hours: float
    turnaround_hours: int
    claimed: bool
    overdue: bool
    kind: str = "award"  # the submission's: "renewal" is scored against the renewal rubric

    @property
    def due_at(self) -> datetime | None:
        return self.task.due_at


@dataclass
class Queue:
    items: list[QueueItem]
    total: int
    open: int
    claimed: int
    overdue: int
    oldest_age_hours: float | None


def _claimable_credentials(
    actor: User, organisation_id: uuid.UUID, settings: Callable[[uuid.UUID | None], dict[str, Any]]
) -> dict[uuid.UUID, bool]:
    """The actor's qualified micro-credentials in the organisation (→ is lead) where calibration is current.

    Three small queries whatever the number of credentials: claim-next runs this on every call.
    """
    qualifications = db.session.execute(
        select(Qualification.micro_credential_id, Qualification.is_lead).where(
            Qualification.organisation_id == organisation_id, Qualification.user_id == actor.id
        )
    ).all()
    if not qualifications:
        return {}
    ids = [mc for mc, _ in qualifications]
    anchored = set(
        db.session.scalars(
            select(CalibrationAnchor.micro_credential_id)
            .where(CalibrationAnchor.micro_credential_id.in_(ids))
            .distinct()
        )
    )
    last_passed: dict[uuid.UUID, datetime] = {}
    if anchored:
        last_passed = {
            mc: when
            for mc, when in db.session.execute(
                select(CalibrationAttempt.micro_credential_id, func.max(CalibrationAttempt.completed_at))
                .where(
                    CalibrationAttempt.user_id == actor.id,
                    CalibrationAttempt.passed.is_(True),
                    CalibrationAttempt.micro_credential_id.in_(anchored),
                )
                .group_by(CalibrationAttempt.micro_credential_id)
            )
        }
    now = clock.now()
    claimable = {}
    for mc, is_lead in qualifications:
        if mc in anchored:
            last = last_passed.get(mc)
            days = settings(mc)["recalibration_days"]
            if last is None or (days and last < now - timedelta(days=days)):
                continue
        claimable[mc] = is_lead
    return claimable


def _overdue(now: datetime, queued_before: datetime) -> sa.ColumnElement[bool]:
    """Past its due date (tasks queued before due dates existed: older than the turnaround target)."""
    return sa.or_(ReviewTask.due_at < now, sa.and_(ReviewTask.due_at.is_(None), ReviewTask.queued_at < queued_before))


def list_queue(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    micro_credential_id: uuid.UUID | None = None,
    page: int = 1,
    page_size: int = 50,
) -> Queue:
    """Open tasks, oldest first, with their age against the turnaround target (assessors and org admins)."""
    if not (has_role(actor, organisation_id, Role.ORG_ADMIN) or has_role(actor, organisation_id, Role.ASSESSOR)):
        authorize(actor, "review.assess", organisation_id)
    enqueue_submitted(organisation_id)
    now = clock.now()
    where = [ReviewTask.organisation_id == organisation_id, OPEN_TASK]
    if micro_credential_id is not None:
        # Check the credential is the organisation's once, then filter on it alone (adopted: and the organisation):
        # given both columns SQLite walks the organisation's index and visits every open row to test the credential.
        if not offerings.reviews(organisation_id, _micro_credential(micro_credential_id).id):
            raise NotFound("No such micro-credential in this organisation.")
        where = [ReviewTask.micro_credential_id == micro_credential_id, OPEN_TASK]
        if offerings.ever_adopted(micro_credential_id):
            where.append(ReviewTask.organisation_id == organisation_id)
    live = ReviewTask.lease_expires_at > now  # open tasks have a lease exactly when claimed
    settings = _settings_map(organisation_id)
    overdue_before = now - timedelta(hours=settings(micro_credential_id)["turnaround_hours"])
    counts = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(sa.case((live, 1), else_=0)), 0),
            func.min(ReviewTask.queued_at),
            func.coalesce(func.sum(sa.case((_overdue(now, overdue_before), 1), else_=0)), 0),
        ).where(*where)
    ).one()
    rows = db.session.execute(
        select(ReviewTask, Submission.reference, Submission.kind)
        .join(Submission, Submission.id == ReviewTask.submission_id)
        .where(*where)
        .order_by(ReviewTask.queued_at, ReviewTask.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    turnaround: dict[uuid.UUID, int] = {}
    items = []
    for task, reference, kind in rows:
        if task.micro_credential_id not in turnaround:
            turnaround[task.micro_credential_id] = settings(task.micro_credential_id)["turnaround_hours"]
        items.append(
            QueueItem(
                task=task,
                reference=reference,
                kind=kind,
                age_hours=round((now - task.queued_at).total_seconds() / 3600, 1),
                turnaround_hours=turnaround[task.micro_credential_id],
                claimed=task.lease_live(now),
                overdue=task.due_at < now
                if task.due_at is not None
                else (now - task.queued_at) > timedelta(hours=turnaround[task.micro_credential_id]),
            )
        )
    oldest = counts[2]
    return Queue(
        items=items,
        total=counts[0],
        claimed=int(counts[1]),
        open=counts[0] - int(counts[1]),
        overdue=int(counts[3]),
        oldest_age_hours=round((now - oldest).total_seconds() / 3600, 1) if oldest else None,
    )


def _claim_filter(
    actor: User, organisation_id: uuid.UUID, credentials: dict[uuid.UUID, bool], now: datetime
) -> list[Any]:
    """Who may take which task: qualified and calibrated, never their own work, never a submission they have
    already reviewed (double scoring and appeals need a different assessor), adjudication only for leads.
    Conflicts of interest (declared, same unit, same district) are added by the caller."""
    lead_ids = [mc for mc, lead in credentials.items() if lead]
    other, only = sa.orm.aliased(ReviewTask), next(iter(credentials))
    return [
        # The organisation (though implied by the credentials) lets PostgreSQL walk the partial
        # (organisation, queued_at) index in order and stop at the first free row, checking the "already
        # worked on it" rule per row; without it, it hashes every task the assessor ever held (300 ms vs 0.3 ms).
        # With a single credential its own partial index gives the order (plus the organisation once it was
        # adopted: then its owner's and its adopters' queues all hold its tasks).
        sa.and_(ReviewTask.organisation_id == organisation_id, ReviewTask.micro_credential_id.in_(list(credentials)))
        if len(credentials) > 1 or offerings.ever_adopted(only)
        else ReviewTask.micro_credential_id == only,
        OPEN_TASK,
        sa.or_(ReviewTask.lease_expires_at.is_(None), ReviewTask.lease_expires_at <= now),
        ReviewTask.earner_id != actor.id,
        sa.or_(ReviewTask.kind != TaskKind.ADJUDICATION.value, ReviewTask.micro_credential_id.in_(lead_ids)),
        ~exists().where(other.submission_id == ReviewTask.submission_id, other.claimed_by_id == actor.id),
    ]


def _claimable_where(
    actor: User, organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None, now: datetime
) -> list[Any] | None:
    """The conditions on the tasks ``actor`` may claim now (None when they may claim none)."""
    settings = _settings_map(organisation_id)
    credentials = _claimable_credentials(actor, organisation_id, settings)
    if micro_credential_id is not None:
        credentials = {k: v for k, v in credentials.items() if k == micro_credential_id}
    if not credentials:
        return None
    where = _claim_filter(actor, organisation_id, credentials, now)
    where.extend(AssessorConflicts.of(actor, organisation_id).where(list(credentials), settings))
    return where


def count_claimable(*, actor: User, organisation_id: uuid.UUID) -> int:
    """How many queued submissions ``actor`` could claim a task of now (the same rules as ``claim_next``; a
    double-scored submission has two tasks, of which one assessor takes only one)."""
    authorize(actor, "review.assess", organisation_id)
    enqueue_submitted(organisation_id)
    where = _claimable_where(actor, organisation_id, None, clock.now())
    if where is None:
        return 0
    return db.session.scalar(select(func.count(sa.distinct(ReviewTask.submission_id))).where(*where)) or 0


def claim_next(
    *, actor: User, organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None = None
) -> ReviewTask | None:
    """Give the actor the oldest task they may take, with a lease; None when there is none.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so concurrent claimers each lock a different row without waiting.
    SQLite has no row locks: a conditional UPDATE that only succeeds while the claim is still free (rowcount
    1), retried with the next candidate when another claimer won the race.
    """
    authorize(actor, "review.assess", organisation_id)
    enqueue_submitted(organisation_id)
    now = clock.now()
    where = _claimable_where(actor, organisation_id, micro_credential_id, now)
    if where is None:
        return None
    lease = timedelta(hours=current_app.config["REVIEW_LEASE_HOURS"])
    # Claim and queue listings order by queued_at only, so the partial (credential, queued_at) index serves it.
    candidates = select(ReviewTask.id).where(*where).order_by(ReviewTask.queued_at)
    if db.session.get_bind().dialect.name == "postgresql":
        task_id = db.session.scalar(candidates.limit(1).with_for_update(skip_locked=True))
        if task_id is None:
            return None
        claimed = _take(task_id, actor, now, lease, conditional=False)
    else:
        claimed = None
        for task_id in db.session.scalars(candidates.limit(20)).all():
            claimed = _take(task_id, actor, now, lease, conditional=True)
            if claimed is not None:
                break
    if claimed is None:
        return None
    submission = db.session.get(Submission, claimed.submission_id)
    if submission is not None and submission.state == SubmissionState.SUBMITTED.value:
        # Review starts with the first claim; from here on the earner can no longer withdraw. (A withdrawal
        # racing this claim bumps lock_version first, and this flush then fails as a 409.)
        submission.state = SubmissionState.IN_REVIEW.value
        db.session.flush()
    if submission is None or submission.state != SubmissionState.IN_REVIEW.value:
        # Withdrawn (or otherwise taken out of review) since it was queued: drop the task, look again.
        claimed.state = TaskState.CANCELLED.value
        claimed.claimed_by_id = None
        db.session.flush()
        return claim_next(actor=actor, organisation_id=organisation_id, micro_credential_id=micro_credential_id)
    audit.record(
        actor=actor,
        action="review.claimed",
        obj=claimed,
        organisation_id=organisation_id,
        after={"lease_expires_at": claimed.lease_expires_at},
    )
    return claimed


def _take(task_id: uuid.UUID, actor: User, now: datetime, lease: timedelta, *, conditional: bool) -> ReviewTask | None:
    stmt = update(ReviewTask).where(ReviewTask.id == task_id)
    if conditional:
        stmt = stmt.where(
            OPEN_TASK,
            sa.or_(ReviewTask.lease_expires_at.is_(None), ReviewTask.lease_expires_at <= now),
        )
    result = db.session.execute(
        stmt.values(
            claimed_by_id=actor.id, claimed_at=now, lease_expires_at=now + lease, stale_notified_at=None
        ).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    task = db.session.get(ReviewTask, task_id, populate_existing=True)
    return task


def _my_task(actor: User, task_id: uuid.UUID, *, allow_done: bool = False) -> ReviewTask:
    """The task, if the actor holds a live claim on it (precise errors otherwise)."""
    task = db.session.get(ReviewTask, task_id)
    if task is None:
        raise NotFound("No such review task.")
    if not actor.roles_in(task.organisation_id):  # another organisation's task answers as an unknown id does
        raise NotFound("No such review task.")
    if Role.ASSESSOR not in actor.roles_in(task.organisation_id):
        raise Forbidden("You do not assess for this organisation.", action="review.assess")
    if task.earner_id == actor.id:
        raise Forbidden("You cannot review your own submission.", action="review.assess")
    if task.claimed_by_id != actor.id:
        raise Forbidden("You have not claimed this submission; claim it from the queue first.", action="review.assess")
    if task.state == TaskState.DONE.value and allow_done:
        return task
    if task.state != TaskState.OPEN.value:
        raise Conflict("This review is already submitted.")
    if task.lease_expires_at is None or task.lease_expires_at <= clock.now():
        raise Conflict("Your claim on this submission expired; it went back to the queue. Claim again to continue.")
    return task


def release(*, actor: User, task_id: uuid.UUID) -> ReviewTask:
    """Give a claimed task back to the queue (a saved draft stays, for whoever takes it next to ignore)."""
    task = _my_task(actor, task_id)
    task.claimed_by_id = None
    task.claimed_at = None
    task.lease_expires_at = None
    db.session.flush()
    audit.record(actor=actor, action="review.released", obj=task, organisation_id=task.organisation_id)
    return task


def my_claims(*, actor: User) -> list[ReviewTask]:
    now = clock.now()
    return list(
        db.session.scalars(
            select(ReviewTask)
            .where(
                ReviewTask.claimed_by_id == actor.id,
                OPEN_TASK,
                ReviewTask.lease_expires_at > now,
            )
            .order_by(ReviewTask.claimed_at)
        )
    )


def sweep_stale_claims(*, clear: bool = False) -> list[ReviewTask]:
    """Claims whose lease ran out: tell each assessor once; with ``clear``, drop the claim too.

    Expired claims are already claimable by others (the claim query checks the lease); this only tidies
    up and tells people. Safe to run twice at once (the scheduled job, a retried job): the notice is taken
    with one ``UPDATE … WHERE stale_notified_at IS NULL`` and a claim is dropped only while it is still the
    expired one, never after someone claimed the task again.
    """
    now = clock.now()
    tasks = list(
        db.session.scalars(
            select(ReviewTask).where(
                OPEN_TASK,
                ReviewTask.claimed_by_id.is_not(None),
                ReviewTask.lease_expires_at <= now,
            )
        )
    )
    for task in tasks:
        assessor = db.session.get(User, task.claimed_by_id)
        still_this_claim = (
            ReviewTask.id == task.id,
            ReviewTask.claimed_by_id == task.claimed_by_id,
            ReviewTask.lease_expires_at <= now,
        )
        notify = (
            task.stale_notified_at is None
            and assessor is not None
            and _update_once(*still_this_claim, ReviewTask.stale_notified_at.is_(None), stale_notified_at=now)
        )
        if notify:
            reference = db.session.scalar(select(Submission.reference).where(Submission.id == task.submission_id))
            sla.tell_claim_expired(assessor, reference)
        if clear:
            _update_once(*still_this_claim, claimed_by_id=None, claimed_at=None, lease_expires_at=None)
        db.session.refresh(task)
    return tasks


def _update_once(*where: sa.ColumnElement[bool], **values: Any) -> bool:
    """One conditional UPDATE of a review task; True when it changed the row (no one got there first)."""
    result = db.session.execute(
        update(ReviewTask).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
