"""Review: who may assess what, the queue of review tasks and their claims, reviews and scores, calibration,
appeals and the programme settings that steer them."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, TimestampMixin, db
from core.models import User
from credentials.portfolios.models import Submission


class Qualification(IdMixin, db.Model):
    """An assessor's permission to review one micro-credential (all its versions); leads also adjudicate."""

    __tablename__ = "assessor_qualifications"
    __table_args__ = (sa.UniqueConstraint("micro_credential_id", "user_id"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_lead: Mapped[bool] = mapped_column(default=False)
    granted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ProgrammeSettings(IdMixin, TimestampMixin, db.Model):
    """How review runs for an organisation (``micro_credential_id`` NULL) or one of its credentials."""

    __tablename__ = "review_settings"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "micro_credential_id"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    turnaround_hours: Mapped[int] = mapped_column(default=14 * 24)
    # Share (0..1) of submissions given a second, independent review; and all of the first N of a version.
    double_share: Mapped[float] = mapped_column(default=0.1)
    double_first_n: Mapped[int] = mapped_column(default=10)
    # Exact agreement (0..1) with the anchors' agreed levels needed to pass calibration.
    calibration_threshold: Mapped[float] = mapped_column(default=0.8)
    # Days after which a passed calibration lapses (None: never).
    recalibration_days: Mapped[int | None]
    conflict_by_unit: Mapped[bool] = mapped_column(default=False)
    # Also keep assessors off work from their own district: the unit above theirs (see queue.unit_conflict_ids).
    conflict_by_parent: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Service level: a decision due this many business days after submission (None: ``turnaround_hours``
    # of calendar time), a reminder to the claim holder this many business days before, and what a breach does.
    turnaround_business_days: Mapped[int | None]
    reminder_business_days: Mapped[int] = mapped_column(default=1)
    breach_action: Mapped[str] = mapped_column(sa.String(16), default="escalate")


class BreachAction(enum.StrEnum):
    RELEASE = "release"  # the claim goes back to the queue (its holder is told)
    ESCALATE = "escalate"  # the credential's lead assessors are told; the claim stays


class NonWorkingDay(IdMixin, db.Model):
    """A date on which an organisation does no review (a holiday); weekends are never working days."""

    __tablename__ = "review_non_working_days"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "day"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    day: Mapped[date]
    label: Mapped[str] = mapped_column(sa.String(100), default="")


DEFAULT_SETTINGS: dict[str, Any] = {
    "turnaround_hours": 14 * 24,
    "double_share": 0.1,
    "double_first_n": 10,
    "calibration_threshold": 0.8,
    "recalibration_days": None,
    "conflict_by_unit": False,
    "turnaround_business_days": None,
    "reminder_business_days": 1,
    "breach_action": BreachAction.ESCALATE.value,
    "conflict_by_parent": False,
}


class DeclaredConflict(IdMixin, db.Model):
    """An assessor's declared conflict of interest with a person (by email, so it holds before they sign up and
    says nothing about whether they have an account): the claim query never gives them that person's work."""

    __tablename__ = "declared_conflicts"
    __table_args__ = (sa.UniqueConstraint("assessor_id", "earner_email"),)

    assessor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    earner_email: Mapped[str] = mapped_column(sa.String(254))  # lower case
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class TaskKind(enum.StrEnum):
    REVIEW = "review"  # first or (slot 2) second independent review
    ADJUDICATION = "adjudication"
    APPEAL = "appeal"


class TaskState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


_OPEN_SQL = sa.text("state = 'open'")


class ReviewTask(IdMixin, db.Model):
    """One piece of review work in the queue. A claim is ``claimed_by_id`` with a lease; an expired lease
    makes the task claimable again without any job having to run.

    Earner and unit are copied here so the claim query filters conflicts of interest without joins.
    """

    __tablename__ = "review_tasks"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "kind", "slot"),
        # The claim and queue queries: open tasks of one organisation (or credential), oldest first. Partial, so
        # they hold only the queue, not the million decided tasks; lease_expires_at is included so the queue's
        # counts (claimed, overdue, oldest) are an index-only scan; due_at likewise for the overdue count.
        sa.Index(
            "ix_review_tasks_open_credential",
            "micro_credential_id",
            "queued_at",
            "lease_expires_at",
            "due_at",
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        sa.Index(
            "ix_review_tasks_open_org",
            "organisation_id",
            "queued_at",
            "lease_expires_at",
            "due_at",
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        sa.Index("ix_review_tasks_claimed_by", "claimed_by_id", "state"),
    )

    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id"))
    earner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    earner_unit: Mapped[str | None] = mapped_column(sa.String(100))  # the legacy free text (users.unit)
    earner_unit_id: Mapped[uuid.UUID | None]  # the earner's unit in the hierarchy when queued, and its parent
    earner_unit_parent_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(sa.String(16), default=TaskKind.REVIEW.value)
    slot: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(sa.String(16), default=TaskState.OPEN.value)
    queued_at: Mapped[datetime]
    claimed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    stale_notified_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # The service level (assessors/sla.py): when the decision is due, when its holder is reminded, and when
    # the reminder and the breach were acted on (each once: a conditional UPDATE from NULL).
    due_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]

    submission: Mapped[Submission] = relationship()

    def lease_live(self, now: datetime) -> bool:
        # An open task is claimed exactly when it has a lease: claiming sets both, releasing clears both.
        return self.lease_expires_at is not None and self.lease_expires_at > now


# "An open task", written with the literal 'open' rather than a bound parameter: the queue indexes are partial
# (WHERE state = 'open'), and neither SQLite nor a PostgreSQL generic (prepared) plan can use a partial index for
# ``state = ?`` because the planner cannot prove the parameter is 'open'.
OPEN_TASK = ReviewTask.state == sa.literal_column("'open'")


class ReviewState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Review(IdMixin, db.Model):
    """One assessor's scoring of one submission for one task. Every review is kept, final or not."""

    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("task_id"), sa.Index("ix_reviews_assessor", "assessor_id", "submitted_at"))

    task_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("review_tasks.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"), index=True)
    assessor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), default=ReviewState.DRAFT.value)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    decision: Mapped[str | None] = mapped_column(sa.String(16))
    total_points: Mapped[int | None]
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_at: Mapped[datetime | None]

    task: Mapped[ReviewTask] = relationship()
    scores: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", order_by="ReviewScore.criterion_key", cascade="all, delete-orphan"
    )


