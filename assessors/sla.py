"""The service level of review: due dates in business days, the calendar of non-working days, reminders to
the assessor holding a submission, and what a breach does (release the claim or escalate to the leads).

A due date is fixed when the submission is queued, counted from ``submitted_at`` (so it does not depend on
when the queue was first read): the same time of day on the N-th working day after the submission's date
(UTC), where weekends and the organisation's listed dates are not working days. Without
``turnaround_business_days`` it is ``turnaround_hours`` of calendar time. The reminder falls
``reminder_business_days`` working days before it. ``sweep`` (the ``review.sla`` job) acts on each once:
the reminder and the breach are each taken with a conditional ``UPDATE … WHERE … IS NULL``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select, update

from assessors.models import OPEN_TASK, BreachAction, NonWorkingDay, Qualification, ReviewTask
from assessors.settings import _settings_map
from core import audit, clock, mail
from core.authz import authorize
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import datetime_filter, label, recipient_language
from core.models import Membership, Role, User
from credentials.portfolios.models import Submission

_MAX_DAYS = 366 * 3  # no due date is searched further ahead than this, whatever the calendar says


def non_working_dates(organisation_id: uuid.UUID) -> set[date]:
    """The organisation's listed non-working dates (weekends come on top)."""
    return set(db.session.scalars(select(NonWorkingDay.day).where(NonWorkingDay.organisation_id == organisation_id)))


def is_working_day(day: date, holidays: set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: datetime, days: int, holidays: set[date]) -> datetime:
    """The same time of day as ``start`` on the ``days``-th working day after ``start``'s date."""
    moment, counted = start, 0
    for _step in range(_MAX_DAYS):
        if counted >= days:
            return moment
        moment += timedelta(days=1)
        if is_working_day(moment.date(), holidays):
            counted += 1
    return moment


def subtract_business_days(end: datetime, days: int, holidays: set[date]) -> datetime:
    """The same time of day as ``end`` on the ``days``-th working day before ``end``'s date."""
    moment, counted = end, 0
    for _step in range(_MAX_DAYS):
        if counted >= days:
            return moment
        moment -= timedelta(days=1)
        if is_working_day(moment.date(), holidays):
            counted += 1
    return moment


def due_dates(start: datetime, settings: dict[str, Any], holidays: set[date]) -> tuple[datetime, datetime]:
    """(due, remind) for work that arrived at ``start`` under these programme settings."""
    days = settings["turnaround_business_days"]
    due = add_business_days(start, days, holidays) if days else start + timedelta(hours=settings["turnaround_hours"])
    before = settings["reminder_business_days"]
    if before:
        remind = subtract_business_days(due, before, holidays)
    else:  # "on the due date": from the start of that day (UTC), so there is time to act on it
        remind = due.replace(hour=0, minute=0, second=0, microsecond=0)
    return due, max(remind, start)


def calendar_for(organisation_id: uuid.UUID) -> Callable[[datetime, dict[str, Any]], tuple[datetime, datetime]]:
    """``due_dates`` bound to the organisation's calendar, read once (the queue dates many submissions)."""
    holidays = non_working_dates(organisation_id)
    return lambda start, settings: due_dates(start, settings, holidays)


# --- the calendar on the settings page ---------------------------------------------------------------


def list_non_working_days(*, actor: User, organisation_id: uuid.UUID) -> list[NonWorkingDay]:
    authorize(actor, "review.manage", organisation_id)
    return list(
        db.session.scalars(
            select(NonWorkingDay).where(NonWorkingDay.organisation_id == organisation_id).order_by(NonWorkingDay.day)
        )
    )


def add_non_working_day(*, actor: User, organisation_id: uuid.UUID, day: date, label: str = "") -> NonWorkingDay:
    """List a date on which the organisation does no review; due dates counted after this skip it."""
    authorize(actor, "review.manage", organisation_id)
    label = label.strip()
    if len(label) > 100:
        raise ValidationFailed.field("label", "At most 100 characters.")
    exists = db.session.scalar(
        select(NonWorkingDay.id).where(NonWorkingDay.organisation_id == organisation_id, NonWorkingDay.day == day)
    )
    if exists is not None:
        raise Conflict(f"{day.isoformat()} is already a non-working day.")
    row = NonWorkingDay(organisation_id=organisation_id, day=day, label=label)
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor=actor,
        action="review.non_working_day_added",
        obj=row,
        organisation_id=organisation_id,
        after={"day": day.isoformat(), "label": label},
    )
    return row


