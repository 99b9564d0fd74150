"""Appeals: an earner asks for a "not yet" decision to be looked at again; it goes back on the queue for a lead."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select

from assessors.models import (
    Appeal,
    TaskKind,
)
from assessors.queue import _new_task
from core import audit, clock
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import User
from credentials.portfolios.models import Submission, SubmissionState


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
    task = _new_task(submission, TaskKind.APPEAL, 1, queued_at=clock.now())
    submission.due_at = task.due_at  # the appeal's decision is due counted from now
    db.session.flush()
    audit.record(actor=actor, action="submission.appealed", obj=record, organisation_id=submission.organisation_id)
    return record
