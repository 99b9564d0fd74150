"""Evidence files and links: where they are checked (size, type sniffed from content against the requirement's
allowed types, executables refused, links limited to http/https) and stored (content-addressed in
``core.storage`` before any row points at them), downloaded and removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from core import audit, metadata, privacy, storage
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.models import AuditEvent, Role, User
from credentials.authoring.models import FILE_TYPES, EvidenceKind, Requirement
from credentials.portfolios import namecheck
from credentials.portfolios.models import EvidenceFile, Submission
from credentials.portfolios.services import editable_submission, load_submission, requirement_of, touch


def evidence_file(*, actor: User | None, submission_id: uuid.UUID, file_id: uuid.UUID) -> EvidenceFile:
    """One evidence file of a submission the actor may see."""
    submission = load_submission(submission_id, actor)
    file = db.session.get(EvidenceFile, file_id)
    if file is None or file.submission_id != submission.id:
        raise NotFound("No such file.")
    return file


def open_file(*, actor: User, submission_id: uuid.UUID, file_id: uuid.UUID) -> EvidenceFile:
    """An evidence file to download; opened by anyone but its earner, the opening is audited."""
    file = evidence_file(actor=actor, submission_id=submission_id, file_id=file_id)
    record_opening(actor, file, copy="original")
    return file


def record_opening(actor: User, file: EvidenceFile, *, copy: str, viewer: str | None = None) -> None:
    """Audit that someone other than the earner opened ``file`` (who, which file, when). ``viewer`` is what the
    earner is told of them: ``assessor`` (anonymous: blind review), else their admin role. ``copy`` says
    whether they got the original or the assessor's copy without metadata."""
    submission = file.submission
    if actor.id == submission.earner_id:
        return
    if viewer is None:  # only the earner and admins pass ``load_submission``
        viewer = "org_admin" if Role.ORG_ADMIN in actor.roles_in(submission.organisation_id) else "platform_admin"
    audit.record(
        actor=actor,
        action=OPENED,
        obj=submission,
        organisation_id=submission.organisation_id,
        after={"file_id": file.id, "requirement_key": file.requirement_key, "copy": copy, "viewer": viewer},
    )


OPENED = "evidence.opened"


@dataclass
class Opening:
    """One time someone other than the earner opened one of their files, as the earner is told of it."""

    occurred_at: datetime
    who: str
    file: str
    copy: str


def openings(*, actor: User, submission_id: uuid.UUID) -> list[Opening]:
    """Who other than the earner opened a submission's evidence, newest first (at most 500), as told to the earner:
    assessors unnamed, the viewer as "you"."""
    submission = load_submission(submission_id, actor)
    names = {f.id: f.filename for f in submission.files}
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "Submission",
            AuditEvent.object_id == str(submission.id),
            AuditEvent.action == OPENED,
        )
        .order_by(AuditEvent.occurred_at.desc())
        .limit(500)
    )
    out = []
    for event in events:
        after = event.after or {}
        file_id = after.get("file_id")
        name = next((n for i, n in names.items() if str(i) == file_id), "a file since removed")
        out.append(
            Opening(
                occurred_at=event.occurred_at,
                who=privacy.viewer_label(event, actor.id),
                file=name,
                copy="the copy without hidden details" if after.get("copy") == "assessor_copy" else "the original",
            )
        )
    return out


@dataclass
class IncomingFile:
    """An uploaded file as the edge received it: a readable stream and the name the client gave."""

    stream: IO[bytes]
    filename: str | None


