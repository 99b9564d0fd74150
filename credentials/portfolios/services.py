"""Earners' submissions: start, answer, save drafts, submit, withdraw, next attempt.

A submission moves draft → submitted → (review domain: in_review → passed | not_yet); an earner may
withdraw it until review starts. An earner holds at most one open submission per micro-credential and
at most ``max_attempts`` attempts at it; after "not yet" the next attempt starts prefilled from the last.
Drafts are saved with optimistic concurrency (``lock_version``), so two open tabs cannot overwrite each
other silently. Files and links are checked in ``portfolios.evidence``.

Services here are reused by the review domain: ``get`` returns a submission to any actor
``submission.view_evidence`` allows, and ``evidence.evidence_file`` one file for download.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit, clock
from core.authz import authorize, can, has_role, rule
from core.db import Page, db, paginate
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed, field_error
from core.models import Role, User
from credentials.authoring import offerings
from credentials.authoring.models import CredentialVersion, EvidenceKind, Purpose, Requirement, VersionState
from credentials.portfolios.attempts import _attempts, _attempts_used, _new_reference, _prefill, attempts_left
from credentials.portfolios.models import OPEN_SUBMISSION_STATES, Answer, EvidenceFile, Submission, SubmissionState

MAX_TEXT_CHARS = 200_000  # ~30,000 words; the request size limit (MAX_CONTENT_LENGTH) stops bigger bodies first


MAX_URL_CHARS = 2048


AUDIT_FIELDS = ("state", "attempt", "kind", "submitted_at", "withdrawn_at", "evidence_public")


NOT_FOUND = "No such submission."


@rule("submission.view_evidence", description="see this submission's evidence")
def _may_view_evidence(actor: User | None, submission: Submission) -> bool:
    """Its earner and the credential organisation's admins. The assessor currently assigned sees the evidence
    through the review domain's blind endpoints instead, which never show the earner's file names."""
    if actor is None:
        return False
    return actor.id == submission.earner_id or has_role(actor, submission.organisation_id, Role.ORG_ADMIN)


@rule("submission.edit", description="change this submission")
def _may_edit(actor: User | None, submission: Submission) -> bool:
    return actor is not None and actor.id == submission.earner_id


def load_submission(
    submission_id: uuid.UUID, actor: User | None, action: str = "submission.view_evidence"
) -> Submission:
    """The submission, or 404 for anyone who may not see it (so its existence does not leak)."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or not can(actor, "submission.view_evidence", submission):
        raise NotFound(NOT_FOUND)
    authorize(actor, action, submission)
    return submission


def get(*, actor: User | None, submission_id: uuid.UUID) -> Submission:
    """A submission its earner, the organisation's admins or its current assessor may see."""
    return load_submission(submission_id, actor)


def list_mine(*, actor: User, page: int, page_size: int, state: str | None = None) -> Page[Submission]:
    """The actor's own submissions, newest first."""
    stmt = select(Submission).where(Submission.earner_id == actor.id).options(selectinload(Submission.version))
    if state:
        stmt = stmt.where(Submission.state == state)
    return paginate(stmt.order_by(Submission.created_at.desc(), Submission.id), page=page, page_size=page_size)


def waiting_for_earner(*, actor: User, limit: int = 10) -> tuple[list[Submission], list[Submission]]:
    """The actor's drafts (last changed first) and their "not yet" decisions not yet followed by another
    attempt (newest first): what they still have to finish or read."""
    later = sa.orm.aliased(Submission)
    drafts = db.session.scalars(
        select(Submission)
        .where(Submission.earner_id == actor.id, Submission.state == SubmissionState.DRAFT.value)
        .options(selectinload(Submission.version))
        .order_by(Submission.updated_at.desc(), Submission.id)
        .limit(limit)
    ).all()
    feedback = db.session.scalars(
        select(Submission)
        .where(
            Submission.earner_id == actor.id,
            Submission.state == SubmissionState.NOT_YET.value,
            ~sa.exists().where(
                later.earner_id == Submission.earner_id,
                later.micro_credential_id == Submission.micro_credential_id,
                later.attempt > Submission.attempt,
                later.state != SubmissionState.WITHDRAWN.value,
            ),
        )
        .options(selectinload(Submission.version))
        .order_by(Submission.decided_at.desc(), Submission.id)
        .limit(limit)
    ).all()
    return list(drafts), list(feedback)


def history(*, actor: User | None, submission_id: uuid.UUID) -> list[Submission]:
    """Every attempt by the same earner at the same micro-credential, first to last, with their feedback."""
    submission = load_submission(submission_id, actor)
    return list(
        db.session.scalars(
            select(Submission)
            .where(
                Submission.earner_id == submission.earner_id,
                Submission.micro_credential_id == submission.micro_credential_id,
            )
            .order_by(Submission.attempt)
        )
    )


