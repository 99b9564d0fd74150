"""Decisions: the passing rule applied to a review's levels, and what submitted reviews decide.

One review is final; two that agree are final; two that disagree open an adjudication task for a lead
assessor, whose decision is final. A final decision writes the earner's ``CriterionFeedback``, sets
``passed``/``not_yet``, mails the earner and, when passed, hands the submission to issuance once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from assessors import issuance
from assessors.models import (
    OPEN_TASK,
    Appeal,
    Review,
    ReviewState,
    ReviewTask,
    TaskKind,
)
from assessors.queue import _new_task
from core import audit, clock, mail
from core.db import db
from core.errors import Conflict
from core.i18n import recipient_language
from core.models import User
from credentials.authoring.models import Assessment, CredentialVersion
from credentials.portfolios.models import CriterionFeedback, Submission, SubmissionState

DECISION_PASSED = SubmissionState.PASSED.value


DECISION_NOT_YET = SubmissionState.NOT_YET.value


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


def passing_position(version: CredentialVersion | Assessment, criterion: Any) -> int | None:
    """The position of the criterion's passing level (by name), None when the rule has no level part."""
    if not version.passing_level:
        return None
    for level in criterion.levels:
        if level.name == version.passing_level:
            return int(level.position)
    return None


def decide(version: CredentialVersion | Assessment, levels: dict[str, int]) -> tuple[str, int]:
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


def _after_review(task: ReviewTask, review: Review, version: CredentialVersion | Assessment) -> None:
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
    # The adjudication keeps the submission's due date: the earner was promised a decision, not a first review.
    due = (task.due_at, task.remind_at) if task.due_at and task.remind_at else None
    _new_task(submission, TaskKind.ADJUDICATION, 1, queued_at=submission.submitted_at, due=due)
    db.session.flush()


def _finalise(submission_id: uuid.UUID, review: Review, version: CredentialVersion | Assessment) -> None:
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
        with recipient_language(earner):
            outcome = _("passed") if submission.state == DECISION_PASSED else _("not yet passed")
            words = {
                "name": earner.name,
                "title": version.title,
                "outcome": outcome,
                "link": f"{current_app.config['BASE_URL']}/portfolio/{submission.id}",
            }
            if submission.is_renewal:
                body = _(
                    "Hello %(name)s,\n\nYour renewal submission for “%(title)s” has been reviewed: %(outcome)s.\n"
                    "Read the feedback on each criterion here:\n%(link)s",
                    **words,
                )
            else:
                body = _(
                    "Hello %(name)s,\n\nYour submission for “%(title)s” has been reviewed: %(outcome)s.\n"
                    "Read the feedback on each criterion here:\n%(link)s",
                    **words,
                )
            subject = _("Your submission %(reference)s: %(outcome)s", reference=submission.reference, outcome=outcome)
            mail.send(to=earner.email, subject=subject, body=body)
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
