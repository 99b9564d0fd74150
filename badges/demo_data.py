"""Demo step: badges for the demo earner — one valid, one revoked, one expired, and one near expiry with a
renewal by evidence in review — whose URLs `flask demo` prints last, each with its expected status (DESIGN.md
"Public URLs")."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from badges import consent, issuing, renewal, revocation, signing
from badges.models import Acceptance, Badge, BadgeSource
from core import clock
from core.db import db
from core.demo import DemoContext, demo_step
from core.models import User
from credentials.authoring.models import CredentialVersion, VersionState
from credentials.portfolios import services as portfolios


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
    renewable = next((v for v in versions if v.requires_renewal), None)
    if renewable is not None:
        _renewal_in_review(renewable, earner, now)
    base = current_app.config["BASE_URL"]
    badges = db.session.scalars(
        select(Badge).where(Badge.organisation_id == ctx.organisation.id).order_by(Badge.issued_at, Badge.id)
    )
    for badge in badges:
        ctx.closing.append(f"{base}/badges/{badge.id} {badge.status()}")


def _renewal_in_review(version: CredentialVersion, earner: User, now: datetime) -> None:
    """A badge near expiry (awarded 23 months ago, renewed every 24) whose earner's renewal is in review."""
    awarded = now - timedelta(days=700)
    badge = issuing.issue(
        version=version,
        recipient=signing.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
        results=[],
        evidence=[],
        awarded_at=awarded,
        source=BadgeSource.IMPORT,
        issue_key=f"demo:renewing:{version.id}:{earner.id}",
    )
    if badge.acceptance == Acceptance.PENDING.value:
        consent.accept(actor=earner, badge_id=badge.id)
    if renewal.state(badge).state != "renewable":
        return  # already renewing (a second demo run), or the earner has another submission open
    submission, _new = renewal.start(actor=earner, badge_id=badge.id)
    text = (
        "This year I rebuilt my unit openers around a student interest survey and local community stories. "
        "Two changes stood out: students chose among three texts with different cultural contexts, and I "
        "invited families to share one story each. Participation in discussion rose, especially among students "
        "who rarely spoke before. I keep adjusting the survey each term and now share it with my grade team. "
    ) * 3
    key = version.renewal_requirements[0].key
    portfolios.save_draft(actor=earner, submission_id=submission.id, answers={key: text})
    portfolios.submit(actor=earner, submission_id=submission.id)
