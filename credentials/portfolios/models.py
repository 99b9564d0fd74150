"""Earners' submissions: answers, evidence files, and the per-criterion feedback they get back."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import IdMixin, TimestampMixin, db
from core.models import User
from credentials.authoring.models import (
    Assessment,
    CredentialVersion,
    MicroCredential,
    Purpose,
    Requirement,
    RubricCriterion,
)


class SubmissionState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    PASSED = "passed"
    NOT_YET = "not_yet"
    WITHDRAWN = "withdrawn"


# An earner has at most one submission in these states per micro-credential (a partial unique index).
OPEN_SUBMISSION_STATES = (SubmissionState.DRAFT.value, SubmissionState.SUBMITTED.value, SubmissionState.IN_REVIEW.value)


_OPEN_STATES_SQL = sa.text("state IN ('draft', 'submitted', 'in_review')")


# Submitted and not yet on the review queue. Queries must spell this out literally to use the partial index.
_TO_QUEUE_SQL = sa.text("state = 'submitted' AND queued_at IS NULL")


TO_QUEUE = _TO_QUEUE_SQL


class Submission(IdMixin, TimestampMixin, db.Model):
    """One attempt by an earner at one published version: answers, evidence files, and where it stands.

    ``reference`` is the pseudonymous handle assessors see; nothing they receive names the earner.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("micro_credential_id", "earner_id", "attempt"),
        sa.Index(
            "uq_submissions_one_open",
            "micro_credential_id",
            "earner_id",
            unique=True,
            sqlite_where=_OPEN_STATES_SQL,
            postgresql_where=_OPEN_STATES_SQL,
        ),
        sa.Index("ix_submissions_queue", "organisation_id", "state", "submitted_at"),
        # New work for the review queue: small, so picking it up on every queue read costs nothing.
        sa.Index(
            "ix_submissions_to_queue",
            "organisation_id",
            "submitted_at",
            sqlite_where=_TO_QUEUE_SQL,
            postgresql_where=_TO_QUEUE_SQL,
        ),
        sa.Index("ix_submissions_earner", "earner_id", "created_at"),
        # The impact reports (badges/impact.py): cohorts by start, passes by decision, read from the index alone.
        sa.Index(
            "ix_submissions_impact",
            "organisation_id",
            "created_at",
            postgresql_include=["state", "attempt", "micro_credential_id", "earner_id", "submitted_at", "decided_at"],
        ),
        sa.Index(
            "ix_submissions_impact_passed",
            "organisation_id",
            "decided_at",
            postgresql_include=["micro_credential_id", "earner_id", "attempt", "created_at"],
            sqlite_where=sa.text("state = 'passed'"),
            postgresql_where=sa.text("state = 'passed'"),
        ),
    )

    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # Copied from the version so queue and permission queries need no join.
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"))
    micro_credential_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("micro_credentials.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credential_versions.id"), index=True)
    earner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    attempt: Mapped[int] = mapped_column(default=1)
    # "award" (earning the credential) or "renewal" (renewing the badge ``renews_badge_id``, judged against the
    # version's renewal requirements and rubric). No foreign key: badges is a later domain (it checks the link).
    kind: Mapped[str] = mapped_column(sa.String(16), default=Purpose.AWARD.value, server_default="award")
    renews_badge_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    previous_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("submissions.id"))
    state: Mapped[str] = mapped_column(sa.String(16), default=SubmissionState.DRAFT.value)
    submitted_at: Mapped[datetime | None]
    # Set when the review domain has put the submission on its queue. Review starts only when an assessor
    # claims it (state in_review); until then the earner may still withdraw.
    queued_at: Mapped[datetime | None]
    # When a decision is due, set by the review domain as it queues the submission (from ``submitted_at``
    # and the organisation's business-day calendar) and shown to the earner.
    due_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    # When the evidence files were deleted at the end of the organisation's retention period (None: kept).
    evidence_purged_at: Mapped[datetime | None]
    # The earner's choice: may the public badge page show (and link to) this evidence?
    evidence_public: Mapped[bool] = mapped_column(default=False)
    # The final decision's summary as released to the earner (the per-criterion part is CriterionFeedback).
    feedback_summary: Mapped[str | None] = mapped_column(sa.Text)
    # Optimistic concurrency for drafts edited from two tabs (sent back as ETag / If-Match).
    lock_version: Mapped[int] = mapped_column(default=1)

    version: Mapped[CredentialVersion] = relationship()
    micro_credential: Mapped[MicroCredential] = relationship()
    earner: Mapped[User] = relationship()
    previous: Mapped[Submission | None] = relationship(remote_side="Submission.id")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="submission", order_by="Answer.requirement_key", cascade="all, delete-orphan"
    )
    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="submission", order_by="EvidenceFile.created_at", cascade="all, delete-orphan"
    )
    feedback: Mapped[list[CriterionFeedback]] = relationship(
        back_populates="submission", order_by="CriterionFeedback.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_SUBMISSION_STATES

    @property
    def is_renewal(self) -> bool:
        return self.kind == Purpose.RENEWAL.value

    @property
    def assessment(self) -> Assessment:
        """The requirements, rubric and passing rule this submission answers (the renewal set for a renewal)."""
        return self.version.assessment(self.kind)

    @property
    def requirements(self) -> list[Requirement]:
        return self.assessment.requirements

    @property
    def criteria(self) -> list[RubricCriterion]:
        return self.assessment.criteria


class Answer(IdMixin, db.Model):
    """The text or link answering one requirement (files are ``EvidenceFile`` rows)."""

    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("submission_id", "requirement_key"),)

    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    requirement_key: Mapped[str] = mapped_column(sa.String(64))
    text: Mapped[str | None] = mapped_column(sa.Text)
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    submission: Mapped[Submission] = relationship(back_populates="answers")


