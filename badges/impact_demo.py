"""Demo step (`flask demo`, order 45): a year of programme history for the impact reports, so every chart has
something to draw: three schools as units of the demo district, staff who also earn placed in them with a job
role, and a few more earners (units from before unit records, as free text); first attempts started month after
month, some "not yet" and passed at the second attempt, some going on to a second micro-credential. Each pass gets
a real, signed badge. Runs before the badges step, so its badges are among the URLs `flask demo` prints last."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from badges import consent, issuing, signing
from badges.models import Acceptance, BadgeSource
from core import clock
from core.db import db
from core.demo import DEMO_DOMAIN, DemoContext, demo_step
from core.models import Membership, Organisation, User
from credentials.authoring.models import CredentialVersion, VersionState
from credentials.portfolios.models import Submission, SubmissionState

SCHOOLS = (("lincoln", "Lincoln Elementary"), ("riverside-high", "Riverside High"), ("oak", "Oak Middle"))
# (demo user, school, job role): staff of the district who also earn.
STAFF = (("author", 0, "teacher"), ("author2", 2, "coach"), ("assessor2", 1, "administrator"))
HISTORY_EARNERS = (
    ("earner13", "Omar Oduya", "Lincoln Elementary"),
    ("earner14", "Priya Patel", "Riverside High"),
    ("earner15", "Quinn Quade", "Oak Middle"),
    ("earner16", "Rosa Reyes", "Riverside High"),
    ("earner17", "Sean Shaw", "Lincoln Elementary"),
)


def _schools(organisation: Organisation) -> list[Organisation]:
    schools = []
    for slug, name in SCHOOLS:
        school = db.session.scalar(select(Organisation).where(Organisation.slug == f"{organisation.slug}-{slug}"))
        if school is None:
            school = Organisation(slug=f"{organisation.slug}-{slug}", name=name, parent_id=organisation.id)
            db.session.add(school)
        schools.append(school)
    db.session.flush()
    return schools


def _earners(ctx: DemoContext, organisation: Organisation, schools: list[Organisation]) -> list[User]:
    people = []
    for local, school, job_role in STAFF:
        user = ctx.users[local]
        for membership in db.session.scalars(
            select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == organisation.id)
        ):
            membership.unit_id, membership.job_role = schools[school].id, job_role
        people.append(user)
    for local, name, unit in HISTORY_EARNERS:
        email = f"{local}@{DEMO_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, unit=unit)  # no password: background earners only
            db.session.add(user)
        people.append(user)
    db.session.flush()
    return people


def _attempt(
    version: CredentialVersion, earner: User, attempt: int, started: datetime, days: int | None, state: str
) -> Submission:
    submitted = started + timedelta(days=3)
    submission = Submission(
        reference=f"IM{secrets.token_hex(4).upper()}",
        organisation_id=version.organisation_id,
        micro_credential_id=version.micro_credential_id,
        version_id=version.id,
        earner_id=earner.id,
        attempt=attempt,
        state=state,
        created_at=started,
        submitted_at=None if state == SubmissionState.DRAFT.value else submitted,
        decided_at=submitted + timedelta(days=days) if days is not None else None,
    )
    db.session.add(submission)
    db.session.flush()
    if state == SubmissionState.PASSED.value:
        badge = issuing.issue(
            version=version,
            recipient=signing.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
            results=[],
            evidence=[],
            awarded_at=submission.decided_at,
            source=BadgeSource.ASSESSMENT,
            issue_key=f"submission:{submission.id}",
            submission_id=submission.id,
        )
        if badge.acceptance == Acceptance.PENDING.value:
            consent.accept(actor=earner, badge_id=badge.id)
    return submission


@demo_step(order=45)
def _impact_history(ctx: DemoContext) -> None:
    organisation = ctx.organisation
    assert organisation is not None
    versions = list(
        db.session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.organisation_id == organisation.id,
                CredentialVersion.state == VersionState.PUBLISHED.value,
            )
            .order_by(CredentialVersion.title)
        )
    )
    if not versions:
        return
    schools = _schools(organisation)
    earners = _earners(ctx, organisation, schools)
    if db.session.scalar(select(Submission.id).where(Submission.reference.like("IM%")).limit(1)):
        ctx.echo("Impact history already present.")
        return
    now = clock.now()
    for i, earner in enumerate(earners):
        first, second = versions[i % len(versions)], versions[(i + 1) % len(versions)]
        started = now - timedelta(days=330 - 38 * i)
        if i % 3 == 0:  # "not yet", then passed at the second attempt
            _attempt(first, earner, 1, started, 9, SubmissionState.NOT_YET.value)
            passed = _attempt(first, earner, 2, started + timedelta(days=20), 12, SubmissionState.PASSED.value)
        else:
            passed = _attempt(first, earner, 1, started, 8 + 2 * i, SubmissionState.PASSED.value)
        if i % 2 == 0 and second.id != first.id:  # back for a second micro-credential
            later = passed.decided_at + timedelta(days=14)
            if later < now - timedelta(days=20):
                _attempt(second, earner, 1, later, 10, SubmissionState.PASSED.value)
            else:
                _attempt(second, earner, 1, min(later, now), None, SubmissionState.DRAFT.value)
    ctx.echo("Impact: three schools as units, a year of starts, passes and badges for the impact reports.")
