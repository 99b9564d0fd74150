"""Demo step: badges for the demo earner — one valid, one revoked, one expired — whose URLs `flask demo`
prints last, each with its expected status (DESIGN.md "Public URLs")."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from badges import services
from badges.models import Badge, BadgeSource
from core import clock
from core.db import db
from core.demo import DemoContext, demo_step
from credentials.models import CredentialVersion, VersionState


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
    now = clock.now()
    # (which version, days ago awarded, then revoke?) — the third is awarded long enough ago to have expired.
    plans = [(0, 20, False), (1, 10, True), (2, None, False)]
    for position, days_ago, revoke in plans:
        if position >= len(versions):
            break
        version = versions[position]
        if days_ago is None:
            days_ago = (version.validity_days or 365) + 30
        badge = services.issue(
            version=version,
            recipient=services.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
            results=[],
            evidence=[],
            awarded_at=now - timedelta(days=days_ago),
            source=BadgeSource.IMPORT,
            issue_key=f"demo:{version.id}:{earner.id}",
        )
        if revoke and badge.revoked_at is None:
            services.revoke(actor=admin, badge_id=badge.id, reason="Demo: awarded in error.")
    base = current_app.config["BASE_URL"]
    badges = db.session.scalars(
        select(Badge).where(Badge.organisation_id == ctx.organisation.id).order_by(Badge.issued_at, Badge.id)
    )
    for badge in badges:
        ctx.closing.append(f"{base}/badges/{badge.id} {badge.status()}")