class EvidenceFile(IdMixin, db.Model):
    """An uploaded file answering a requirement; its bytes live in storage under their SHA-256."""

    __tablename__ = "evidence_files"

    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    requirement_key: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    media_type: Mapped[str] = mapped_column(sa.String(128))
    # Cleaned for display and download only; never used as a path.
    filename: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # What a blind assessor is given: a copy without identifying metadata (``core.metadata``), stored beside the
    # original under its own SHA-256. ``metadata_status`` is None until the file was checked (rows older than
    # the check are cleaned when an assessor first opens them).
    blind_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    blind_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    metadata_status: Mapped[str | None] = mapped_column(sa.String(16))
    metadata_removed: Mapped[list[str] | None] = mapped_column(sa.JSON)
    metadata_problem: Mapped[str | None] = mapped_column(sa.String(300))
    # Where the earner's own name or e-mail appears in the file's text ("your name “Elin Jones” (page 2)"),
    # pointed out to them beside the file (``namecheck``); [] found nowhere, None not checked (not PDF/DOCX).
    identity_found: Mapped[list[str] | None] = mapped_column(sa.JSON)

    submission: Mapped[Submission] = relationship(back_populates="files")

    @property
    def assessor_sha256(self) -> str:
        """The bytes a blind assessor gets: the cleaned copy when there is one, else the original."""
        return self.blind_sha256 or self.sha256

    @property
    def assessor_size(self) -> int:
        return self.blind_size or self.size

    @property
    def metadata_flagged(self) -> bool:
        """The earner should look: hidden details may remain in what the assessor sees."""
        return self.metadata_status in {"unsupported", "failed"}


class CriterionFeedback(IdMixin, db.Model):
    """The released result of a decided submission on one rubric criterion, as its earner sees it.

    Written by the review domain when a decision becomes final (after any second review or adjudication);
    the individual assessors' reviews stay in that domain and are never shown to the earner.
    """

    __tablename__ = "criterion_feedback"
    __table_args__ = (sa.UniqueConstraint("submission_id", "criterion_key"),)

    submission_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    criterion_key: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(default=0)
    level_position: Mapped[int]
    level_name: Mapped[str] = mapped_column(sa.String(100))
    points: Mapped[int | None]
    feedback: Mapped[str] = mapped_column(sa.Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="feedback")
