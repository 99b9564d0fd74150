"""Attempts at a micro-credential: how many an earner has used and has left (award attempts, and each badge's
renewal attempts apart), the pseudonymous reference of a new one, and prefilling it from the last "not yet"."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import func, select

from core.db import db
from credentials.authoring.models import CredentialVersion, EvidenceKind, Purpose
from credentials.portfolios.models import Answer, EvidenceFile, Submission, SubmissionState

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by people


def attempts_left(submission_or_version: Submission | CredentialVersion, earner_id: uuid.UUID) -> int:
    """How many more attempts the earner may start (withdrawn ones do not count): at the credential, or for a
    renewal submission at renewing that one badge (each badge's renewal has ``max_attempts`` of its own)."""
    version = getattr(submission_or_version, "version", submission_or_version)
    renews = submission_or_version.renews_badge_id if isinstance(submission_or_version, Submission) else None
    return max(0, version.max_attempts - _attempts_used(version.micro_credential_id, earner_id, renews))


def _attempts_used(micro_credential_id: uuid.UUID, earner_id: uuid.UUID, renews_badge_id: uuid.UUID | None) -> int:
    stmt = (
        select(func.count())
        .select_from(Submission)
        .where(
            Submission.micro_credential_id == micro_credential_id,
            Submission.earner_id == earner_id,
            Submission.state != SubmissionState.WITHDRAWN.value,
        )
    )
    if renews_badge_id is None:
        stmt = stmt.where(Submission.kind == Purpose.AWARD.value)
    else:
        stmt = stmt.where(Submission.kind == Purpose.RENEWAL.value, Submission.renews_badge_id == renews_badge_id)
    return db.session.scalar(stmt) or 0


def _new_reference() -> str:
    """A random pseudonym (not derived from any id), so an assessor learns nothing from it."""
    while True:
        reference = "S-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
        if db.session.scalar(select(Submission.id).where(Submission.reference == reference)) is None:
            return reference


def _attempts(micro_credential_id: uuid.UUID, earner_id: uuid.UUID) -> list[Submission]:
    return list(
        db.session.scalars(
            select(Submission)
            .where(Submission.micro_credential_id == micro_credential_id, Submission.earner_id == earner_id)
            .order_by(Submission.attempt)
        )
    )


def _prefill(submission: Submission, previous: Submission, version: CredentialVersion) -> None:
    """Copy answers and file rows for requirements the new version still has; files share their stored bytes."""
    kinds = {r.key: r.evidence_kind for r in submission.requirements}
    for answer in previous.answers:
        if answer.requirement_key in kinds:
            submission.answers.append(Answer(requirement_key=answer.requirement_key, text=answer.text, url=answer.url))
    for file in previous.files:
        if kinds.get(file.requirement_key) == EvidenceKind.FILE.value:
            submission.files.append(
                EvidenceFile(
                    requirement_key=file.requirement_key,
                    sha256=file.sha256,
                    size=file.size,
                    media_type=file.media_type,
                    filename=file.filename,
                    blind_sha256=file.blind_sha256,
                    blind_size=file.blind_size,
                    metadata_status=file.metadata_status,
                    metadata_removed=file.metadata_removed,
                    metadata_problem=file.metadata_problem,
                )
            )
