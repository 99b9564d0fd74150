"""``POST /ims/ob/v3p0/credentials`` (upsertCredential, OB 3.0 § 6.2.3) for a Host that issues its own badges.

What "upsert" means here (docs/api.md): the earner's backpack holds the badges this service issued and, beside
them, credentials from other issuers that a client brings in. A credential is accepted only when our verifier
finds it genuine (proof, schema, status) and about this earner (their DID, their account's URN, or their e-mail,
plain or hashed); it is stored as sent and keyed by its ``id``: the first time ``201``, again ``200`` (replaced).
A badge of our own is never replaced by what a client sends: its upsert answers ``200`` with the badge as we
signed it, and a credential naming one of our badge URLs that another issuer signed is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select

from badges import verifier
from badges.host.models import HostedCredential
from badges.models import Badge, EarnerDid
from badges.proofs import canonical_json
from core import audit
from core.db import db
from core.errors import Forbidden, NotFound, ValidationFailed
from core.models import User

ACCEPTED_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
# A backpack keeps what was earned, current or past; a revoked or suspended credential is not brought in.
STORABLE = {"valid", "expired"}
MAX_KEY = 500


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer(credential: dict[str, Any]) -> str:
    issuer = credential.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    return found if isinstance(found, str) else ""


def _subjects(credential: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _types(credential.get("credentialSubject")) if isinstance(s, dict)]


def about(credential: dict[str, Any], user: User) -> bool:
    """Whether the credential names ``user``: by DID or account URN, or by e-mail (plain or salted SHA-256)."""
    did = db.session.get(EarnerDid, user.id)
    ids = {f"urn:uuid:{user.id}", *([did.did] if did else [])}
    email = user.email.strip().lower()
    for subject in _subjects(credential):
        if subject.get("id") in ids:
            return True
        for identity in _types(subject.get("identifier")):
            if not isinstance(identity, dict) or identity.get("identityType") != "emailAddress":
                continue
            value, salt = identity.get("identityHash"), identity.get("salt") or ""
            if not isinstance(value, str) or not isinstance(salt, str):
                continue
            if identity.get("hashed"):
                if value.lower() == "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest():
                    return True
            elif value.strip().lower() == email:
                return True
    return False


def _own_badge(credential_id: Any, base: str) -> Badge | None:
    prefix = f"{base}/badges/"
    if not isinstance(credential_id, str) or not credential_id.startswith(prefix):
        return None
    try:
        badge_id = uuid.UUID(credential_id.removeprefix(prefix))
    except ValueError:
        return None
    return db.session.get(Badge, badge_id)


def upsert_credential(*, actor: User, value: Any, base: str) -> tuple[dict[str, Any], bool]:
    """Store (or replace) a verified credential about ``actor``; return (the credential, whether it is new)."""
    if not isinstance(value, dict | str) or (isinstance(value, str) and not value.strip()):
        raise ValidationFailed.field("body", "Send an OpenBadgeCredential as JSON, or as a compact VC-JWT.")
    try:
        report = verifier.verify(value.strip() if isinstance(value, str) else value)
    except verifier.NotACredential as exc:
        raise ValidationFailed.field("body", f"This is not a credential: {exc}") from None
    credential = report.credential
    if credential is None or not ACCEPTED_TYPES & set(_types(credential.get("type"))):
        raise ValidationFailed.field("type", "Only OpenBadgeCredentials (AchievementCredentials) are kept here.")
    if report.status == "invalid":
        failed = next((c for c in report.checks if not c["passed"] and c.get("severity") != "warning"), None)
        detail = f"{failed['step']}: {failed['detail']}" if failed else "it does not verify"
        raise ValidationFailed.field("credential", f"The credential does not verify ({detail}).")
    if report.status not in STORABLE:
        raise ValidationFailed.field("credentialStatus", f"The credential is {report.status}; it is not kept.")
    own = _own_badge(credential.get("id"), base)
    if own is not None:
        if _issuer(credential) != _issuer(own.credential):
            raise ValidationFailed.field("id", "This id is a badge of this service, but another issuer signed it.")
        if own.earner_id != actor.id:
            raise Forbidden("This badge was awarded to someone else.")
        return own.credential, False
    if not about(credential, actor):
        raise Forbidden("The credential does not name you (by your DID or your e-mail address).")
    key = credential.get("id") if isinstance(credential.get("id"), str) else None
    key = key or "sha256:" + hashlib.sha256(canonical_json(credential).encode()).hexdigest()
    if len(key) > MAX_KEY or len(_issuer(credential)) > MAX_KEY:
        raise ValidationFailed.field("id", f"The credential's id and issuer must be at most {MAX_KEY} characters.")
    row = db.session.scalar(
        select(HostedCredential).where(HostedCredential.user_id == actor.id, HostedCredential.credential_key == key)
    )
    created = row is None
    if row is None:
        row = HostedCredential(user_id=actor.id, credential_key=key)
        db.session.add(row)
    row.issuer_id = _issuer(credential)
    row.credential = credential
    row.jwt = value.strip() if isinstance(value, str) else None
    row.status = report.status
    db.session.flush()
    audit.record(
        actor=actor,
        action="credential.hosted" if created else "credential.rehosted",
        obj=row,
        after={"credential": key, "issuer": row.issuer_id, "status": row.status},
    )
    return credential, created


def list_hosted(*, actor: User) -> list[HostedCredential]:
    """The credentials of other issuers in the actor's backpack, newest first."""
    stmt = select(HostedCredential).where(HostedCredential.user_id == actor.id)
    return list(db.session.scalars(stmt.order_by(HostedCredential.created_at.desc(), HostedCredential.id)))


def remove_hosted(*, actor: User, hosted_id: uuid.UUID) -> HostedCredential:
    """The earner takes a credential an application added out of their backpack (another's answers 404)."""
    row = db.session.get(HostedCredential, hosted_id)
    if row is None or row.user_id != actor.id:
        raise NotFound("No such credential in your backpack.")
    db.session.delete(row)
    audit.record(actor=actor, action="credential.unhosted", obj=row, before={"credential": row.credential_key})
    return row


def display(row: HostedCredential) -> dict[str, Any]:
    """What the earner's page shows of a hosted credential: its name, issuer, status and when it came."""
    credential = row.credential
    issuer = credential.get("issuer")
    subject = (_subjects(credential) or [{}])[0]
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    name = credential.get("name") or achievement.get("name") or row.credential_key
    return {
        "id": row.id,
        "name": name if isinstance(name, str) else row.credential_key,
        "issuer": (issuer.get("name") if isinstance(issuer, dict) else None) or row.issuer_id,
        "status": row.status,
        "added": row.created_at.strftime("%Y-%m-%d"),
    }