def remove_non_working_day(*, actor: User, organisation_id: uuid.UUID, day_id: uuid.UUID) -> None:
    authorize(actor, "review.manage", organisation_id)
    row = db.session.get(NonWorkingDay, day_id)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound("No such non-working day.")
    audit.record(
        actor=actor,
        action="review.non_working_day_removed",
        obj=row,
        organisation_id=organisation_id,
        before={"day": row.day.isoformat(), "label": row.label},
    )
    db.session.delete(row)
    db.session.flush()


# --- overdue work -------------------------------------------------------------------------------------


@dataclass
class OverdueItem:
    task: ReviewTask
    reference: str
    holder: str | None  # the claim holder's name (org admins see who holds what; assessors never see earners)
    overdue_hours: float


def overdue(*, actor: User, organisation_id: uuid.UUID, limit: int = 200) -> list[OverdueItem]:
    """Open review work past its due date, most overdue first (org admins)."""
    authorize(actor, "review.manage", organisation_id)
    now = clock.now()
    rows = db.session.execute(
        select(ReviewTask, Submission.reference, User.name)
        .join(Submission, Submission.id == ReviewTask.submission_id)
        .outerjoin(User, sa.and_(User.id == ReviewTask.claimed_by_id, ReviewTask.lease_expires_at > now))
        .where(ReviewTask.organisation_id == organisation_id, OPEN_TASK, ReviewTask.due_at < now)
        .order_by(ReviewTask.due_at, ReviewTask.id)
        .limit(limit)
    ).all()
    return [
        OverdueItem(
            task=task,
            reference=reference,
            holder=holder,
            overdue_hours=round((now - task.due_at).total_seconds() / 3600, 1),
        )
        for task, reference, holder in rows
    ]


# --- the sweep: reminders and breaches ----------------------------------------------------------------


@dataclass
class SweepResult:
    reminded: int = 0
    released: int = 0
    escalated: int = 0