def start(*, actor: User, version_id: uuid.UUID, adoption_id: uuid.UUID | None = None) -> Submission:
    """Start a draft for a published version, or through ``adoption_id`` for the version an organisation adopted
    (the submission is then the adopter's to review and issue); prefilled from the last attempt when that one was
    "not yet"."""
    version = db.session.get(CredentialVersion, version_id)
    if version is None:
        raise NotFound("No such published micro-credential version.")
    organisation_id = offerings.organisation_for_start(version, adoption_id)
    attempts = _attempts(version.micro_credential_id, actor.id)
    if any(s.state in OPEN_SUBMISSION_STATES for s in attempts):
        raise Conflict("You already have an open submission for this micro-credential.")
    if any(s.state == SubmissionState.PASSED.value for s in attempts):
        raise Conflict("You have already earned this micro-credential.")
    if attempts_left(version, actor.id) <= 0:
        raise Conflict(f"You have used all {version.max_attempts} attempts at this micro-credential.")
    decided = [s for s in attempts if s.state == SubmissionState.NOT_YET.value]
    previous = decided[-1] if decided else None
    submission = Submission(
        reference=_new_reference(),
        organisation_id=organisation_id,
        micro_credential_id=version.micro_credential_id,
        version=version,
        version_id=version.id,
        earner_id=actor.id,
        attempt=(attempts[-1].attempt + 1) if attempts else 1,
        previous_id=previous.id if previous else None,
        state=SubmissionState.DRAFT.value,
    )
    db.session.add(submission)
    if previous is not None:
        _prefill(submission, previous, version)
    db.session.flush()
    audit.record(
        actor=actor,
        action="submission.started",
        obj=submission,
        organisation_id=submission.organisation_id,
        after=audit.snapshot(submission, AUDIT_FIELDS),
    )
    return submission


def start_renewal(
    *, actor: User, version_id: uuid.UUID, renews_badge_id: uuid.UUID, organisation_id: uuid.UUID | None = None
) -> Submission:
    """Start a renewal draft (kind "renewal") of the earner's badge ``renews_badge_id`` against the version's
    renewal requirements, reviewed by ``organisation_id`` (the badge's issuer; default the version's owner);
    prefilled from that badge's last "not yet" renewal. The badges domain checks first that the badge is the
    actor's and may be renewed (``on_renewal_check``)."""
    version = db.session.get(CredentialVersion, version_id)
    if version is None or version.state != VersionState.PUBLISHED.value or not version.requires_renewal:
        raise Conflict("This micro-credential is not renewed by evidence.")
    attempts = _attempts(version.micro_credential_id, actor.id)
    if any(s.state in OPEN_SUBMISSION_STATES for s in attempts):
        raise Conflict("You already have an open submission for this micro-credential; finish or withdraw it.")
    renewals = [s for s in attempts if s.is_renewal and s.renews_badge_id == renews_badge_id]
    if any(s.state == SubmissionState.PASSED.value for s in renewals):
        raise Conflict("This badge has already been renewed.")
    used = _attempts_used(version.micro_credential_id, actor.id, renews_badge_id)
    if used >= version.max_attempts:
        raise Conflict(f"You have used all {version.max_attempts} attempts at renewing this badge.")
    decided = [s for s in renewals if s.state == SubmissionState.NOT_YET.value]
    previous = decided[-1] if decided else None
    submission = Submission(
        reference=_new_reference(),
        organisation_id=organisation_id or version.organisation_id,
        micro_credential_id=version.micro_credential_id,
        version=version,
        version_id=version.id,
        earner_id=actor.id,
        attempt=(attempts[-1].attempt + 1) if attempts else 1,
        kind=Purpose.RENEWAL.value,
        renews_badge_id=renews_badge_id,
        previous_id=previous.id if previous else None,
        state=SubmissionState.DRAFT.value,
    )
    db.session.add(submission)
    if previous is not None:
        _prefill(submission, previous, version)
    db.session.flush()
    audit.record(
        actor=actor,
        action="submission.renewal_started",
        obj=submission,
        organisation_id=submission.organisation_id,
        after=audit.snapshot(submission, AUDIT_FIELDS) | {"renews_badge_id": str(renews_badge_id)},
    )
    return submission


# Called before a renewal attempt starts from a "not yet" one: the badges domain registers the check that the
# badge may still be renewed (not revoked, not renewed meanwhile), raising a ServiceError when not.
RenewalCheck = Callable[[User, uuid.UUID], object]


