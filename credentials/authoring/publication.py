"""Team review and publication: asking for review, approving or asking for changes (a reviewer must be
a different author from the one who asked; for a design team's version, someone not on the team: see
``teams``), publishing an immutable version (which retires the previous one,
whose badges stay valid), retiring, and the draft's comment thread.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from core import audit, clock
from core.authz import authorize, can, has_role, rule
from core.db import db
from core.errors import Conflict
from core.models import Role, User
from credentials.authoring.models import (
    CommentKind,
    CredentialVersion,
    DraftComment,
    VersionState,
)
from credentials.authoring.teams import notify_team
from credentials.authoring.versions import AUDIT_FIELDS, check_complete, get_version


@rule("credential.retire")
def _may_retire(actor: User | None, version: CredentialVersion) -> bool:
    return has_role(actor, version, Role.AUTHOR, Role.ORG_ADMIN)


def _transition(
    actor: User,
    version: CredentialVersion,
    to: VersionState,
    action: str,
    comment: tuple[CommentKind, str | None] | None = None,
) -> CredentialVersion:
    before = audit.snapshot(version, AUDIT_FIELDS)
    version.state = to.value
    if comment is not None:
        kind, body = comment
        db.session.add(DraftComment(version_id=version.id, author_id=actor.id, kind=kind.value, body=body or ""))
    db.session.flush()
    audit.record(
        actor=actor,
        action=action,
        obj=version,
        organisation_id=version.organisation_id,
        before=before,
        after=audit.snapshot(version, AUDIT_FIELDS),
    )
    return version


def in_review_for(*, actor: User, limit: int = 10) -> list[CredentialVersion]:
    """Versions in team review or approved (not yet published) in the organisations the actor authors for,
    the longest waiting first: what the actor's team still has to review or publish."""
    organisation_ids = {m.organisation_id for m in actor.memberships if m.role == Role.AUTHOR.value}
    if not organisation_ids:
        return []
    return list(
        db.session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.organisation_id.in_(organisation_ids),
                CredentialVersion.state.in_([VersionState.IN_REVIEW.value, VersionState.APPROVED.value]),
            )
            .order_by(CredentialVersion.review_requested_at, CredentialVersion.id)
            .limit(limit)
        )
    )


def require_state(version: CredentialVersion, *states: VersionState) -> None:
    if version.state not in {s.value for s in states}:
        wanted = " or ".join(s.value.replace("_", " ") for s in states)
        raise Conflict(f"Version {version.number} is {version.state.replace('_', ' ')}, not {wanted}.")


def request_review(*, actor: User, version_id: uuid.UUID, comment: str | None = None) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    require_state(version, VersionState.DRAFT)
    check_complete(version)
    version.review_requested_by_id = actor.id
    version.review_requested_at = clock.now()
    version.changes_requested_at = None
    _transition(
        actor,
        version,
        VersionState.IN_REVIEW,
        "credential.review_requested",
        (CommentKind.REVIEW_REQUESTED, comment),
    )
    notify_team(
        actor=actor,
        version=version,
        subject=f"Sent for review: {version.title}",
        text=f"{actor.name} sent version {version.number} of {version.title} for review by someone outside the team."
        + (f"\n\n{comment}" if comment else ""),
    )
    return version


def withdraw_review(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    require_state(version, VersionState.IN_REVIEW, VersionState.APPROVED)
    version.approved_by_id = version.approved_at = None
    return _transition(actor, version, VersionState.DRAFT, "credential.review_withdrawn")


def _check_reviewer(actor: User, version: CredentialVersion) -> None:
    authorize(actor, "credential.review", version)
    require_state(version, VersionState.IN_REVIEW)
    if version.review_requested_by_id == actor.id:
        raise Conflict("A different author must review this version: you asked for the review.")


def approve(*, actor: User, version_id: uuid.UUID, comment: str | None = None) -> CredentialVersion:
    """A second author approves the version for publication."""
    version = get_version(actor=actor, version_id=version_id)
    _check_reviewer(actor, version)
    version.approved_by_id = actor.id
    version.approved_at = clock.now()
    _transition(actor, version, VersionState.APPROVED, "credential.approved", (CommentKind.APPROVED, comment))
    notify_team(
        actor=actor,
        version=version,
        subject=f"Approved: {version.title}",
        text=f"{actor.name} approved version {version.number} of {version.title}; the team can publish it now."
        + (f"\n\n{comment}" if comment else ""),
    )
    return version


def request_changes(*, actor: User, version_id: uuid.UUID, comment: str) -> CredentialVersion:
    """A second author sends the version back to draft with what to change."""
    version = get_version(actor=actor, version_id=version_id)
    _check_reviewer(actor, version)
    version.changes_requested_at = clock.now()
    _transition(
        actor,
        version,
        VersionState.DRAFT,
        "credential.changes_requested",
        (CommentKind.CHANGES_REQUESTED, comment),
    )
    notify_team(
        actor=actor,
        version=version,
        subject=f"Changes requested: {version.title}",
        text=f"{actor.name} asks for changes to version {version.number} of {version.title}:\n\n{comment}",
    )
    return version


def publish(*, actor: User, version_id: uuid.UUID) -> CredentialVersion:
    """Make an approved version public and immutable; the previous published version is retired."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.edit", version)
    if version.state in (VersionState.DRAFT.value, VersionState.IN_REVIEW.value):
        raise Conflict(
            f"Version {version.number} is {version.stage.replace('_', ' ')}: "
            + ("a reviewer outside its design team" if version.micro_credential.team_id else "another author")
            + " must approve it before it can be published."
        )
    require_state(version, VersionState.APPROVED)
    check_complete(version)
    for previous in version.micro_credential.versions:
        if previous.id != version.id and previous.state == VersionState.PUBLISHED.value:
            previous.retired_at = clock.now()
            previous.retired_reason = f"Superseded by version {version.number}."
            _transition(actor, previous, VersionState.RETIRED, "credential.retired")
    version.published_at = clock.now()
    version.published_by_id = actor.id
    return _transition(actor, version, VersionState.PUBLISHED, "credential.published")


def retire(*, actor: User, version_id: uuid.UUID, reason: str) -> CredentialVersion:
    """No new submissions; badges already issued stay valid."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.retire", version)
    require_state(version, VersionState.PUBLISHED)
    version.retired_at = clock.now()
    version.retired_reason = reason
    return _transition(actor, version, VersionState.RETIRED, "credential.retired")


def add_comment(*, actor: User, version_id: uuid.UUID, body: str) -> DraftComment:
    """A comment in the version's thread; the owning design team's other members get a mail."""
    version = get_version(actor=actor, version_id=version_id)
    authorize(actor, "credential.comment", version)
    comment = DraftComment(version_id=version.id, author_id=actor.id, kind=CommentKind.COMMENT.value, body=body)
    db.session.add(comment)
    db.session.flush()
    audit.record(actor=actor, action="credential.commented", obj=comment, organisation_id=version.organisation_id)
    notify_team(
        actor=actor,
        version=version,
        subject=f"New comment on {version.title}",
        text=f"{actor.name} commented on version {version.number} of {version.title}:\n\n{body}",
    )
    return comment


def list_comments(*, actor: User, version_id: uuid.UUID) -> list[DraftComment]:
    version = get_version(actor=actor, version_id=version_id)
    if not can(actor, "credential.comment", version):  # the team and its reviewers; else the organisation's authors
        authorize(actor, "credential.list_drafts", version)
    return list(version.comments)
