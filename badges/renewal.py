"""Renewing a badge, two ways, each at most once per badge (``badges.renewed_from_id`` is unique):

- **by evidence** (the workflow): a badge of a version that requires renewal is valid for its renewal period; from
  ``RENEWAL_INVITATION_DAYS`` before ``validUntil`` (the invitation, ``badges.renewal_invitations``) its earner
  starts a renewal submission (kind "renewal") against the version's lighter renewal requirements and rubric. It
  goes through the same review queue; a pass issues a new badge linked to the old one (``issuing``), which is not
  revoked: it simply lapses at its own ``validUntil``;
- **by an org admin** (``renew``): the same achievement, subject and results re-issued under new dates.

``state`` says where a badge stands (renewable, a renewal draft or in review, renewed) for the pages and the API.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from badges import issuers
from badges.access import _organisation
from badges.issuing import get_badge
from badges.models import Acceptance, Badge, BadgeSource
from badges.signing import Recipient, _existing, _sign_and_store, _validity
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import Conflict, NotFound
from core.models import User
from credentials.authoring.models import CredentialVersion, VersionState
from credentials.portfolios import services as portfolios
from credentials.portfolios.models import OPEN_SUBMISSION_STATES, Submission, SubmissionState

IN_REVIEW_STATES = (SubmissionState.SUBMITTED.value, SubmissionState.IN_REVIEW.value)


@dataclass(frozen=True)
class RenewalState:
    """Where a badge stands on renewal. ``state``: ``renewed`` (``renewed_by`` renews it), ``in_review`` or
    ``draft`` (the earner's open renewal ``submission_id``), ``renewable`` (it may be renewed now), ``not_yet``
    (renewal opens at ``opens_at``), or None (it is not renewed by evidence)."""

    state: str | None
    renewed_by: Badge | None = None
    renews: Badge | None = None
    submission_id: uuid.UUID | None = None
    opens_at: datetime | None = None


def renewal_version(badge: Badge) -> CredentialVersion | None:
    """The version a renewal of ``badge`` answers: its micro-credential's published version, if that requires
    renewal (a version published since the badge carries the current renewal requirements)."""
    if badge.version_id is None or badge.valid_until is None:
        return None
    version = db.session.get(CredentialVersion, badge.version_id)
    if version is None:
        return None
    current = db.session.scalar(
        select(CredentialVersion).where(
            CredentialVersion.micro_credential_id == version.micro_credential_id,
            CredentialVersion.state == VersionState.PUBLISHED.value,
        )
    )
    return current if current is not None and current.requires_renewal else None


def opens_at(badge: Badge) -> datetime | None:
    """When its earner may start renewing: ``RENEWAL_INVITATION_DAYS`` before ``valid_until``."""
    if badge.valid_until is None:
        return None
    return badge.valid_until - timedelta(days=current_app.config["RENEWAL_INVITATION_DAYS"])


def renewed_by(badge: Badge) -> Badge | None:
    return db.session.scalar(select(Badge).where(Badge.renewed_from_id == badge.id))


def _renewal_submission(badge: Badge, states: tuple[str, ...]) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .where(Submission.renews_badge_id == badge.id, Submission.state.in_(states))
        .order_by(Submission.created_at.desc())
        .limit(1)
    )


def state(badge: Badge, *, now: datetime | None = None, public: bool = False) -> RenewalState:
    """Where ``badge`` stands on renewal (see ``RenewalState``); reads only. ``public``: only what its public page
    shows (the chain, and a renewal in review), not whether its earner may start one."""
    renews = db.session.get(Badge, badge.renewed_from_id) if badge.renewed_from_id else None
    newer = renewed_by(badge)
    if newer is not None:
        return RenewalState("renewed", renewed_by=newer, renews=renews)
    open_ = _renewal_submission(badge, OPEN_SUBMISSION_STATES)
    if open_ is not None:
        name = "in_review" if open_.state in IN_REVIEW_STATES else "draft"
        if public and name == "draft":
            return RenewalState(None, renews=renews)
        return RenewalState(name, renews=renews, submission_id=None if public else open_.id)
    if public:
        return RenewalState(None, renews=renews)
    if badge.revoked_at is not None or badge.suspended_at is not None or badge.earner_id is None:
        return RenewalState(None, renews=renews)
    if badge.acceptance == Acceptance.DECLINED.value or renewal_version(badge) is None:
        return RenewalState(None, renews=renews)
    start = opens_at(badge)
    if start is not None and start > (now or clock.now()):
        return RenewalState("not_yet", renews=renews, opens_at=start)
    return RenewalState("renewable", renews=renews)


def check_mine(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """The actor's own badge; someone else's (or an unknown one) answers 404."""
    badge = db.session.get(Badge, badge_id)
    if badge is None or badge.earner_id is None or badge.earner_id != actor.id:
        raise NotFound("No such badge among yours.")
    return badge


def check_renewable(actor: User, badge_id: uuid.UUID) -> tuple[Badge, CredentialVersion]:
    """The actor's badge and the version its renewal answers, or the precise reason it cannot be renewed now.
    Someone else's badge answers 404, as an unknown one does."""
    badge = check_mine(actor=actor, badge_id=badge_id)
    if badge.revoked_at is not None:
        raise Conflict("A revoked badge cannot be renewed.")
    if badge.suspended_at is not None:
        raise Conflict("A suspended badge cannot be renewed while the suspension lasts.")
    if badge.acceptance == Acceptance.DECLINED.value:
        raise Conflict("You declined this badge; accept it before renewing it.")
    if renewed_by(badge) is not None:
        raise Conflict("This badge has already been renewed.")
    version = renewal_version(badge)
    if version is None:
        raise Conflict("This badge is not renewed by evidence: its micro-credential sets no renewal.")
    start = opens_at(badge)
    if start is not None and start > clock.now():
        days = current_app.config["RENEWAL_INVITATION_DAYS"]
        raise Conflict(f"Renewal opens on {start:%Y-%m-%d}, {days} days before the badge expires.")
    return badge, version


def start(*, actor: User, badge_id: uuid.UUID) -> tuple[Submission, bool]:
    """Start renewing the actor's badge: (the renewal draft, True when new). Asking again while a renewal of this
    badge is open gives that one back (an invitation link opened twice lands on the same draft)."""
    badge = db.session.get(Badge, badge_id)
    if badge is not None and badge.earner_id == actor.id:
        existing = _renewal_submission(badge, OPEN_SUBMISSION_STATES)
        if existing is not None:
            return existing, False
    badge, version = check_renewable(actor, badge_id)
    submission = portfolios.start_renewal(
        actor=actor, version_id=version.id, renews_badge_id=badge.id, organisation_id=badge.organisation_id
    )
    return submission, True


def _check_next_attempt(actor: User, badge_id: uuid.UUID) -> None:
    """Before another renewal attempt after "not yet" (registered with the portfolios domain)."""
    check_renewable(actor, badge_id)


def register() -> None:
    portfolios.on_renewal_check(_check_next_attempt)


def renew(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """Re-issue a badge with new dates (same achievement, subject and results); once per badge."""
    old = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", old)
    if old.revoked_at is not None:
        raise Conflict("A revoked badge cannot be renewed.")
    if old.suspended_at is not None:
        raise Conflict("A suspended badge cannot be renewed; lift the suspension first.")
    issue_key = f"renewal:{old.id}"
    if _existing(issue_key) is not None or renewed_by(old) is not None:
        raise Conflict("This badge has already been renewed.")
    if _renewal_submission(old, OPEN_SUBMISSION_STATES) is not None:
        raise Conflict("Its earner is renewing this badge by evidence; the review decides it.")
    organisation = _organisation(old.organisation_id)
    subject = old.credential["credentialSubject"]
    now = clock.now().replace(microsecond=0)
    validity = (old.valid_until - old.valid_from).days if old.valid_until else None
    identity = subject["identifier"][0] if subject.get("identifier") else None
    badge = _sign_and_store(
        organisation_id=organisation.id,
        issuer=issuers.profile_document(organisation),
        achievement=subject["achievement"],
        recipient=Recipient(email="", name=old.recipient_name, user_id=old.earner_id, did=subject.get("id")),
        results=subject.get("result", []),
        evidence=old.credential.get("evidence", []),
        awarded_at=old.awarded_at,
        valid_from=now,
        valid_until=_validity(validity, now),
        source=BadgeSource.RENEWAL,
        issue_key=issue_key,
        title=old.title,
        version_id=old.version_id,
        stack_id=old.stack_id,
        renewed_from_id=old.id,
        identity=identity,
    )
    audit.record(
        actor=actor if actor.id else None,
        action="badge.renewed",
        obj=old,
        organisation_id=old.organisation_id,
        after={"renewal": badge.id},
    )
    return badge