_renewal_checks: list[RenewalCheck] = []


def on_renewal_check(check: RenewalCheck) -> RenewalCheck:
    """Register ``check`` (idempotent)."""
    if check not in _renewal_checks:
        _renewal_checks.append(check)
    return check


def next_attempt(*, actor: User, submission_id: uuid.UUID) -> Submission:
    """After "not yet": a new draft for the micro-credential's current published version, prefilled."""
    submission = load_submission(submission_id, actor, "submission.edit")
    if submission.state != SubmissionState.NOT_YET.value:
        raise Conflict("A next attempt follows a “not yet” decision.")
    # Through the same organisation: an adopter's earner continues with the adopter's pinned version.
    offering = offerings.next_offering(submission.organisation_id, submission.micro_credential_id)
    if offering is not None and submission.is_renewal and submission.renews_badge_id is not None:
        for check in _renewal_checks:
            check(actor, submission.renews_badge_id)
        return start_renewal(
            actor=actor,
            version_id=offering[0].id,
            renews_badge_id=submission.renews_badge_id,
            organisation_id=submission.organisation_id,
        )
    if offering is None:
        raise Conflict("This micro-credential is no longer offered.")
    version, adoption_id = offering
    return start(actor=actor, version_id=version.id, adoption_id=adoption_id)


def editable_submission(actor: User, submission_id: uuid.UUID, expected_version: int | None) -> Submission:
    submission = load_submission(submission_id, actor, "submission.edit")
    if submission.state != SubmissionState.DRAFT.value:
        raise Conflict(f"This submission is {submission.state.replace('_', ' ')}; only drafts change.")
    PreconditionFailed.unless_current(
        expected_version,
        submission.lock_version,
        "This draft was saved elsewhere (another tab?) since you loaded it; reload to see the latest.",
    )
    return submission


def requirement_of(submission: Submission, key: str, field: str) -> Requirement:
    for requirement in submission.requirements:
        if requirement.key == key:
            return requirement
    raise ValidationFailed.field(field, f"No requirement {key!r} in this micro-credential.")


