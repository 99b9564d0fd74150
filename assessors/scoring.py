"""Blind scoring: what an assessor sees of a submission (never the earner's identity), evidence downloads for the
assessor holding the task, saving scores against the rubric, and submitting a review.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select

from assessors.decisions import (
    DECISION_PASSED,
    _after_review,
    _review_of,
    _submitted_reviews,
    decide,
    passing_position,
)
from assessors.models import (
    OPEN_TASK,
    Appeal,
    Review,
    ReviewScore,
    ReviewState,
    ReviewTask,
    TaskKind,
    TaskState,
)
from assessors.queue import _my_task
from core import audit, clock, storage
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.models import User
from credentials.authoring.models import Assessment, CredentialVersion, Purpose
from credentials.portfolios import previews
from credentials.portfolios.evidence import ensure_blind_copy, record_opening
from credentials.portfolios.models import EvidenceFile, Submission, SubmissionState


def blind_submission(submission: Submission) -> dict[str, Any]:
    """What an assessor sees of a submission: its reference, the version's rubric, answers and file metadata.

    No earner name, email, id or uploaded file name; files are "file 1 (pdf, 2.1 MB)".
    """
    version = submission.assessment  # a renewal is scored against the version's renewal rubric
    files = []
    for number, evidence in enumerate(submission.files, start=1):
        files.append(
            {
                "id": evidence.id,
                "requirement_key": evidence.requirement_key,
                "label": f"file {number} ({_short_type(evidence.media_type)}, {_size(evidence.assessor_size)})",
                "media_type": evidence.media_type,
                "size": evidence.assessor_size,
                "sha256": evidence.assessor_sha256,
            }
        )
    return {
        "reference": submission.reference,
        "attempt": submission.attempt,
        "kind": submission.kind,
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


def assessment_of(task: ReviewTask) -> Assessment:
    """The requirement set a task's submission is judged against: the award set, or the renewal set."""
    version = db.session.get(CredentialVersion, task.version_id)
    assert version is not None
    kind = db.session.scalar(select(Submission.kind).where(Submission.id == task.submission_id))
    return version.assessment(kind or Purpose.AWARD.value)


def rubric_of(version: CredentialVersion | Assessment) -> list[dict[str, Any]]:
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


def _held_file(actor: User, evidence_file: EvidenceFile) -> str:
    """Check that ``actor`` holds a live claim on the file's submission, make sure its copy without identifying
    metadata exists, and give its blind name; NotFound/Forbidden otherwise."""
    task = db.session.scalar(
        select(ReviewTask).where(
            ReviewTask.submission_id == evidence_file.submission_id,
            ReviewTask.claimed_by_id == actor.id,
            OPEN_TASK,
            ReviewTask.lease_expires_at > clock.now(),
        )
    )
    submission = evidence_file.submission
    if task is None and not actor.roles_in(submission.organisation_id):
        raise NotFound("No such file.")  # another organisation's file answers as an unknown id does
    if task is None:
        raise Forbidden("Only the assessor currently assigned may open this evidence.", action="review.assess")
    number = next(n for n, f in enumerate(submission.files, start=1) if f.id == evidence_file.id)
    # The copy without identifying metadata (made now for a file stored before copies were made).
    ensure_blind_copy(evidence_file)
    return f"{submission.reference}-file-{number}.{_short_type(evidence_file.media_type)}"


def evidence_download(actor: User, evidence_file: EvidenceFile, *, inline: bool = False) -> Any:
    """Send an evidence file to the assessor holding a live claim on its submission, under a blind name.

    The earner's own file name can identify them, so the download is named after the submission's
    reference and the file's number ("S1234567-file-2.pdf"), as in the blind view.
    """
    name = _held_file(actor, evidence_file)
    record_opening(actor, evidence_file, copy="assessor_copy", viewer="assessor")
    return storage.download(
        evidence_file.assessor_sha256, filename=name, media_type=evidence_file.media_type, inline=inline
    )


def _stored_bytes(sha256: str) -> bytes:
    with storage.backend().open(sha256) as stream:
        return stream.read()


def pdf_preview_pages(evidence_file: dict[str, Any]) -> int | None:
    """How many pages a PDF in the blind view has (the page previews the first ``previews.MAX_PAGES``), or None
    when it is not a PDF or cannot be rendered (the page then offers the download only).

    The assessor's copy is made here if it is missing, while the scoring page is rendered, so the page images
    the browser then fetches in parallel only read (SQLite has one writer at a time)."""
    if evidence_file["media_type"] != "application/pdf":
        return None
    row = db.session.get(EvidenceFile, evidence_file["id"])
    if row is None:
        return None
    ensure_blind_copy(row)
    sha256 = row.assessor_sha256
    if not sha256:
        return None
    try:
        pages = previews.page_count(sha256, lambda: _stored_bytes(sha256))
    except previews.PreviewFailed:
        return None
    return pages or None


def evidence_page_source(actor: User, evidence_file: EvidenceFile, number: int) -> bytes:
    """The PDF bytes (the assessor's copy) behind page ``number``'s preview, for the assessor holding its
    submission; the opening is audited once per view (page 1). NotFound for other types."""
    _held_file(actor, evidence_file)
    if number == 1:  # opening the preview is opening the file (audited once per view, not once per page)
        record_opening(actor, evidence_file, copy="assessor_copy", viewer="assessor")
    if evidence_file.media_type != "application/pdf":
        raise NotFound("Only PDF evidence has page previews.")
    return _stored_bytes(evidence_file.assessor_sha256)


def render_evidence_page(data: bytes, number: int) -> bytes:
    """Page ``number`` of a PDF as a PNG; NotFound for pages out of range and PDFs that cannot be rendered."""
    try:
        return previews.render_page(data, number)
    except previews.PreviewFailed as exc:
        raise NotFound(f"No preview of page {number}: {exc}.") from None


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


def _validate_scores(version: CredentialVersion | Assessment, scores: list[dict[str, Any]]) -> list[dict[str, str]]:
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
    version = assessment_of(task)
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
    version = assessment_of(task)
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


def submitted_message(review: Review) -> str:
    """What the assessor is told after submitting: their own scores' outcome, and whether it is final.

    A second scorer must not read "not yet" as the earner's result while the two reviews disagree and a lead
    still adjudicates, nor think a first review of a double-scored submission was released."""
    outcome = _("pass") if review.decision == DECISION_PASSED else _("not yet")
    submission = db.session.get(Submission, review.submission_id)
    assert submission is not None
    if submission.state != SubmissionState.IN_REVIEW.value:
        return _("Review submitted: %(outcome)s. The decision is released to the earner.", outcome=outcome)
    waiting = db.session.scalar(
        select(ReviewTask.kind)
        .where(ReviewTask.submission_id == submission.id, OPEN_TASK, ReviewTask.id != review.task_id)
        .limit(1)
    )
    if waiting == TaskKind.ADJUDICATION.value:
        return _(
            "Review submitted: your scores give %(outcome)s. The two independent reviews disagree, so a lead "
            "assessor adjudicates; the earner sees nothing until then.",
            outcome=outcome,
        )
    return _(
        "Review submitted: your scores give %(outcome)s. A second assessor reviews it independently; the earner "
        "sees the decision when both are in.",
        outcome=outcome,
    )
