"""Why a submission waits in the review queue, for those who run review: per unclaimed task, how many qualified
assessors may take it and what keeps the others off."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from assessors.conflicts import AssessorConflicts
from assessors.models import Qualification, ReviewTask, TaskKind
from assessors.queue import QueueItem, _claimable_credentials
from assessors.settings import _settings_map
from core.authz import authorize
from core.db import db
from core.models import User


def why_waiting(*, actor: User, organisation_id: uuid.UUID, items: list[QueueItem]) -> dict[uuid.UUID, str]:
    """For those who run review: why each unclaimed task of a queue page waits — how many qualified assessors may
    take it, and what keeps the others off (their own work, calibration, conflicts of interest). The same rules as
    the claim query, evaluated per assessor for the page's few tasks."""
    authorize(actor, "review.manage", organisation_id)
    tasks = [item.task for item in items if not item.claimed]
    if not tasks:
        return {}
    settings = _settings_map(organisation_id)
    qualified: dict[uuid.UUID, list[uuid.UUID]] = {}
    for mc, user_id in db.session.execute(
        select(Qualification.micro_credential_id, Qualification.user_id).where(
            Qualification.organisation_id == organisation_id,
            Qualification.micro_credential_id.in_({t.micro_credential_id for t in tasks}),
        )
    ):
        qualified.setdefault(mc, []).append(user_id)
    worked = {
        (submission_id, user_id)
        for submission_id, user_id in db.session.execute(
            select(ReviewTask.submission_id, ReviewTask.claimed_by_id).where(
                ReviewTask.submission_id.in_({t.submission_id for t in tasks}), ReviewTask.claimed_by_id.is_not(None)
            )
        )
    }
    people: dict[uuid.UUID, tuple[dict[uuid.UUID, bool], AssessorConflicts]] = {}
    for user_id in {u for users in qualified.values() for u in users}:
        user = db.session.get(User, user_id)
        if user is not None and user.is_active:
            people[user_id] = (
                _claimable_credentials(user, organisation_id, settings),
                AssessorConflicts.of(user, organisation_id),
            )
    reasons: dict[uuid.UUID, str] = {}
    for task in tasks:
        kept_off: dict[str, int] = {}
        free = 0
        candidates = [u for u in qualified.get(task.micro_credential_id, []) if u in people]
        for user_id in candidates:
            credentials, conflicts = people[user_id]
            if user_id == task.earner_id:
                reason: str | None = "own work"
            elif task.micro_credential_id not in credentials:
                reason = "calibration due"
            elif task.kind == TaskKind.ADJUDICATION.value and not credentials[task.micro_credential_id]:
                reason = "not a lead"
            elif (task.submission_id, user_id) in worked:
                reason = "already reviewed it"
            else:
                reason = conflicts.reason(task, settings(task.micro_credential_id))
            if reason is None:
                free += 1
            else:
                kept_off[reason] = kept_off.get(reason, 0) + 1
        details = ", ".join(f"{n} {why}" for why, n in sorted(kept_off.items()))
        if not candidates:
            reasons[task.id] = "No assessor is qualified for this micro-credential."
        elif free:
            reasons[task.id] = f"{free} of {len(candidates)} qualified assessors may take it" + (
                f" (kept off: {details})." if details else "."
            )
        else:
            reasons[task.id] = f"No qualified assessor may take it (kept off: {details})."
    return reasons
