"""Review rules: qualifications, programme settings, the queue and its claims, blind scoring, decisions,
double scoring and adjudication, calibration, appeals and the stale-claim sweep.

How a submission moves: the earner submits (state ``submitted``); the first time the queue of its
organisation is read, it becomes ``in_review`` with one review task, or two independent ones when it is
double scored. An assessor claims the oldest task they may take and gets a lease; an expired lease makes the
task claimable again (checked in the claim query, so nothing has to run for it). Submitted reviews decide:
one review is final; two that agree are final; two that disagree open an adjudication task for a lead
assessor, whose decision is final. A final decision writes the earner's ``CriterionFeedback``, sets
``passed``/``not_yet``, mails the earner and, when passed, hands the submission to issuance once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import exists, func, select, update

from assessors import issuance
from assessors.models import (
    DEFAULT_SETTINGS,
    OPEN_TASK,
    Appeal,
    CalibrationAnchor,
    CalibrationAttempt,
    ProgrammeSettings,
    Qualification,
    Review,
    ReviewScore,
    ReviewState,
    ReviewTask,
    TaskKind,
    TaskState,
)
from core import audit, clock, mail, storage
from core.authz import authorize, has_role, rule
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.models import Organisation, Role, User
from credentials.authoring.models import CredentialVersion, MicroCredential
from credentials.portfolios.models import TO_QUEUE, CriterionFeedback, EvidenceFile, Submission, SubmissionState

DECISION_PASSED = SubmissionState.PASSED.value
DECISION_NOT_YET = SubmissionState.NOT_YET.value


# --- authorisation -----------------------------------------------------------------------------------


@rule("review.manage", description="manage assessors and review settings of this organisation")
def _may_manage(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("review.report", description="read review reports of this organisation")
def _may_report(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("review.assess", description="assess for this organisation")
def _may_assess(actor: User | None, organisation: Any) -> bool:
    return bool(actor) and bool(actor.roles_in(_org_id(organisation)) & {Role.ASSESSOR})  # type: ignore[union-attr]


@rule("review.anchor", description="mark calibration anchors for this micro-credential")
def _may_anchor(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.AUTHOR, Role.ORG_ADMIN)


def _org_id(target: Any) -> uuid.UUID:
    return target if isinstance(target, uuid.UUID) else getattr(target, "organisation_id", None) or target.id


# --- qualifications and settings ---------------------------------------------------------------------


def _micro_credential(micro_credential_id: uuid.UUID) -> MicroCredential:
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is None:
        raise NotFound("No such micro-credential.")
    return micro_credential


def list_qualifications(*, actor: User, organisation_id: uuid.UUID) -> list[Qualification]:
    authorize(actor, "review.manage", organisation_id)
    return list(
        db.session.scalars(
            select(Qualification)
            .where(Qualification.organisation_id == organisation_id)
            .order_by(Qualification.micro_credential_id, Qualification.created_at)
        )
    )


def qualify(*, actor: User, micro_credential_id: uuid.UUID, user_id: uuid.UUID, is_lead: bool = False) -> Qualification:
    """Let an assessor of the organisation review a micro-credential (a lead also adjudicates)."""
    micro_credential = _micro_credential(micro_credential_id)
    authorize(actor, "review.manage", micro_credential)
    user = db.session.get(User, user_id)
    if user is None or Role.ASSESSOR not in user.roles_in(micro_credential.organisation_id):
        raise ValidationFailed.field("user_id", "This person is not an assessor of the organisation.")
    qualification = db.session.scalar(
        select(Qualification).where(
            Qualification.micro_credential_id == micro_credential_id, Qualification.user_id == user_id
        )
    )
    if qualification is None:
        qualification = Qualification(
            organisation_id=micro_credential.organisation_id,
            micro_credential_id=micro_credential_id,
            user_id=user_id,
            granted_by_id=actor.id,
        )
        db.session.add(qualification)
    qualification.is_lead = is_lead
    db.session.flush()
    audit.record(
        actor=actor,
        action="assessor.qualified",
        obj=qualification,
        organisation_id=micro_credential.organisation_id,
        after={"user_id": user_id, "micro_credential_id": micro_credential_id, "is_lead": is_lead},
    )
    return qualification


def unqualify(*, actor: User, qualification_id: uuid.UUID) -> None:
    qualification = db.session.get(Qualification, qualification_id)
    if qualification is None:
        raise NotFound("No such qualification.")
    authorize(actor, "review.manage", qualification)
    audit.record(
        actor=actor,
        action="assessor.unqualified",
        obj=qualification,
        organisation_id=qualification.organisation_id,
        before={"user_id": qualification.user_id, "micro_credential_id": qualification.micro_credential_id},
    )
    db.session.delete(qualification)
    db.session.flush()


def _settings_map(organisation_id: uuid.UUID) -> Callable[[uuid.UUID | None], dict[str, Any]]:
    """All of an organisation's settings rows in one query, as a lookup by micro-credential."""
    rows = db.session.scalars(select(ProgrammeSettings).where(ProgrammeSettings.organisation_id == organisation_id))
    base = dict(DEFAULT_SETTINGS)
    own: dict[uuid.UUID, ProgrammeSettings] = {}
    for row in rows:
        if row.micro_credential_id is None:
            base.update({key: getattr(row, key) for key in DEFAULT_SETTINGS})
        else:
            own[row.micro_credential_id] = row

    def lookup(micro_credential_id: uuid.UUID | None) -> dict[str, Any]:
        values = dict(base)
        row = own.get(micro_credential_id) if micro_credential_id is not None else None
        if row is not None:
            values.update({key: getattr(row, key) for key in DEFAULT_SETTINGS})
        return values

    return lookup


