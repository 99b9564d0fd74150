"""What portfolios hold about a person (their submissions, answers, evidence files, released feedback) for their
archive, and its erasure: answers and files removed (the bytes deleted from storage when nobody else's row uses
them), feedback text blanked, open submissions withdrawn. The rows themselves stay, so counts, reviews and
badges that point at them keep working."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import clock, storage
from core.db import db
from core.models import User
from core.privacy import Erasure, ExportPart, StoredFile
from credentials.portfolios import services
from credentials.portfolios.models import OPEN_SUBMISSION_STATES, Submission, SubmissionState


def _submissions(person_id: uuid.UUID) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.earner_id == person_id)
            .options(
                selectinload(Submission.answers),
                selectinload(Submission.files),
                selectinload(Submission.feedback),
                selectinload(Submission.version),
            )
            .order_by(Submission.created_at, Submission.id)
        )
    )


def export(person: User) -> list[ExportPart]:
    """``submissions.json`` and every evidence file as uploaded, under ``evidence/<reference>/``."""
    records, files = [], []
    submissions = _submissions(person.id)
    for submission in submissions:
        folder = f"evidence/{submission.reference}"
        listed = []
        for number, file in enumerate(submission.files, start=1):
            path = f"{folder}/{number}-{storage.clean_filename(file.filename)}"
            files.append(StoredFile(path=path, sha256=file.sha256, size=file.size))
            listed.append(
                {
                    "requirement_key": file.requirement_key,
                    "filename": file.filename,
                    "media_type": file.media_type,
                    "size": file.size,
                    "sha256": file.sha256,
                    "uploaded_at": file.created_at,
                    "in_archive": path,
                    "assessor_copy": file.metadata_status,
                }
            )
        released = submission.decided_at is not None
        records.append(
            {
                "id": submission.id,
                "reference": submission.reference,
                "micro_credential": submission.version.title,
                "version": submission.version.number,
                "organisation": submission.version.organisation.name,
                "attempt": submission.attempt,
                "state": submission.state,
                "started_at": submission.created_at,
                "submitted_at": submission.submitted_at,
                "withdrawn_at": submission.withdrawn_at,
                "decided_at": submission.decided_at,
                "evidence_public": submission.evidence_public,
                "answers": [
                    {"requirement_key": a.requirement_key, "text": a.text, "url": a.url, "updated_at": a.updated_at}
                    for a in submission.answers
                ],
                "files": listed,
                "feedback_summary": submission.feedback_summary if released else None,
                "feedback": [
                    {"criterion_key": f.criterion_key, "level": f.level_name, "points": f.points}
                    | {"feedback": f.feedback}
                    for f in submission.feedback
                ]
                if released
                else [],
            }
        )
    return [
        ExportPart(
            name="submissions",
            description="Your submissions: answers, files and the feedback you were given",
            records=records,
            files=files,
            objects=[s.id for s in submissions],
        )
    ]


def erase(erasure: Erasure) -> None:
    submissions = _submissions(erasure.person.id)
    erasure.objects += [s.id for s in submissions]
    answers = files = 0
    withdrawn = []
    for submission in submissions:
        for file in list(submission.files):
            erasure.digests |= {file.sha256, *([file.blind_sha256] if file.blind_sha256 else [])}
            submission.files.remove(file)
            files += 1
        answers += len(submission.answers)
        submission.answers.clear()
        for feedback in submission.feedback:
            feedback.feedback = ""
        submission.feedback_summary = None
        submission.evidence_public = False
        if submission.state in OPEN_SUBMISSION_STATES:
            submission.state = SubmissionState.WITHDRAWN.value
            submission.withdrawn_at = clock.now()
            withdrawn.append(submission)
    db.session.flush()
    for submission in withdrawn:
        services.notify_withdrawn(submission)  # off the review queue
    erasure.counts |= {"submissions": len(submissions), "answers": answers, "evidence_files": files}


def earners_of(organisation_id: uuid.UUID) -> sa.Select[Any]:
    """People who submitted to the organisation's micro-credentials: it holds their evidence."""
    return select(Submission.earner_id).where(Submission.organisation_id == organisation_id)
