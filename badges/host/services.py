"""The OB 3.0 API's rules: an earner's credentials and profile as the API returns them, the earner's approvals
of clients (consent, the list under /account, revocation)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from badges.host.models import HostedCredential, OAuthApproval, OAuthClient, OAuthCode, OAuthToken
from badges.host.oauth import SCOPES, revoke_all
from badges.models import Badge, EarnerDid
from core import audit, clock
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.models import User
from core.privacy import Erasure, ExportPart

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MAX_LIMIT = 100


def list_credentials(
    *, actor: User, limit: int, offset: int, since: datetime | None
) -> tuple[list[dict[str, Any]], int]:
    """The earner's credentials and how many there are: the badges we issued, oldest first (so offsets stay put
    as new ones arrive), then those of other issuers upserted into the backpack, oldest first."""
    where = [Badge.earner_id == actor.id]
    hosted_where = [HostedCredential.user_id == actor.id]
    if since is not None:
        where.append(Badge.issued_at > since)
        hosted_where.append(HostedCredential.updated_at > since)
    own = db.session.scalar(select(func.count()).select_from(Badge).where(*where)) or 0
    hosted = db.session.scalar(select(func.count()).select_from(HostedCredential).where(*hosted_where)) or 0
    found = [
        badge.credential
        for badge in db.session.scalars(
            select(Badge).where(*where).order_by(Badge.issued_at, Badge.id).limit(limit).offset(offset)
        )
    ]
    if len(found) < limit:
        stmt = select(HostedCredential).where(*hosted_where).order_by(HostedCredential.created_at, HostedCredential.id)
        stmt = stmt.limit(limit - len(found)).offset(max(0, offset - own))
        found.extend(row.credential for row in db.session.scalars(stmt))
    return found, own + hosted


def profile_of(user: User) -> dict[str, Any]:
    """The earner's OB 3.0 Profile: their DID when they gave one, else their account's URN."""
    did = db.session.get(EarnerDid, user.id)
    return {
        "@context": [OB_CONTEXT],
        "id": did.did if did else f"urn:uuid:{user.id}",
        "type": "Profile",
        "name": user.name,
        "email": user.email,
    }


_PROFILE_FIELDS = {"@context", "id", "type", "name", "email"}


def update_profile(*, actor: User, profile: Any) -> dict[str, Any]:
    """PUT /profile: the whole Profile; only ``name`` may change here (the id and email are checked)."""
    if not isinstance(profile, dict):
        raise ValidationFailed.field("body", "Send the whole Profile as a JSON object.")
    current = profile_of(actor)
    unknown = sorted(set(profile) - _PROFILE_FIELDS)
    if unknown:
        raise ValidationFailed.field(unknown[0], "This service keeps no such property of a profile.")
    kind = profile.get("type")
    if kind != "Profile" and not (isinstance(kind, list) and "Profile" in kind):
        raise ValidationFailed.field("type", "A Profile's type is 'Profile'.")
    if "id" in profile and profile["id"] != current["id"]:
        raise ValidationFailed.field("id", "The profile's id cannot be changed.")
    if "email" in profile and profile["email"] != current["email"]:
        raise ValidationFailed.field("email", "Change your email address on the account page.")
    name = profile.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ValidationFailed.field("name", "Give a name of 1 to 200 characters.")
    if name.strip() != actor.name:
        before = actor.name
        actor.name = name.strip()
        audit.record(actor=actor, action="user.updated", obj=actor, before={"name": before}, after={"name": actor.name})
        db.session.flush()
    return profile_of(actor)


def describe_scopes(scope: str) -> list[tuple[str, str]]:
    return [(s, SCOPES[s]) for s in scope.split() if s in SCOPES]


def approve(*, actor: User, client: OAuthClient, scope: str) -> OAuthApproval:
    """Record the earner's consent to ``client`` for ``scope`` (a later consent replaces an earlier one)."""
    approval = db.session.scalar(
        select(OAuthApproval).where(OAuthApproval.user_id == actor.id, OAuthApproval.client_pk == client.id)
    )
    if approval is None:
        approval = OAuthApproval(user_id=actor.id, client_pk=client.id, scope=scope)
        db.session.add(approval)
    approval.scope = scope
    approval.approved_at = clock.now()
    approval.revoked_at = None
    db.session.flush()
    audit.record(
        actor=actor, action="oauth_client.approved", obj=approval, after={"client": client.client_name, "scope": scope}
    )
    return approval


def list_approvals(*, actor: User) -> list[OAuthApproval]:
    stmt = (
        select(OAuthApproval)
        .where(OAuthApproval.user_id == actor.id, OAuthApproval.revoked_at.is_(None))
        .order_by(OAuthApproval.approved_at.desc())
    )
    return list(db.session.scalars(stmt))


def revoke_approval(*, actor: User, approval_id: uuid.UUID) -> OAuthApproval:
    """Withdraw consent: the client's tokens for this earner stop working at once."""
    approval = db.session.get(OAuthApproval, approval_id)
    if approval is None or approval.user_id != actor.id or approval.revoked_at is not None:
        raise NotFound("No such approved application.")
    approval.revoked_at = clock.now()
    revoke_all(actor.id, approval.client)
    audit.record(
        actor=actor, action="oauth_client.revoked", obj=approval, before={"client": approval.client.client_name}
    )
    return approval


def export_personal_data(person: User) -> list[ExportPart]:
    """The applications the person allowed (and when revoked); codes and tokens are digests, nothing to give."""
    stmt = select(OAuthApproval).where(OAuthApproval.user_id == person.id).order_by(OAuthApproval.approved_at)
    return [
        ExportPart(
            name="applications",
            description="Applications you allowed to use the Open Badges API for you",
            records=[
                {
                    "application": a.client.client_name,
                    "website": a.client.client_uri,
                    "scope": a.scope.split(),
                    "approved_at": a.approved_at,
                    "revoked_at": a.revoked_at,
                }
                for a in db.session.scalars(stmt)
            ],
        ),
        ExportPart(
            name="hosted_credentials",
            description="Credentials from other issuers that an application added to your badges",
            records=[
                {"credential": row.credential, "added_at": row.created_at, "updated_at": row.updated_at}
                for row in db.session.scalars(select(HostedCredential).where(HostedCredential.user_id == person.id))
            ],
        ),
    ]


def erase_personal_data(erasure: Erasure) -> None:
    """An erased person's approvals, codes and tokens go: no application keeps a way in."""
    person_id = erasure.person.id
    db.session.execute(delete(OAuthToken).where(OAuthToken.user_id == person_id))
    erasure.counts["hosted_credentials"] = db.session.execute(
        delete(HostedCredential).where(HostedCredential.user_id == person_id)
    ).rowcount
    db.session.execute(delete(OAuthCode).where(OAuthCode.user_id == person_id))
    erasure.counts["applications"] = db.session.execute(
        delete(OAuthApproval).where(OAuthApproval.user_id == person_id)
    ).rowcount