def check_link(url: str, field: str) -> str:
    """An absolute http(s) URL; anything else (javascript:, data:, file:, relative) is refused."""
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise ValidationFailed.field(field, f"A link may be at most {MAX_URL_CHARS} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValidationFailed.field(field, "A link may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValidationFailed.field(field, "This is not a valid link.") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationFailed.field(field, "A link must start with http:// or https:// and name a host.")
    return url


def save_draft(
    *,
    actor: User,
    submission_id: uuid.UUID,
    answers: dict[str, str | None] | None = None,
    expected_version: int | None = None,
) -> Submission:
    """Set the text or link answering each named requirement (an empty value clears it)."""
    submission = editable_submission(actor, submission_id, expected_version)
    current = {a.requirement_key: a for a in submission.answers}
    errors: list[dict[str, str]] = []
    for key, value in (answers or {}).items():
        field = f"answers.{key}"
        try:
            requirement = requirement_of(submission, key, field)
            if requirement.evidence_kind == EvidenceKind.FILE.value:
                raise ValidationFailed.field(field, "This requirement is answered with files; upload them.")
            value = (value or "").strip() or None
            if value is not None and requirement.evidence_kind == EvidenceKind.LINK.value:
                value = check_link(value, field)
            if value is not None and len(value) > MAX_TEXT_CHARS:
                raise ValidationFailed.field(field, f"An answer may be at most {MAX_TEXT_CHARS:,} characters.")
        except ValidationFailed as exc:
            errors.extend(exc.errors)
            continue
        answer = current.get(key)
        if answer is None:
            answer = Answer(requirement_key=key)
            submission.answers.append(answer)
        answer.text = value if requirement.evidence_kind == EvidenceKind.TEXT.value else None
        answer.url = value if requirement.evidence_kind == EvidenceKind.LINK.value else None
    if errors:
        raise ValidationFailed("Some answers could not be saved.", errors=errors)
    touch(submission)
    return submission


def set_evidence_public(
    *, actor: User, submission_id: uuid.UUID, evidence_public: bool, expected_version: int | None = None
) -> Submission:
    """The earner's choice whether the public badge page may show this evidence (any state)."""
    submission = load_submission(submission_id, actor, "submission.edit")
    PreconditionFailed.unless_current(expected_version, submission.lock_version, "This submission has changed.")
    if submission.evidence_public != evidence_public:
        _change(actor, submission, "submission.evidence_public_set", evidence_public=evidence_public)
    return submission


def _change(actor: User, submission: Submission, action: str, **values: Any) -> None:
    """Set ``values`` on the submission and record the change, before and after, in the audit log."""
    before = audit.snapshot(submission, AUDIT_FIELDS)
    for name, value in values.items():
        setattr(submission, name, value)
    db.session.flush()
    audit.record(
        actor=actor,
        action=action,
        obj=submission,
        organisation_id=submission.organisation_id,
        before=before,
        after=audit.snapshot(submission, AUDIT_FIELDS),
    )


def touch(submission: Submission) -> None:
    """Bump ``lock_version`` even when only child rows changed: the other tab must see a new version."""
    submission.updated_at = clock.now()
    db.session.flush()


def problems(submission: Submission) -> list[dict[str, str]]:
    """Everything missing or out of bounds, each with a JSON pointer into the submission (empty: ready)."""
    answers = {a.requirement_key: a for a in submission.answers}
    files: dict[str, list[EvidenceFile]] = {}
    for file in submission.files:
        files.setdefault(file.requirement_key, []).append(file)
    out: list[dict[str, str]] = []
    for requirement in submission.requirements:
        key = requirement.key
        answer = answers.get(key)
        if requirement.evidence_kind == EvidenceKind.TEXT.value:
            text = (answer.text if answer else None) or ""
            words = len(text.split())
            if not text:
                if requirement.required:
                    out.append(field_error(f"answers.{key}", f"{requirement.title}: write your answer."))
                continue
            if requirement.min_words is not None and words < requirement.min_words:
                out.append(
                    field_error(
                        f"answers.{key}", f"{requirement.title}: {words} words; at least {requirement.min_words}."
                    )
                )
            if requirement.max_words is not None and words > requirement.max_words:
                out.append(
                    field_error(
                        f"answers.{key}", f"{requirement.title}: {words} words; at most {requirement.max_words}."
                    )
                )
        elif requirement.evidence_kind == EvidenceKind.LINK.value:
            if not (answer and answer.url) and requirement.required:
                out.append(field_error(f"answers.{key}", f"{requirement.title}: add a link."))
        else:
            count = len(files.get(key, []))
            least = requirement.min_files if requirement.min_files is not None else (1 if requirement.required else 0)
            if count < least:
                more = least - count
                message = f"{requirement.title}: add at least {more} more file{'s' if more != 1 else ''}."
                out.append(field_error(f"files.{key}", message))
            if requirement.max_files is not None and count > requirement.max_files:
                out.append(
                    field_error(f"files.{key}", f"{requirement.title}: {count} files; at most {requirement.max_files}.")
                )
    return out


def submit(*, actor: User, submission_id: uuid.UUID, expected_version: int | None = None) -> Submission:
    """Hand the draft in for review; 422 listing every missing or out-of-bounds item when it is not ready."""
    submission = editable_submission(actor, submission_id, expected_version)
    found = problems(submission)
    if found:
        items = "1 item needs" if len(found) == 1 else f"{len(found)} items need"
        raise ValidationFailed(f"{items} attention before you can submit.", errors=found)
    _change(actor, submission, "submission.submitted", state=SubmissionState.SUBMITTED.value, submitted_at=clock.now())
    return submission


# Called in the withdrawing transaction. The review domain registers one that takes the submission off its
# queue (credentials cannot import assessors: domains import one way).
WithdrawalListener = Callable[[Submission], object]


_withdrawal_listeners: list[WithdrawalListener] = []


def on_withdrawn(listener: WithdrawalListener) -> WithdrawalListener:
    """Register ``listener`` (idempotent, so an app factory may run twice in one process)."""
    if listener not in _withdrawal_listeners:
        _withdrawal_listeners.append(listener)
    return listener


def withdraw(*, actor: User, submission_id: uuid.UUID, expected_version: int | None = None) -> Submission:
    """Take back a draft or a submission no assessor has started on; it no longer counts as an attempt."""
    submission = load_submission(submission_id, actor, "submission.edit")
    if submission.state not in {SubmissionState.DRAFT.value, SubmissionState.SUBMITTED.value}:
        raise Conflict("Review has started or finished; this submission can no longer be withdrawn.")
    PreconditionFailed.unless_current(expected_version, submission.lock_version, "This submission has changed.")
    _change(actor, submission, "submission.withdrawn", state=SubmissionState.WITHDRAWN.value, withdrawn_at=clock.now())
    notify_withdrawn(submission)
    return submission


def notify_withdrawn(submission: Submission) -> None:
    """Tell the listeners (the review queue) that ``submission`` was withdrawn."""
    for listener in _withdrawal_listeners:
        listener(submission)
