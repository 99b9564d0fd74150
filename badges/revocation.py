"""Revoking a badge: who may (the issuing organisation's admins), that a reason is given, and that the
badge's status-list bit shows it on the next fetch (``badges.status``)."""

from __future__ import annotations

import uuid

from badges.issuing import get_badge
from badges.models import Badge, StatusList
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import Conflict, ValidationFailed
from core.models import User


def revoke(*, actor: User, badge_id: uuid.UUID, reason: str) -> Badge:
    """Revoke a badge: its status-list bit is set in the same transaction, so the next fetch shows it."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    if not reason.strip():
        raise ValidationFailed.field("reason", "Give the reason for revoking.")
    if badge.revoked_at is not None:
        raise Conflict("This badge is already revoked.")
    badge.revoked_at = clock.now()
    badge.revocation_reason = reason.strip()
    badge.revoked_by_id = actor.id
    status_list = db.session.get(StatusList, badge.status_list_id, with_for_update=True)
    assert status_list is not None
    status_list.revision += 1
    db.session.flush()
    audit.record(
        actor=actor if actor.id else None,
        action="badge.revoked",
        obj=badge,
        organisation_id=badge.organisation_id,
        before={"revoked": False},
        after={"revoked": True, "reason": badge.revocation_reason},
    )
    return badge
