"""What issuing holds about a person: their badges (the signed credentials exactly as issued, JSON and VC-JWT)
and the DID they asked to be named by. Erasure keeps every badge valid — a signed credential cannot change, and
whoever was shown it may still check it — but its page no longer shows the name or the evidence it carries;
the DID is forgotten."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select

from badges.models import Badge, EarnerDid
from core.db import db
from core.models import User
from core.privacy import Erasure, ExportPart


def _badges(person_id: uuid.UUID) -> list[Badge]:
    return list(db.session.scalars(select(Badge).where(Badge.earner_id == person_id).order_by(Badge.issued_at)))


def export(person: User) -> list[ExportPart]:
    badges = _badges(person.id)
    did = db.session.get(EarnerDid, person.id)
    documents: dict[str, bytes] = {}
    for badge in badges:
        documents[f"badges/{badge.id}.json"] = json.dumps(badge.credential, indent=2, ensure_ascii=False).encode()
        documents[f"badges/{badge.id}.jwt"] = badge.jwt.encode()
    return [
        ExportPart(
            name="badges",
            description="Your badges; each signed credential is in badges/ as JSON and as a VC-JWT",
            records=[
                {
                    "id": b.id,
                    "title": b.title,
                    "organisation": b.organisation.name,
                    "recipient_name": b.recipient_name,
                    "status": b.status(),
                    "issued_at": b.issued_at,
                    "valid_until": b.valid_until,
                    "revoked_at": b.revoked_at,
                    "revocation_reason": b.revocation_reason,
                    "credential": f"badges/{b.id}.json",
                }
                for b in badges
            ],
            documents=documents,
            objects=[b.id for b in badges],
        ),
        ExportPart(
            name="earner_did",
            description="The DID you asked your future badges to name you by",
            records=[{"did": did.did, "updated_at": did.updated_at}] if did else [],
        ),
    ]


def erase(erasure: Erasure) -> None:
    badges = _badges(erasure.person.id)
    for badge in badges:
        badge.recipient_name = ""
    erasure.objects += [b.id for b in badges]
    erasure.counts["badges_kept_without_name"] = len(badges)
    erasure.counts["earner_did"] = db.session.execute(
        delete(EarnerDid).where(EarnerDid.user_id == erasure.person.id)
    ).rowcount


def recipients_of(organisation_id: uuid.UUID) -> sa.Select[Any]:
    """People the organisation issued badges to."""
    return select(Badge.earner_id).where(Badge.organisation_id == organisation_id, Badge.earner_id.is_not(None))
