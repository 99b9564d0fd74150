"""Demo step: badges for the demo earner — one valid, one revoked, one expired — whose URLs `flask demo`
prints last, each with its expected status (DESIGN.md "Public URLs")."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from badges import consent, issuing, revocation, signing
from badges.models import Acceptance, Badge, BadgeSource
from core import clock
from core.db import db
from core.demo import DemoContext, demo_step
from credentials.authoring.models import CredentialVersion, VersionState


@demo_step(order=50)
def _badges(ctx: DemoContext) -> None:
    assert ctx.organisation is not None
    earner, admin = ctx.users["earner"], ctx.users["orgadmin"]
    versions = list(
        db.session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.organisation_id == ctx.organisation.id,
                CredentialVersion.state == VersionState.PUBLISHED.value,
            )
            .order_by(CredentialVersion.created_at, CredentialVersion.title)
        )
    )
    if not versions:
        return
    now = clock.now()
    expiring = next((v for v in versions[2:] + versions if v.validity_days), versions[-1])
    # (label, version, days ago awarded, revoke?): the last is awarded long enough ago to have expired.
    plans = [
        ("valid", versions[0], 20, False),
        ("revoked", versions[min(1, len(versions) - 1)], 10, True),
        ("expired", expiring, (expiring.validity_days or 0) + 30, False),
    ]
    for label, version, days_ago, revoke in plans:
        badge = issuing.issue(
            version=version,
            recipient=signing.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
            results=[],
            evidence=[],
            awarded_at=now - timedelta(days=days_ago),
            source=BadgeSource.IMPORT,
            issue_key=f"demo:{label}:{version.id}:{earner.id}",
        )
        if badge.acceptance == Acceptance.PENDING.value:  # an import to a non-member: the demo earner said yes
            consent.accept(actor=earner, badge_id=badge.id)
        if revoke and badge.revoked_at is None:
            revocation.revoke(actor=admin, badge_id=badge.id, reason="Demo: awarded in error.")
    base = current_app.config["BASE_URL"]
    badges = db.session.scalars(
        select(Badge).where(Badge.organisation_id == ctx.organisation.id).order_by(Badge.issued_at, Badge.id)
    )
    for badge in badges:
        ctx.closing.append(f"{base}/badges/{badge.id} {badge.status()}")