def add_files(
    *,
    actor: User,
    submission_id: uuid.UUID,
    requirement_key: str,
    files: Iterable[IncomingFile],
    expected_version: int | None = None,
) -> list[EvidenceFile]:
    """Store files answering a file requirement: all or none. Limits: the requirement's ``max_files`` and
    allowed types; the per-file, per-submission size and per-submission count settings."""
    submission = editable_submission(actor, submission_id, expected_version)
    requirement = requirement_of(submission, requirement_key, "requirement_key")
    if requirement.evidence_kind != EvidenceKind.FILE.value:
        raise ValidationFailed.field("requirement_key", "This requirement is not answered with files.")
    incoming = list(files)
    if not incoming:
        raise ValidationFailed.field("file", "Choose a file to upload.")
    config = current_app.config
    have = [f for f in submission.files if f.requirement_key == requirement_key]
    if requirement.max_files is not None and len(have) + len(incoming) > requirement.max_files:
        most, room = requirement.max_files, requirement.max_files - len(have)
        fits = f"{room} more fits" if room == 1 else f"{room} more fit" if room else "no more fit"
        raise ValidationFailed.field(
            "file", f"This requirement takes at most {most} file{'s' if most != 1 else ''}: {fits}."
        )
    if len(submission.files) + len(incoming) > config["EVIDENCE_MAX_FILES"]:
        raise ValidationFailed.field(
            "file", f"A submission may hold at most {config['EVIDENCE_MAX_FILES']} files in all."
        )
    budget = config["EVIDENCE_MAX_SUBMISSION_SIZE"] - sum(f.size for f in submission.files)
    names = [storage.clean_filename(f.filename) for f in incoming]
    allowed = _allowed_media_types(requirement)
    store = storage.backend()
    with ExitStack() as stack:
        # Stage and check every file before keeping any, so a bad second file leaves no first file behind.
        staged: list[tuple[storage.Upload, str, str]] = []
        for item, name in zip(incoming, names, strict=True):
            limit = min(config["EVIDENCE_MAX_FILE_SIZE"], budget)
            if limit <= 0:
                raise storage.FileTooLarge("This submission has reached its total size limit.")
            try:
                upload = stack.enter_context(storage.receive(item.stream, max_size=limit, store=store))
            except storage.FileTooLarge:
                if limit == config["EVIDENCE_MAX_FILE_SIZE"]:
                    raise
                total = config["EVIDENCE_MAX_SUBMISSION_SIZE"]
                raise storage.FileTooLarge(
                    f"This would take the submission's files over their total limit of {total:,} bytes.", limit=total
                ) from None
            budget -= upload.size
            staged.append((upload, name, _check_type(upload.media_type, name, allowed, requirement)))
        # The blind assessor's copies, made while the originals are still staged.
        cleaned = [_cleaned_copy(stack, upload.path, media_type) for upload, _, media_type in staged]
        # Does the text the assessor will read name the earner? (Read before the originals move into the store.)
        found = [
            namecheck.find_identity(copy.path or upload.path, media_type, name=actor.name, email=actor.email)
            for (upload, _, media_type), copy in zip(staged, cleaned, strict=True)
        ]
        created = []
        for (upload, name, media_type), copy, identity in zip(staged, cleaned, found, strict=True):
            storage.keep(upload, store)
            file = EvidenceFile(
                requirement_key=requirement_key,
                sha256=upload.sha256,
                size=upload.size,
                media_type=media_type,
                filename=name,
            )
            _record_copy(file, copy, store)
            file.identity_found = identity
            submission.files.append(file)
            created.append(file)
    touch(submission)
    audit.record(
        actor=actor,
        action="submission.files_added",
        obj=submission,
        organisation_id=submission.organisation_id,
        after={"requirement_key": requirement_key, "files": [{"sha256": f.sha256, "size": f.size} for f in created]},
    )
    return created


def _cleaned_copy(stack: ExitStack, path: Path, media_type: str) -> metadata.Cleaned:
    cleaned = metadata.clean(path, media_type)
    if cleaned.path is not None:
        stack.callback(cleaned.path.unlink, missing_ok=True)  # gone by the end, kept or not
    return cleaned


def _record_copy(file: EvidenceFile, cleaned: metadata.Cleaned, store: storage.Backend) -> None:
    """Keep the cleaned bytes (content-addressed like any file) and note on the row what the assessor gets."""
    file.metadata_status = cleaned.status.value
    file.metadata_removed = cleaned.removed
    file.metadata_problem = cleaned.problem[:300] or None
    file.blind_sha256 = file.blind_size = None
    if cleaned.path is not None:
        file.blind_sha256, file.blind_size = storage.keep_path(cleaned.path, store)


