"""What review holds about a person. As an earner: the submitted reviews of their decided submissions (signed
"an assessor": review is blind both ways) and their appeals. As an assessor: their qualifications, calibration
attempts and the reviews they wrote (submissions named only by their pseudonymous reference).

Erasure blanks the written words about the earner's work (review summaries and comments, appeal reasons),
keeps the levels (reports of agreement count them) and drops
calibration anchors made from them (their evidence is gone). An erased assessor's qualifications go; the
reviews they wrote stay, under the anonymised account, and the conflicts of interest they declared go."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from assessors.models import (
    Appeal,
    CalibrationAnchor,
    CalibrationAttempt,
    DeclaredConflict,
    Qualification,
    Review,
    ReviewState,
    ReviewTask,
)
from core.db import db
from core.models import User
from core.privacy import Erasure, ExportPart
from credentials.portfolios.models import Submission


def _review_record(review: Review, reference: str) -> dict[str, object]:
    return {
        "submission": reference,
        "kind": review.kind,
        "decision": review.decision,
        "total_points": review.total_points,
        "submitted_at": review.submitted_at,
        "summary": review.summary,
        "scores": [
            {"criterion_key": s.criterion_key, "level_position": s.level_position, "feedback": s.feedback}
            for s in review.scores
        ],
    }


def export(person: User) -> list[ExportPart]:
    mine = select(Submission.id, Submission.reference).where(
        Submission.earner_id == person.id, Submission.decided_at.is_not(None)
    )
    references = {row.id: row.reference for row in db.session.execute(mine)}
    about_me = db.session.scalars(
        select(Review)
        .where(Review.submission_id.in_(list(references)), Review.state == ReviewState.SUBMITTED.value)
        .options(selectinload(Review.scores))
        .order_by(Review.submitted_at)
    )
    written = list(
        db.session.scalars(
            select(Review)
            .where(Review.assessor_id == person.id)
            .options(selectinload(Review.scores))
            .order_by(Review.started_at)
        )
    )
    of_written = select(Submission.id, Submission.reference).where(
        Submission.id.in_([r.submission_id for r in written])
    )
    written_refs = {row.id: row.reference for row in db.session.execute(of_written)}
    appeals = list(db.session.scalars(select(Appeal).where(Appeal.earner_id == person.id)))
    qualifications = db.session.scalars(select(Qualification).where(Qualification.user_id == person.id))
    attempts = db.session.scalars(
        select(CalibrationAttempt)
        .where(CalibrationAttempt.user_id == person.id)
        .order_by(CalibrationAttempt.completed_at)
    )
    return [
        ExportPart(
            name="reviews_of_your_work",
            description="Assessors' reviews of your decided submissions (assessors are not named)",
            records=[_review_record(r, references[r.submission_id]) | {"assessor": "an assessor"} for r in about_me],
        ),
        ExportPart(
            name="appeals",
            description="Your appeals against a decision",
            records=[
                {"submission_id": a.submission_id, "reason": a.reason, "outcome": a.outcome, "created_at": a.created_at}
                for a in appeals
            ],
            objects=[a.id for a in appeals],
        ),
        ExportPart(
            name="reviews_you_wrote",
            description="Reviews you wrote as an assessor (earners are named by reference only)",
            records=[_review_record(r, written_refs.get(r.submission_id, "")) for r in written],
            objects=[r.id for r in written],
        ),
        ExportPart(
            name="assessor_qualifications",
            description="The micro-credentials you may assess",
            records=[
                {"micro_credential_id": q.micro_credential_id, "lead": q.is_lead, "since": q.created_at}
                for q in qualifications
            ],
        ),
        ExportPart(
            name="declared_conflicts",
            description="The people you declared a conflict of interest with, as an assessor",
            records=[
                {"email": c.earner_email, "reason": c.reason, "since": c.created_at}
                for c in db.session.scalars(select(DeclaredConflict).where(DeclaredConflict.assessor_id == person.id))
            ],
        ),
        ExportPart(
            name="calibration_attempts",
            description="Your calibration attempts as an assessor",
            records=[
                {"completed_at": a.completed_at, "agreement": a.agreement, "threshold": a.threshold, "passed": a.passed}
                for a in attempts
            ],
        ),
    ]


def erase(erasure: Erasure) -> None:
    person_id = erasure.person.id
    submission_ids = select(Submission.id).where(Submission.earner_id == person_id)
    reviews = list(db.session.scalars(select(Review).where(Review.submission_id.in_(submission_ids))))
    for review in reviews:
        review.summary = ""
        for score in review.scores:
            score.feedback = ""
    appeals = list(db.session.scalars(select(Appeal).where(Appeal.earner_id == person_id)))
    for appeal in appeals:
        appeal.reason = ""
    for task in db.session.scalars(select(ReviewTask).where(ReviewTask.submission_id.in_(submission_ids))):
        task.earner_unit = None  # open tasks were cancelled when the submissions were withdrawn
        task.earner_unit_id = task.earner_unit_parent_id = None
    anchors = db.session.execute(
        delete(CalibrationAnchor).where(CalibrationAnchor.submission_id.in_(submission_ids))
    ).rowcount
    qualifications = db.session.execute(delete(Qualification).where(Qualification.user_id == person_id)).rowcount
    # The people an erased assessor named: their addresses are not the erased person's to keep.
    declared = db.session.execute(delete(DeclaredConflict).where(DeclaredConflict.assessor_id == person_id)).rowcount
    db.session.flush()
    erasure.objects += [a.id for a in appeals]
    erasure.counts |= {
        "reviews_blanked": len(reviews),
        "appeals_blanked": len(appeals),
        "calibration_anchors": anchors,
        "assessor_qualifications": qualifications,
        "declared_conflicts": declared,
    }