def settings_for(organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The effective settings: the credential's own row, else the organisation's, else the defaults."""
    return _settings_map(organisation_id)(micro_credential_id)


def update_settings(
    *, actor: User, organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None = None, changes: dict[str, Any]
) -> dict[str, Any]:
    """Set the programme settings of an organisation or of one of its micro-credentials."""
    authorize(actor, "review.manage", organisation_id)
    if micro_credential_id is not None and _micro_credential(micro_credential_id).organisation_id != organisation_id:
        raise NotFound("No such micro-credential in this organisation.")
    row = db.session.scalar(
        select(ProgrammeSettings).where(
            ProgrammeSettings.organisation_id == organisation_id,
            ProgrammeSettings.micro_credential_id.is_(None)
            if micro_credential_id is None
            else ProgrammeSettings.micro_credential_id == micro_credential_id,
        )
    )
    before = settings_for(organisation_id, micro_credential_id)
    if row is None:
        row = ProgrammeSettings(organisation_id=organisation_id, micro_credential_id=micro_credential_id, **before)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    after = settings_for(organisation_id, micro_credential_id)
    audit.record(
        actor=actor,
        action="review.settings_updated",
        obj=row,
        organisation_id=organisation_id,
        before=before,
        after=after,
    )
    return after


# --- the queue -------------------------------------------------------------------------------------


def _double_scored(submission: Submission, settings: dict[str, Any]) -> bool:
    """All of the first N submissions of a version, then a stable pseudo-random share of the rest."""
    earlier = db.session.scalar(
        select(func.count())
        .select_from(ReviewTask)
        .where(
            ReviewTask.version_id == submission.version_id,
            ReviewTask.kind == TaskKind.REVIEW.value,
            ReviewTask.slot == 1,
        )
    )
    if (earlier or 0) < settings["double_first_n"]:
        return True
    fraction = int(hashlib.sha256(submission.id.bytes).hexdigest()[:8], 16) / 0xFFFFFFFF
    return fraction < settings["double_share"]


def _new_task(submission: Submission, kind: TaskKind, slot: int = 1, queued_at: datetime | None = None) -> ReviewTask:
    earner = db.session.get(User, submission.earner_id)
    task = ReviewTask(
        submission_id=submission.id,
        organisation_id=submission.organisation_id,
        micro_credential_id=submission.micro_credential_id,
        version_id=submission.version_id,
        earner_id=submission.earner_id,
        earner_unit=earner.unit if earner else None,
        kind=kind.value,
        slot=slot,
        queued_at=queued_at or submission.submitted_at or clock.now(),
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
    for submission in submissions:
        settings = settings_for(submission.organisation_id, submission.micro_credential_id)
        double = _double_scored(submission, settings)  # before adding its own task, which autoflush would count
        _new_task(submission, TaskKind.REVIEW, 1)
        if double:
            _new_task(submission, TaskKind.REVIEW, 2)
        db.session.flush()
    if submissions:
        # A plain UPDATE: queuing is not a change the earner made, so their ETag (lock_version) stays valid.
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_([s.id for s in submissions]))
            .values(queued_at=clock.now())
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

    @property
    def overdue(self) -> bool:
        return self.age_hours > self.turnaround_hours


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
        # Check the credential is the organisation's once, then filter on it alone: given both columns SQLite
        # walks the organisation's index and visits every open row to test the credential.
        if _micro_credential(micro_credential_id).organisation_id != organisation_id:
            raise NotFound("No such micro-credential in this organisation.")
        where = [ReviewTask.micro_credential_id == micro_credential_id, OPEN_TASK]
    live = ReviewTask.lease_expires_at > now  # open tasks have a lease exactly when claimed
    settings = _settings_map(organisation_id)
    overdue_before = now - timedelta(hours=settings(micro_credential_id)["turnaround_hours"])
    counts = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(sa.case((live, 1), else_=0)), 0),
            func.min(ReviewTask.queued_at),
            func.coalesce(func.sum(sa.case((ReviewTask.queued_at < overdue_before, 1), else_=0)), 0),
        ).where(*where)
    ).one()
    rows = db.session.execute(
        select(ReviewTask, Submission.reference)
        .join(Submission, Submission.id == ReviewTask.submission_id)
        .where(*where)
        .order_by(ReviewTask.queued_at, ReviewTask.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    turnaround: dict[uuid.UUID, int] = {}
    items = []
    for task, reference in rows:
        if task.micro_credential_id not in turnaround:
            turnaround[task.micro_credential_id] = settings(task.micro_credential_id)["turnaround_hours"]
        items.append(
            QueueItem(
                task=task,
                reference=reference,
                age_hours=round((now - task.queued_at).total_seconds() / 3600, 1),
                turnaround_hours=turnaround[task.micro_credential_id],
                claimed=task.lease_live(now),
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
    already reviewed (double scoring and appeals need a different assessor), adjudication only for leads,
    and not their own unit's work when the organisation says so (checked per credential by the caller)."""
    lead_ids = [mc for mc, lead in credentials.items() if lead]
    other = sa.orm.aliased(ReviewTask)
    return [
        # The organisation (though implied by the credentials) lets PostgreSQL walk the partial
        # (organisation, queued_at) index in order and stop at the first free row, checking the "already
        # worked on it" rule per row; without it, it hashes every task the assessor ever held (300 ms vs 0.3 ms).
        # With a single credential its own partial index gives the order (the credential is the organisation's:
        # qualifications are per organisation).
        ReviewTask.micro_credential_id == next(iter(credentials))
        if len(credentials) == 1
        else sa.and_(
            ReviewTask.organisation_id == organisation_id, ReviewTask.micro_credential_id.in_(list(credentials))
        ),
        OPEN_TASK,
        sa.or_(ReviewTask.lease_expires_at.is_(None), ReviewTask.lease_expires_at <= now),
        ReviewTask.earner_id != actor.id,
        sa.or_(ReviewTask.kind != TaskKind.ADJUDICATION.value, ReviewTask.micro_credential_id.in_(lead_ids)),
        ~exists().where(other.submission_id == ReviewTask.submission_id, other.claimed_by_id == actor.id),
    ]


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
    settings = _settings_map(organisation_id)
    credentials = _claimable_credentials(actor, organisation_id, settings)
    if micro_credential_id is not None:
        credentials = {k: v for k, v in credentials.items() if k == micro_credential_id}
    if not credentials:
        return None
    now = clock.now()
    where = _claim_filter(actor, organisation_id, credentials, now)
    unit_conflicts = [mc for mc in credentials if actor.unit and settings(mc)["conflict_by_unit"]]
    if unit_conflicts:
        where.append(
            sa.or_(
                ReviewTask.micro_credential_id.not_in(unit_conflicts),
                ReviewTask.earner_unit.is_(None),
                ReviewTask.earner_unit != actor.unit,
            )
        )
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


# --- the blind view ----------------------------------------------------------------------------------


def blind_submission(submission: Submission) -> dict[str, Any]:
    """What an assessor sees of a submission: its reference, the version's rubric, answers and file metadata.

    No earner name, email, id or uploaded file name; files are "file 1 (pdf, 2.1 MB)".
    """
    version = db.session.get(CredentialVersion, submission.version_id)
    assert version is not None
    files = []
    for number, evidence in enumerate(submission.files, start=1):
        files.append(
            {
                "id": evidence.id,
                "requirement_key": evidence.requirement_key,
                "label": f"file {number} ({_short_type(evidence.media_type)}, {_size(evidence.size)})",
                "media_type": evidence.media_type,
                "size": evidence.size,
                "sha256": evidence.sha256,
            }
        )
    return {
        "reference": submission.reference,
        "attempt": submission.attempt,
        "submitted_at": submission.submitted_at,
        "version": {"id": version.id, "title": version.title, "number": version.number},
        "requirements": [
            {"key": r.key, "title": r.title, "prompt": r.prompt, "evidence_kind": r.evidence_kind}
            for r in version.requirements
        ],
        "answers": [{"requirement_key": a.requirement_key, "text": a.text, "url": a.url} for a in submission.answers],
        "files": files,
        "rubric": rubric_of(version),
        "passing_level": version.passing_level,
        "passing_points": version.passing_points,
    }


def rubric_of(version: CredentialVersion) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "requirement_keys": c.requirement_keys,
            "levels": [
                {"position": lv.position, "name": lv.name, "descriptor": lv.descriptor, "points": lv.points}
                for lv in c.levels
            ],
        }
        for c in version.criteria
    ]


