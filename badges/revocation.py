"""Revoking, suspending and reinstating a badge: who may (the issuing organisation's admins), that a reason is
given, that the badge's status-list bit shows it on the next fetch (``badges.status``), that the change is in
the audit log and that the earner is told (``badges.notices``).

Revocation is permanent and wins over a suspension. A suspension is lifted by reinstating the badge.
"""

from __future__ import annotations

import uuid

from badges import notices
from badges.issuing import get_badge
from badges.models import Badge, StatusList
from badges.status import suspension_list
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import Conflict, ValidationFailed
from core.models import User

MAX_REASON = 500


def _reason(reason: str, verb: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", f"Give the reason for {verb}.")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", f"Keep the reason to {MAX_REASON} characters.")
    return reason


CHANGES = ("revoke", "suspend", "reinstate")


def refusal(badge: Badge, change: str) -> str | None:
    """Why ``change`` (revoke, suspend, reinstate) cannot be made to ``badge`` now, or None if it can."""
    if badge.revoked_at is not None:
        return {
            "revoke": "This badge is already revoked.",
            "suspend": "This badge is revoked; a revoked badge cannot be suspended.",
            "reinstate": "This badge is revoked; revocation cannot be lifted.",
        }[change]
    if change == "suspend" and badge.suspended_at is not None:
        return "This badge is already suspended."
    if change == "reinstate" and badge.suspended_at is None:
        return "This badge is not suspended."
    return None


def _refuse(badge: Badge, change: str) -> None:
    why = refusal(badge, change)
    if why is not None:
        raise Conflict(why)


def _touch(status_list: StatusList | None) -> None:
    """Move the list's revision (under its row lock) so its signed copy is rebuilt on the next fetch."""
    assert status_list is not None
    locked = db.session.get(StatusList, status_list.id, with_for_update=True)
    assert locked is not None
    locked.revision += 1


def revoke(*, actor: User, badge_id: uuid.UUID, reason: str) -> Badge:
    """Revoke a badge: its status-list bit is set in the same transaction, so the next fetch shows it."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    reason = _reason(reason, "revoking")
    _refuse(badge, "revoke")
    return apply_revocation(badge, actor=actor, reason=reason)


def apply_revocation(badge: Badge, *, actor: User | None, reason: str, notify: bool = True) -> Badge:
    """Revoke ``badge`` once the caller has checked who may and why (``revoke``, or ``badges.misconduct`` when an
    appeal window closes with nobody acting): ``actor`` None records the service itself in the audit log."""
    badge.revoked_at = clock.now()
    badge.revocation_reason = reason
    badge.revoked_by_id = actor.id if actor is not None else None
    _touch(db.session.get(StatusList, badge.status_list_id))
    db.session.flush()
    audit.record(
        actor=actor if actor is not None and actor.id else None,
        action="badge.revoked",
        obj=badge,
        organisation_id=badge.organisation_id,
        before={"revoked": False, "suspended": badge.suspended_at is not None},
        after={"revoked": True, "reason": reason},
    )
    if notify:
        notices.status_changed(badge=badge, change="revoked", reason=reason)
    return badge


def suspend(*, actor: User, badge_id: uuid.UUID, reason: str) -> Badge:
    """Suspend a badge until reinstated: its bit in the paired suspension list is set in this transaction."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    reason = _reason(reason, "suspending")
    _refuse(badge, "suspend")
    return apply_suspension(badge, actor=actor, reason=reason)


def apply_suspension(badge: Badge, *, actor: User, reason: str, notify: bool = True) -> Badge:
    """Suspend ``badge`` once the caller has checked who may and why (``suspend``, ``badges.misconduct``)."""
    paired = suspension_list(revocation_list_id=badge.status_list_id, create=True)
    badge.suspended_at = clock.now()
    badge.suspension_reason = reason
    badge.suspended_by_id = actor.id
    _touch(paired)
    db.session.flush()
    audit.record(
        actor=actor if actor.id else None,
        action="badge.suspended",
        obj=badge,
        organisation_id=badge.organisation_id,
        before={"suspended": False},
        after={"suspended": True, "reason": reason},
    )
    if notify:
        notices.status_changed(badge=badge, change="suspended", reason=reason)
    return badge


def reinstate(*, actor: User, badge_id: uuid.UUID, reason: str) -> Badge:
    """Lift a badge's suspension (with a reason): its suspension bit is cleared in this transaction."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    reason = _reason(reason, "lifting the suspension")
    _refuse(badge, "reinstate")
    return apply_reinstatement(badge, actor=actor, reason=reason)


def apply_reinstatement(badge: Badge, *, actor: User, reason: str, notify: bool = True) -> Badge:
    """Lift ``badge``'s suspension once the caller has checked who may and why (``reinstate``, an appeal)."""
    before = {"suspended": True, "reason": badge.suspension_reason, "since": badge.suspended_at}
    badge.suspended_at = None
    badge.suspension_reason = None
    badge.suspended_by_id = None
    _touch(suspension_list(revocation_list_id=badge.status_list_id))
    db.session.flush()
    audit.record(
        actor=actor if actor.id else None,
        action="badge.reinstated",
        obj=badge,
        organisation_id=badge.organisation_id,
        before=before,
        after={"suspended": False, "reason": reason},
    )
    if notify:
        notices.status_changed(badge=badge, change="reinstated", reason=reason)
    return badge
