"""A version's changes history: every edit and review step, who made it, when, and which fields it changed,
read from the audit log (``versions.update_draft`` records the fields whose value changed)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.db import db
from core.models import AuditEvent, User
from credentials.authoring.publication import list_comments

# The audit actions of a version, as the history names them.
LABELS = {
    "credential.created": "created the draft",
    "credential.version_started": "started this version",
    "credential.draft_updated": "edited",
    "credential.review_requested": "sent it for review",
    "credential.review_withdrawn": "withdrew the review request",
    "credential.approved": "approved it",
    "credential.changes_requested": "asked for changes",
    "credential.published": "published it",
    "credential.retired": "retired it",
    "credential.image_set": "changed the badge image",
    "credential.image_removed": "removed the badge image",
}


def list_changes(*, actor: User, version_id: uuid.UUID, limit: int = 500) -> list[dict[str, Any]]:
    """Newest first: ``at``, ``actor`` (name or None), ``action``, ``label``, ``fields`` changed, ``state`` after
    and ``approval_voided`` (an edit that sent an approved version back to review). Whoever may read the
    version's comments may read this."""
    list_comments(actor=actor, version_id=version_id)  # the same permission as the team's thread
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "CredentialVersion", AuditEvent.object_id == str(version_id))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id)
        .limit(limit)
    )
    found = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        found.append(
            {
                "at": event.occurred_at,
                "actor": event.actor.name if event.actor else None,
                "actor_id": event.actor_id,
                "action": event.action,
                "label": LABELS.get(event.action, event.action.partition(".")[2].replace("_", " ")),
                "fields": list(after.get("fields") or []),
                "state": after.get("state"),
                "approval_voided": event.action == "credential.draft_updated"
                and before.get("state") == "approved"
                and after.get("state") == "in_review",
            }
        )
    return found