def _take(*where: sa.ColumnElement[bool], **values: Any) -> bool:
    result = db.session.execute(
        update(ReviewTask).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def _link(task: ReviewTask) -> str:
    return f"{current_app.config['BASE_URL']}/review/tasks/{task.id}"


def _when(moment: datetime) -> str:
    """The due moment in the recipient's language, in UTC."""
    return datetime_filter(moment, "full") + " UTC"


def _day(moment: datetime) -> str:
    return format_date(moment, "medium")


def tell_claim_expired(assessor: User, reference: str) -> None:
    """Tell an assessor, in their language, that their claim ran out and the submission is back in the queue."""
    with recipient_language(assessor):
        words = {"name": assessor.name, "reference": reference}
        mail.send(
            to=assessor.email,
            subject=_("Your claim on %(reference)s expired", **words),
            body=_(
                "Hello %(name)s,\n\nYour claim on submission %(reference)s ran out and it went back to the "
                "review queue. If you were still scoring it, claim it again from the queue.",
                **words,
            ),
        )


def sweep() -> SweepResult:
    """Remind each claim holder once when their work nears its due date; act once on each breach."""
    now = clock.now()
    result = SweepResult()
    live = ReviewTask.lease_expires_at > now
    reminders = db.session.execute(
        select(ReviewTask, Submission.reference)
        .join(Submission, Submission.id == ReviewTask.submission_id)
        .where(OPEN_TASK, ReviewTask.remind_at <= now, ReviewTask.due_at > now, ReviewTask.reminded_at.is_(None), live)
    ).all()
    for task, reference in reminders:
        holder = db.session.get(User, task.claimed_by_id)
        if holder is None or not _take(
            ReviewTask.id == task.id,
            ReviewTask.claimed_by_id == holder.id,
            ReviewTask.reminded_at.is_(None),
            reminded_at=now,
        ):
            continue
        with recipient_language(holder):
            mail.send(
                to=holder.email,
                subject=_("Review of %(reference)s due %(day)s", reference=reference, day=_day(task.due_at)),
                body=_(
                    "Hello %(name)s,\n\nThe decision on submission %(reference)s, which you have claimed, is due by "
                    "%(when)s.\n\nContinue scoring it here:\n%(link)s\n\nIf you cannot finish it in "
                    "time, release it so another assessor can take it.",
                    name=holder.name,
                    reference=reference,
                    when=_when(task.due_at),
                    link=_link(task),
                ),
            )
        result.reminded += 1

    breaches = db.session.execute(
        select(ReviewTask, Submission.reference)
        .join(Submission, Submission.id == ReviewTask.submission_id)
        .where(OPEN_TASK, ReviewTask.due_at <= now, ReviewTask.breached_at.is_(None))
    ).all()
    settings_by_org: dict[uuid.UUID, Callable[[uuid.UUID | None], dict[str, Any]]] = {}
    for task, reference in breaches:
        if not _take(ReviewTask.id == task.id, ReviewTask.breached_at.is_(None), breached_at=now):
            continue  # another sweep got there first
        if task.organisation_id not in settings_by_org:
            settings_by_org[task.organisation_id] = _settings_map(task.organisation_id)
        action = settings_by_org[task.organisation_id](task.micro_credential_id)["breach_action"]
        holder = db.session.get(User, task.claimed_by_id) if task.lease_live(now) and task.claimed_by_id else None
        if action == BreachAction.RELEASE.value and holder is not None:
            released = _take(
                ReviewTask.id == task.id,
                ReviewTask.claimed_by_id == holder.id,
                ReviewTask.lease_expires_at > now,
                claimed_by_id=None,
                claimed_at=None,
                lease_expires_at=None,
            )
            if released:
                with recipient_language(holder):
                    mail.send(
                        to=holder.email,
                        subject=_("%(reference)s went back to the queue: its decision was due", reference=reference),
                        body=_(
                            "Hello %(name)s,\n\nThe decision on submission %(reference)s was due by %(when)s. Under "
                            "your organisation's rule the submission has gone back to the review queue so that "
                            "another assessor can take it. Your saved draft is kept.",
                            name=holder.name,
                            reference=reference,
                            when=_when(task.due_at),
                        ),
                    )
                result.released += 1
        elif action == BreachAction.ESCALATE.value:
            _escalate(task, reference, holder)
            result.escalated += 1
        audit.record(
            actor=None,
            action="review.sla_breached",
            obj=task,
            organisation_id=task.organisation_id,
            after={"due_at": task.due_at, "action": action, "held": holder is not None},
        )
    return result


def _escalate(task: ReviewTask, reference: str, holder: User | None) -> None:
    """Tell the credential's lead assessors, or the organisation's admins when it has none (blind: the
    reference, never the earner)."""
    leads: list[User] = list(
        db.session.scalars(
            select(User)
            .join(Qualification, Qualification.user_id == User.id)
            .where(
                Qualification.micro_credential_id == task.micro_credential_id,
                Qualification.is_lead.is_(True),
                User.id != task.earner_id,
            )
            .order_by(User.name)
        )
    )
    if not leads:
        leads = list(
            db.session.scalars(
                select(User)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.organisation_id == task.organisation_id,
                    Membership.role == Role.ORG_ADMIN.value,
                    User.id != task.earner_id,
                )
                .order_by(User.name)
            )
        )
    for lead in leads:
        with recipient_language(lead):
            state = _("claimed by %(name)s", name=holder.name) if holder is not None else _("not claimed by anyone")
            mail.send(
                to=lead.email,
                subject=_("Overdue: %(reference)s was due %(day)s", reference=reference, day=_day(task.due_at)),
                body=_(
                    "Hello %(name)s,\n\nThe %(kind)s of submission %(reference)s was due by %(when)s and "
                    "is still open (%(state)s). You are asked to see that it is decided.\n\n"
                    "The overdue list:\n%(link)s",
                    name=lead.name,
                    kind=label(task.kind),
                    reference=reference,
                    when=_when(task.due_at),
                    state=state,
                    link=f"{current_app.config['BASE_URL']}/review/{task.organisation_id}/admin#overdue",
                ),
            )