def ensure_blind_copy(file: EvidenceFile) -> EvidenceFile:
    """Make the assessor's copy of a file stored before copies were made (once; later calls do nothing)."""
    if file.metadata_status is not None:
        return file
    store = storage.backend()
    with ExitStack() as stack:
        source = stack.enter_context(store.open(file.sha256))
        upload = stack.enter_context(storage.receive(source, max_size=max(file.size, 1), store=store))
        _record_copy(file, _cleaned_copy(stack, upload.path, file.media_type), store)
    db.session.flush()
    return file


def blind_copy_of(*, actor: User, submission_id: uuid.UUID, file_id: uuid.UUID) -> EvidenceFile:
    """One of the earner's files, its assessor's copy made if it was not yet ("what the assessor will see")."""
    file = ensure_blind_copy(evidence_file(actor=actor, submission_id=submission_id, file_id=file_id))
    record_opening(actor, file, copy="assessor_copy")
    return file


def assessor_copy_name(file: EvidenceFile) -> str:
    return storage.clean_filename(f"assessor-copy-{file.filename}")


def _allowed_media_types(requirement: Requirement) -> dict[str, str]:
    """Media type → short name for the requirement's allowed types (all FILE_TYPES when it names none)."""
    names = requirement.allowed_file_types or list(FILE_TYPES)
    return {media: name for name in names for media in FILE_TYPES.get(name, ())}


# What to tell an earner whose file can run code, in plain words and with what to upload instead.
REFUSED = {
    storage.EXECUTABLE: "“{name}” is a program (an executable file). Programs cannot be evidence: upload a "
    "document, an image or a recording instead.",
    storage.HTML: "“{name}” is a web page (HTML), which can run scripts, so it cannot be uploaded. Save it as a "
    "PDF and upload that instead.",
    storage.SVG: "“{name}” is an SVG image, which can hold scripts, so it cannot be uploaded. Export it as a PNG "
    "and upload that instead.",
}


def _check_type(sniffed: str, filename: str, allowed: dict[str, str], requirement: Requirement) -> str:
    """The media type to record, or 422 when the content is not one the requirement allows."""
    if sniffed in storage.DANGEROUS:
        message = REFUSED.get(sniffed, "“{name}” cannot be accepted.").format(name=filename)
        raise ValidationFailed.field("file", message)
    if sniffed == "text/plain" and filename.lower().endswith(".csv") and "text/csv" in allowed:
        return "text/csv"  # CSV is plain text; its name says which the earner meant
    if sniffed in allowed:
        return sniffed
    if sniffed == "text/plain" and "text/csv" in allowed:
        return "text/csv"
    kinds = ", ".join(sorted(set(allowed.values())))
    raise ValidationFailed.field(
        "file", f"“{filename}” is not an allowed type: this requirement takes {kinds.upper()} files."
    )


def remove_file(
    *, actor: User, submission_id: uuid.UUID, file_id: uuid.UUID, expected_version: int | None = None
) -> Submission:
    """Drop a file from a draft (its bytes stay while any other row uses them; gc removes them after)."""
    submission = editable_submission(actor, submission_id, expected_version)
    file = next((f for f in submission.files if f.id == file_id), None)
    if file is None:
        raise NotFound("No such file.")
    submission.files.remove(file)
    touch(submission)
    return submission


def referenced_digests(digests: list[str]) -> set[str]:
    """Which of ``digests`` an evidence file row still uses (``flask storage gc`` asks before deleting)."""
    originals = select(EvidenceFile.sha256).where(EvidenceFile.sha256.in_(digests))
    copies = select(EvidenceFile.blind_sha256).where(EvidenceFile.blind_sha256.in_(digests))
    return set(db.session.scalars(originals.union(copies))) - {None}