class ReviewScore(IdMixin, db.Model):
    __tablename__ = "review_scores"
    __table_args__ = (sa.UniqueConstraint("review_id", "criterion_key"),)

    review_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("reviews.id", ondelete="CASCADE"))
    criterion_key: Mapped[str] = mapped_column(sa.String(64))
    level_position: Mapped[int]
    feedback: Mapped[str] = mapped_column(sa.Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")


class CalibrationAnchor(IdMixin, db.Model):
    """A submission authors have scored together; assessors calibrate by scoring it blind."""

    __tablename__ = "calibration_anchors"
    __table_args__ = (sa.UniqueConstraint("micro_credential_id", "submission_id"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"), index=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    # criterion key → agreed level position
    agreed_levels: Mapped[dict[str, Any]]
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    submission: Mapped[Submission] = relationship()


class CalibrationAttempt(IdMixin, db.Model):
    """An assessor's scoring of a credential's calibration set and how closely it matched the anchors."""

    __tablename__ = "calibration_attempts"
    __table_args__ = (sa.Index("ix_calibration_attempts_user", "user_id", "micro_credential_id", "completed_at"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # anchor id → {criterion key → level position}
    levels: Mapped[dict[str, Any]]
    agreement: Mapped[float]
    threshold: Mapped[float]
    passed: Mapped[bool]
    # [{"anchor": reference, "criterion": key, "given": n, "agreed": m}]
    divergences: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    completed_at: Mapped[datetime] = mapped_column(default=clock.now)


class Appeal(IdMixin, db.Model):
    """An earner's one appeal against a "not yet"; decided by an assessor who has not reviewed it."""

    __tablename__ = "appeals"
    __table_args__ = (sa.UniqueConstraint("submission_id"),)

    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    earner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[datetime | None]
