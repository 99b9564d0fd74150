"""Renewing a badge: the same achievement, subject and results under new dates, once per badge, by the
issuing organisation's admins (the ``badge.revoke`` rule)."""

from __future__ import annotations

import uuid

from badges import issuers
from badges.access import _organisation
from badges.issuing import get_badge
from badges.models import Badge, BadgeSource
from badges.signing import Recipient, _existing, _sign_and_store, _validity
from core import audit, clock
from core.authz import authorize
from core.errors import Conflict
from core.models import User


def renew(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """Re-issue a badge with new dates (same achievement, subject and results); once per badge."""
    old = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", old)
    if old.revoked_at is not None:
        raise Conflict("A revoked badge cannot be renewed.")
    if old.suspended_at is not None:
        raise Conflict("A suspended badge cannot be renewed; lift the suspension first.")
    issue_key = f"renewal:{old.id}"
    if _existing(issue_key) is not None:
        raise Conflict("This badge has already been renewed.")
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