def _short_type(media_type: str) -> str:
    from credentials.authoring.models import FILE_TYPES

    for name, types in FILE_TYPES.items():
        if media_type in types:
            return name
    return media_type.split("/")[-1][:10]


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def evidence_download(actor: User, evidence_file: EvidenceFile) -> Any:
    """Send an evidence file to the assessor holding a live claim on its submission, under a blind name.

    The earner's own file name can identify them, so the download is named after the submission's
    reference and the file's number ("S1234567-file-2.pdf"), as in the blind view.
    """
    task = db.session.scalar(
        select(ReviewTask).where(
            ReviewTask.submission_id == evidence_file.submission_id,
            ReviewTask.claimed_by_id == actor.id,
            OPEN_TASK,
            ReviewTask.lease_expires_at > clock.now(),
        )
    )
    if task is None:
        raise Forbidden("Only the assessor currently assigned may open this evidence.", action="review.assess")
    submission = evidence_file.submission
    number = next(n for n, f in enumerate(submission.files, start=1) if f.id == evidence_file.id)
    name = f"{submission.reference}-file-{number}.{_short_type(evidence_file.media_type)}"
    return storage.download(evidence_file.sha256, filename=name, media_type=evidence_file.media_type)


def is_current_assessor(actor: User | None, submission_id: uuid.UUID) -> bool:
    """For the portfolio domain's authorisation: does ``actor`` hold a live claim on the submission?"""
    if actor is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    ReviewTask.submission_id == submission_id,
                    ReviewTask.claimed_by_id == actor.id,
                    OPEN_TASK,
                    ReviewTask.lease_expires_at > clock.now(),
                )
            )
        )
    )


