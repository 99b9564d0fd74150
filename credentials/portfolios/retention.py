"""Evidence retention: an organisation keeps evidence files for ``evidence_retention_days`` after a submission's
decision, then the ``evidence.purge`` job (``TASK_SCHEDULE``, or ``flask storage purge-evidence``) deletes them.

What goes: the submission's evidence file rows and, once no other row uses the same bytes, the stored files
(local or S3), originals and assessors' copies alike. What stays: the submission, its answers in text, its
decision and feedback, and any badge (signed credentials cannot change; the badge page then shows no files).
Each purged submission is marked (``evidence_purged_at``, shown to the earner) and audited with what was deleted.

Decided means passed, not yet, or withdrawn (``decided_at`` or ``withdrawn_at``); a submission under appeal
or still in review keeps its files whatever its age. Safe to run twice at once: a submission is purged in one
transaction that first marks it with a conditional UPDATE, so a second run skips it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy import select

from core import audit, clock, storage, tasks
from core.db import db, unit_of_work
from core.models import Organisation
from credentials.portfolios.models import Submission, SubmissionState

log = logging.getLogger("microcred.retention")

CLOSED = (SubmissionState.PASSED.value, SubmissionState.NOT_YET.value, SubmissionState.WITHDRAWN.value)
BATCH = 200


def _expired(organisation: Organisation, now: datetime) -> list[uuid.UUID]:
    assert organisation.evidence_retention_days is not None
    cutoff = now - timedelta(days=organisation.evidence_retention_days)
    closed_at = sa.func.coalesce(Submission.decided_at, Submission.withdrawn_at)
    return list(
        db.session.scalars(
            select(Submission.id)
            .where(
                Submission.organisation_id == organisation.id,
                Submission.state.in_(CLOSED),
                Submission.evidence_purged_at.is_(None),
                closed_at.is_not(None),
                closed_at < cutoff,
                Submission.files.any(),
            )
            .order_by(closed_at)
            .limit(BATCH)
        )
    )


def _purge(submission_id: uuid.UUID, now: datetime) -> dict[str, Any] | None:
    """Delete one submission's evidence files; None when another run took it first."""
    taken = db.session.execute(
        sa.update(Submission)
        .where(Submission.id == submission_id, Submission.evidence_purged_at.is_(None))
        .values(evidence_purged_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return None
    submission = db.session.get(Submission, submission_id)
    assert submission is not None
    db.session.refresh(submission)
    digests: set[str] = set()
    files = []
    for file in list(submission.files):
        digests |= {file.sha256, *([file.blind_sha256] if file.blind_sha256 else [])}
        files.append({"id": str(file.id), "size": file.size, "media_type": file.media_type})
        submission.files.remove(file)
    db.session.flush()
    deleted = storage.delete_unreferenced(digests)
    audit.record(
        actor=None,
        action="evidence.purged",
        obj=submission,
        organisation_id=submission.organisation_id,
        after={"files": files, "stored_files_deleted": deleted, "reference": submission.reference},
    )
    return {"submission": submission.reference, "files": len(files), "stored_files_deleted": deleted}


def purge_expired_evidence(*, now: datetime | None = None, dry_run: bool = False) -> list[dict[str, Any]]:
    """Delete the evidence past every organisation's retention period; what was deleted (or would be)."""
    moment = now or clock.now()
    done: list[dict[str, Any]] = []
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.evidence_retention_days.is_not(None))
    ).all()
    for organisation in organisations:
        for submission_id in _expired(organisation, moment):
            if dry_run:
                submission = db.session.get(Submission, submission_id)
                assert submission is not None
                done.append({"submission": submission.reference, "files": len(submission.files)})
                continue
            with unit_of_work():
                purged = _purge(submission_id, moment)
            if purged is not None:
                done.append(purged)
    return done


@tasks.job("evidence.purge")
def purge_job() -> int:
    """The scheduled purge: how many submissions' evidence it deleted (each logged and audited)."""
    done = purge_expired_evidence()
    for item in done:
        log.info("evidence of %s deleted: %d file(s)", item["submission"], item["files"])
    return len(done)


@click.command("purge-evidence")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="List what would be deleted, delete nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete evidence past each organisation's retention period (what the evidence.purge job does)."""
    done = purge_expired_evidence(dry_run=dry_run)
    for item in done:
        click.echo(f"{item['submission']}: {item['files']} file(s)")
    click.echo(f"{'Would delete' if dry_run else 'Deleted'} the evidence of {len(done)} submission(s).", err=True)