def task_view(*, actor: User, task_id: uuid.UUID) -> dict[str, Any]:
    """The scoring screen: the blind submission, the actor's draft, and for adjudication both reviews."""
    task = _my_task(actor, task_id, allow_done=True)
    submission = db.session.get(Submission, task.submission_id)
    assert submission is not None
    review = _review_of(task)
    others: list[Review] = []
    if task.kind == TaskKind.ADJUDICATION.value:
        others = _submitted_reviews(task.submission_id, kinds=(TaskKind.REVIEW.value,))
    elif task.kind == TaskKind.APPEAL.value:
        appeal = db.session.scalar(select(Appeal).where(Appeal.submission_id == submission.id))
        return {
            "task": task,
            "submission": blind_submission(submission),
            "review": review,
            "others": [],
            "appeal_reason": appeal.reason if appeal else None,
        }
    return {
        "task": task,
        "submission": blind_submission(submission),
        "review": review,
        "others": others,
        "appeal_reason": None,
    }


def _review_of(task: ReviewTask) -> Review | None:
    return db.session.scalar(select(Review).where(Review.task_id == task.id))


def _submitted_reviews(submission_id: uuid.UUID, kinds: Sequence[str]) -> list[Review]:
    return list(
        db.session.scalars(
            select(Review)
            .join(ReviewTask, ReviewTask.id == Review.task_id)
            .where(
                Review.submission_id == submission_id,
                Review.state == ReviewState.SUBMITTED.value,
                Review.kind.in_(kinds),
            )
            .order_by(ReviewTask.slot, Review.submitted_at)
        )
    )


# --- scoring -----------------------------------------------------------------------------------------


def _validate_scores(version: CredentialVersion, scores: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Field errors for criteria or levels that are not in the rubric (JSON pointers into ``scores``)."""
    criteria = {c.key: c for c in version.criteria}
    errors = []
    seen: set[str] = set()
    for index, score in enumerate(scores):
        criterion = criteria.get(score["criterion_key"])
        if criterion is None:
            errors.append(field_error(f"/scores/{index}/criterion_key", "No such criterion in this rubric."))
            continue
        if score["criterion_key"] in seen:
            errors.append(field_error(f"/scores/{index}/criterion_key", "This criterion is scored twice."))
        seen.add(score["criterion_key"])
        if score.get("level") is not None and score["level"] not in {lv.position for lv in criterion.levels}:
            errors.append(field_error(f"/scores/{index}/level", f"No level {score['level']} in this criterion."))
    return errors


def save_scores(*, actor: User, task_id: uuid.UUID, scores: list[dict[str, Any]], summary: str | None = None) -> Review:
    """Save some or all scores as a draft (partial saves are fine; submit checks completeness)."""
    task = _my_task(actor, task_id)
    version = db.session.get(CredentialVersion, task.version_id)
    assert version is not None
    errors = _validate_scores(version, scores)
    if errors:
        raise ValidationFailed("Some scores are not in this rubric.", errors=errors)
    review = _review_of(task)
    if review is None:
        review = Review(
            task_id=task.id,
            submission_id=task.submission_id,
            micro_credential_id=task.micro_credential_id,
            assessor_id=actor.id,
            kind=task.kind,
        )
        db.session.add(review)
        db.session.flush()
    elif review.assessor_id != actor.id:
        # Someone else's draft from an expired or released claim: start afresh, theirs is not ours to see.
        review.assessor_id = actor.id
        review.scores.clear()
        review.summary = ""
        db.session.flush()
    by_key = {s.criterion_key: s for s in review.scores}
    for score in scores:
        existing = by_key.get(score["criterion_key"])
        if score.get("level") is None:
            if existing is not None:
                review.scores.remove(existing)
            continue
        if existing is None:
            existing = ReviewScore(criterion_key=score["criterion_key"], level_position=score["level"])
            review.scores.append(existing)
        existing.level_position = score["level"]
        if "feedback" in score:
            existing.feedback = score["feedback"] or ""
    if summary is not None:
        review.summary = summary
    db.session.flush()
    return review


def passing_position(version: CredentialVersion, criterion: Any) -> int | None:
    """The position of the criterion's passing level (by name), None when the rule has no level part."""
    if not version.passing_level:
        return None
    for level in criterion.levels:
        if level.name == version.passing_level:
            return int(level.position)
    return None


def decide(version: CredentialVersion, levels: dict[str, int]) -> tuple[str, int]:
    """The decision the passing rule gives for these levels, and the total points."""
    total = 0
    passed = True
    for criterion in version.criteria:
        position = levels[criterion.key]
        level = next(lv for lv in criterion.levels if lv.position == position)
        total += level.points
        needed = passing_position(version, criterion)
        if needed is not None and position < needed:
            passed = False
    if version.passing_points is not None and total < version.passing_points:
        passed = False
    return (DECISION_PASSED if passed else DECISION_NOT_YET), total


def submit_review(
    *, actor: User, task_id: uuid.UUID, scores: list[dict[str, Any]] | None = None, summary: str | None = None
) -> Review:
    """Submit the review: every criterion scored, feedback on any below passing, a summary. Then decide."""
    task = db.session.get(ReviewTask, task_id)
    if task is not None and task.state == TaskState.DONE.value and task.claimed_by_id == actor.id:
        raise Conflict("This review is already submitted.")
    if scores or summary is not None:
        review = save_scores(actor=actor, task_id=task_id, scores=scores or [], summary=summary)
    else:
        task = _my_task(actor, task_id)
        review = _review_of(task) or save_scores(actor=actor, task_id=task_id, scores=[])
    task = review.task
    version = db.session.get(CredentialVersion, task.version_id)
    assert version is not None
    given = {s.criterion_key: s for s in review.scores}
    missing = []
    for index, criterion in enumerate(version.criteria):
        score = given.get(criterion.key)
        if score is None:
            missing.append(field_error(f"/scores/{index}/level", f"Choose a level for “{criterion.name}”."))
            continue
        needed = passing_position(version, criterion)
        if needed is not None and score.level_position < needed and not score.feedback.strip():
            missing.append(
                field_error(f"/scores/{index}/feedback", f"Give feedback on “{criterion.name}”: it is below passing.")
            )
    if not review.summary.strip():
        missing.append(field_error("/summary", "Write a summary for the earner."))
    if missing:
        raise ValidationFailed(f"The review is incomplete: {len(missing)} thing(s) missing.", errors=missing)
    review.decision, review.total_points = decide(version, {k: s.level_position for k, s in given.items()})
    review.state = ReviewState.SUBMITTED.value
    review.submitted_at = clock.now()
    task.state = TaskState.DONE.value
    task.completed_at = review.submitted_at
    db.session.flush()
    audit.record(
        actor=actor,
        action="review.submitted",
        obj=review,
        organisation_id=task.organisation_id,
        after={"decision": review.decision, "kind": review.kind, "total_points": review.total_points},
    )
    _after_review(task, review, version)
    return review


def _after_review(task: ReviewTask, review: Review, version: CredentialVersion) -> None:
    """Decide what a submitted review means for its submission."""
    if task.kind in (TaskKind.ADJUDICATION.value, TaskKind.APPEAL.value):
        _finalise(task.submission_id, review, version)
        return
    open_reviews = db.session.scalar(
        select(func.count()).where(
            ReviewTask.submission_id == task.submission_id,
            ReviewTask.kind == TaskKind.REVIEW.value,
            OPEN_TASK,
        )
    )
    if open_reviews:
        return  # the other independent review is still to come
    reviews = _submitted_reviews(task.submission_id, kinds=(TaskKind.REVIEW.value,))
    if len({r.decision for r in reviews}) == 1:
        _finalise(task.submission_id, reviews[0], version)
        return
    submission = db.session.get(Submission, task.submission_id)
    assert submission is not None
    _new_task(submission, TaskKind.ADJUDICATION, 1, queued_at=submission.submitted_at)
    db.session.flush()


def _finalise(submission_id: uuid.UUID, review: Review, version: CredentialVersion) -> None:
    """Release the final decision to the earner; hand a pass to issuance exactly once."""
    # Lock the submission row (the mapper's version counter catches a concurrent finaliser on SQLite).
    stmt = select(Submission).where(Submission.id == submission_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    submission = db.session.scalars(stmt.execution_options(populate_existing=True)).one()
    if submission.state not in (SubmissionState.IN_REVIEW.value,):
        raise Conflict("This submission has already been decided.")
    now = clock.now()
    submission.feedback.clear()
    db.session.flush()
    criteria = {c.key: c for c in version.criteria}
    for score in review.scores:
        criterion = criteria[score.criterion_key]
        level = next(lv for lv in criterion.levels if lv.position == score.level_position)
        submission.feedback.append(
            CriterionFeedback(
                criterion_key=score.criterion_key,
                position=criterion.position,
                level_position=level.position,
                level_name=level.name,
                points=level.points,
                feedback=score.feedback,
            )
        )
    before = submission.state
    submission.state = review.decision or DECISION_NOT_YET
    submission.decided_at = now
    submission.feedback_summary = review.summary
    appeal = db.session.scalar(select(Appeal).where(Appeal.submission_id == submission.id))
    if appeal is not None and review.kind == TaskKind.APPEAL.value:
        appeal.outcome = submission.state
        appeal.decided_at = now
    db.session.flush()
    audit.record(
        actor=None,
        action="submission.decided",
        obj=submission,
        organisation_id=submission.organisation_id,
        before={"state": before},
        after={"state": submission.state, "review_id": review.id},
    )
    earner = db.session.get(User, submission.earner_id)
    if earner is not None:
        outcome = "passed" if submission.state == DECISION_PASSED else "not yet passed"
        mail.send(
            to=earner.email,
            subject=f"Your submission {submission.reference}: {outcome}",
            body=f"Hello {earner.name},\n\nYour submission for “{version.title}” has been reviewed: {outcome}.\n"
            f"Read the feedback on each criterion here:\n{current_app.config['BASE_URL']}/portfolio/{submission.id}",
        )
    if submission.state == DECISION_PASSED:
        issuance.hand_off(
            issuance.Award(
                submission_id=submission.id,
                version_id=submission.version_id,
                earner_id=submission.earner_id,
                decided_at=now,
                results=tuple(
                    issuance.CriterionResult(f.criterion_key, f.level_position, f.points) for f in submission.feedback
                ),
            )
        )


# --- appeals -----------------------------------------------------------------------------------------


def appeal(*, actor: User, submission_id: uuid.UUID, reason: str) -> Appeal:
    """The earner appeals a "not yet" once; a different assessor reviews it afresh."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.earner_id != actor.id:
        raise NotFound("No such submission.")
    if submission.state != SubmissionState.NOT_YET.value:
        raise Conflict("Only a “not yet” decision can be appealed.")
    if db.session.scalar(select(exists().where(Appeal.submission_id == submission.id))):
        raise Conflict("This decision has already been appealed; a decision can be appealed once.")
    if not reason.strip():
        raise ValidationFailed.field("/reason", "Say why the decision should be looked at again.")
    record = Appeal(submission_id=submission.id, earner_id=actor.id, reason=reason.strip())
    db.session.add(record)
    submission.state = SubmissionState.IN_REVIEW.value
    _new_task(submission, TaskKind.APPEAL, 1, queued_at=clock.now())
    db.session.flush()
    audit.record(actor=actor, action="submission.appealed", obj=record, organisation_id=submission.organisation_id)
    return record


# --- calibration -------------------------------------------------------------------------------------


def mark_anchor(
    *, actor: User, submission_id: uuid.UUID, agreed_levels: dict[str, int], rationale: str = ""
) -> CalibrationAnchor:
    """Authors make a submission a calibration anchor with the levels they agreed on."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    authorize(actor, "review.anchor", submission)
    version = db.session.get(CredentialVersion, submission.version_id)
    assert version is not None
    scores = [{"criterion_key": k, "level": v} for k, v in agreed_levels.items()]
    errors = [
        field_error(e["field"].replace("/scores/", "/agreed_levels/"), e["detail"])
        for e in _validate_scores(version, scores)
    ]
    missing = [c.key for c in version.criteria if c.key not in agreed_levels]
    errors += [field_error(f"/agreed_levels/{key}", "Give the agreed level.") for key in missing]
    if errors:
        raise ValidationFailed("The agreed levels do not fit the rubric.", errors=errors)
    anchor = db.session.scalar(
        select(CalibrationAnchor).where(
            CalibrationAnchor.micro_credential_id == submission.micro_credential_id,
            CalibrationAnchor.submission_id == submission.id,
        )
    )
    if anchor is None:
        anchor = CalibrationAnchor(
            organisation_id=submission.organisation_id,
            micro_credential_id=submission.micro_credential_id,
            submission_id=submission.id,
            agreed_levels={},
            created_by_id=actor.id,
        )
        db.session.add(anchor)
    anchor.agreed_levels = dict(agreed_levels)
    anchor.rationale = rationale
    db.session.flush()
    audit.record(actor=actor, action="calibration.anchor_marked", obj=anchor, organisation_id=anchor.organisation_id)
    return anchor


def anchors(micro_credential_id: uuid.UUID) -> list[CalibrationAnchor]:
    return list(
        db.session.scalars(
            select(CalibrationAnchor)
            .where(CalibrationAnchor.micro_credential_id == micro_credential_id)
            .order_by(CalibrationAnchor.created_at, CalibrationAnchor.id)
        )
    )


def calibration_status(actor: User, qualification: Qualification) -> dict[str, Any]:
    """Whether the assessor may do live work: no anchors means nothing to calibrate against."""
    settings = settings_for(qualification.organisation_id, qualification.micro_credential_id)
    has_anchors = db.session.scalar(
        select(exists().where(CalibrationAnchor.micro_credential_id == qualification.micro_credential_id))
    )
    last = db.session.scalar(
        select(CalibrationAttempt)
        .where(
            CalibrationAttempt.user_id == actor.id,
            CalibrationAttempt.micro_credential_id == qualification.micro_credential_id,
            CalibrationAttempt.passed.is_(True),
        )
        .order_by(CalibrationAttempt.completed_at.desc())
        .limit(1)
    )
    lapsed = bool(
        last
        and settings["recalibration_days"]
        and last.completed_at < clock.now() - timedelta(days=settings["recalibration_days"])
    )
    current = not has_anchors or (last is not None and not lapsed)
    return {
        "required": bool(has_anchors),
        "current": current,
        "last_passed_at": last.completed_at if last else None,
        "lapsed": lapsed,
    }


def _qualification(actor: User, micro_credential_id: uuid.UUID) -> Qualification:
    qualification = db.session.scalar(
        select(Qualification).where(
            Qualification.micro_credential_id == micro_credential_id, Qualification.user_id == actor.id
        )
    )
    if qualification is None or Role.ASSESSOR not in actor.roles_in(qualification.organisation_id):
        raise Forbidden("You are not qualified to assess this micro-credential.", action="review.assess")
    return qualification


def calibration_set(*, actor: User, micro_credential_id: uuid.UUID) -> dict[str, Any]:
    """The anchors to score, blind (agreed levels withheld), and the actor's calibration status."""
    qualification = _qualification(actor, micro_credential_id)
    items = []
    for anchor in anchors(micro_credential_id):
        items.append({"anchor_id": anchor.id, "submission": blind_submission(anchor.submission)})
    return {
        "micro_credential_id": micro_credential_id,
        "threshold": settings_for(qualification.organisation_id, micro_credential_id)["calibration_threshold"],
        "status": calibration_status(actor, qualification),
        "anchors": items,
    }


def calibrate(*, actor: User, micro_credential_id: uuid.UUID, levels: dict[str, dict[str, int]]) -> CalibrationAttempt:
    """Score the whole calibration set; pass at the exact-agreement threshold; divergences are shown."""
    qualification = _qualification(actor, micro_credential_id)
    anchor_list = anchors(micro_credential_id)
    if not anchor_list:
        raise Conflict("This micro-credential has no calibration set yet.")
    errors = []
    divergences = []
    agreed = total = 0
    for anchor in anchor_list:
        given = levels.get(str(anchor.id))
        if given is None:
            errors.append(field_error(f"/levels/{anchor.id}", "Score this anchor."))
            continue
        for key, expected in anchor.agreed_levels.items():
            if key not in given:
                errors.append(field_error(f"/levels/{anchor.id}/{key}", "Choose a level."))
                continue
            total += 1
            if given[key] == expected:
                agreed += 1
            else:
                divergences.append(
                    {"anchor": anchor.submission.reference, "criterion": key, "given": given[key], "agreed": expected}
                )
    if errors:
        raise ValidationFailed("The calibration set is not fully scored.", errors=errors)
    threshold = settings_for(qualification.organisation_id, micro_credential_id)["calibration_threshold"]
    agreement = agreed / total if total else 0.0
    attempt = CalibrationAttempt(
        organisation_id=qualification.organisation_id,
        micro_credential_id=micro_credential_id,
        user_id=actor.id,
        levels=levels,
        agreement=round(agreement, 4),
        threshold=threshold,
        passed=agreement >= threshold,
        divergences=divergences,
    )
    db.session.add(attempt)
    db.session.flush()
    audit.record(
        actor=actor,
        action="calibration.attempted",
        obj=attempt,
        organisation_id=qualification.organisation_id,
        after={"agreement": attempt.agreement, "passed": attempt.passed},
    )
    return attempt


# --- stale claims ------------------------------------------------------------------------------------


def sweep_stale_claims(*, clear: bool = False) -> list[ReviewTask]:
    """Claims whose lease ran out: tell each assessor once; with ``clear``, drop the claim too.

    Expired claims are already claimable by others (the claim query checks the lease); this only tidies
    up and tells people.
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
        if task.stale_notified_at is None and assessor is not None:
            reference = db.session.scalar(select(Submission.reference).where(Submission.id == task.submission_id))
            mail.send(
                to=assessor.email,
                subject=f"Your claim on {reference} expired",
                body=f"Hello {assessor.name},\n\nYour claim on submission {reference} ran out and it went back to the "
                "review queue. If you were still scoring it, claim it again from the queue.",
            )
            task.stale_notified_at = now
        if clear:
            task.claimed_by_id = None
            task.claimed_at = None
            task.lease_expires_at = None
    db.session.flush()
    return tasks


def organisation_of(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def list_anchors(*, actor: User, micro_credential_id: uuid.UUID) -> list[CalibrationAnchor]:
    micro_credential = _micro_credential(micro_credential_id)
    authorize(actor, "review.anchor", micro_credential)
    return anchors(micro_credential_id)
