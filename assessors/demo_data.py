"""Demo review data (`flask demo`, order 40): qualified assessors, a calibration set, and submissions in every
state, walked through the real review services so the queue, reports and feedback look as they would live.

The submissions belong to extra demo earners (not ``earner@``), so the portfolio demo can give that account
its own submissions without colliding with the one-open-submission-per-credential rule.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select

from assessors import calibration, qualifications, queue, scoring, settings
from assessors.models import Qualification
from core import clock
from core.db import db
from core.demo import DEMO_DOMAIN, DemoContext, demo_step
from core.models import User
from credentials.authoring.models import CredentialVersion, VersionState
from credentials.portfolios.models import Answer, Submission, SubmissionState

EARNERS = (
    ("earner3", "Dana Diaz", "Lincoln Elementary"),
    ("earner4", "Felix Ford", "Lincoln Elementary"),
    ("earner5", "Gina Grant", "Riverside High"),
    ("earner6", "Hugo Hale", "Riverside High"),
    ("earner7", "Iris Ito", "Oak Middle"),
    ("earner8", "Jon Jung", "Oak Middle"),
    ("earner9", "Kim Kerr", "Oak Middle"),
    ("earner10", "Lee Lowe", "Riverside High"),
    ("earner11", "Maya Moss", "Lincoln Elementary"),
    ("earner12", "Noor Nash", "Oak Middle"),
)


def _earners() -> list[User]:
    people = []
    for local, name, unit in EARNERS:
        email = f"{local}@{DEMO_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, unit=unit)  # no password: background earners only
            db.session.add(user)
        people.append(user)
    db.session.flush()
    return people


def _submission(version: CredentialVersion, earner: User, state: str, hours_ago: float) -> Submission:
    submitted = clock.now() - timedelta(hours=hours_ago)
    submission = Submission(
        reference=f"RV{secrets.token_hex(4).upper()}",
        organisation_id=version.organisation_id,
        micro_credential_id=version.micro_credential_id,
        version_id=version.id,
        earner_id=earner.id,
        state=state,
        submitted_at=None if state == SubmissionState.DRAFT.value else submitted,
        withdrawn_at=submitted + timedelta(hours=1) if state == SubmissionState.WITHDRAWN.value else None,
    )
    db.session.add(submission)
    db.session.flush()
    for requirement in version.requirements:
        if requirement.evidence_kind == "link":
            db.session.add(
                Answer(
                    submission_id=submission.id, requirement_key=requirement.key, url="https://video.example.org/lesson"
                )
            )
        else:
            db.session.add(
                Answer(
                    submission_id=submission.id,
                    requirement_key=requirement.key,
                    text=f"My students worked through {requirement.title.lower()}; here is what I saw "
                    "and what I changed the second time I taught it.",
                )
            )
    db.session.flush()
    return submission


def _levels(version: CredentialVersion, position: int | tuple[int, ...]) -> dict[str, int]:
    """Each criterion's level: one position for all, or positions taken in turn criterion by criterion."""
    positions = (position,) if isinstance(position, int) else position
    return {c.key: min(positions[i % len(positions)], len(c.levels) - 1) for i, c in enumerate(version.criteria)}


def _scores(version: CredentialVersion, position: int | tuple[int, ...]) -> list[dict[str, Any]]:
    return [
        {"criterion_key": key, "level": level, "feedback": "Name the evidence that shows this; link it to students."}
        for key, level in _levels(version, position).items()
    ]


@demo_step(order=40)
def _review(ctx: DemoContext) -> None:
    """Assessors qualified (Sam leads), a two-anchor calibration set, and submissions in every state."""
    org = ctx.organisation
    assert org is not None
    if db.session.scalar(select(exists().where(Qualification.organisation_id == org.id))):
        ctx.echo("Review demo data already present.")
        return
    admin, author = ctx.users["orgadmin"], ctx.users["author"]
    lead, second = ctx.users["assessor"], ctx.users["assessor2"]
    versions = list(
        db.session.scalars(
            select(CredentialVersion)
            .where(CredentialVersion.organisation_id == org.id, CredentialVersion.state == VersionState.PUBLISHED.value)
            .order_by(CredentialVersion.title)
        )
    )
    if not versions:
        return
    settings.update_settings(
        actor=admin, organisation_id=org.id, changes={"double_first_n": 1, "double_share": 0.2, "turnaround_hours": 72}
    )
    for version in versions:
        qualifications.qualify(
            actor=admin, micro_credential_id=version.micro_credential_id, user_id=lead.id, is_lead=True
        )
        qualifications.qualify(actor=admin, micro_credential_id=version.micro_credential_id, user_id=second.id)
    version = versions[0]
    earners = _earners()

    # Calibration set: two decided submissions the authors scored together; Sam passes it first.
    anchors = []
    for earner, position, state in ((earners[6], 2, SubmissionState.PASSED), (earners[7], 1, SubmissionState.NOT_YET)):
        anchor_submission = _submission(version, earner, state.value, hours_ago=24 * 30)
        anchor_submission.decided_at = anchor_submission.submitted_at + timedelta(days=3)
        anchors.append(
            calibration.mark_anchor(
                actor=author,
                submission_id=anchor_submission.id,
                agreed_levels=_levels(version, position),
                rationale="Agreed at the October norming session.",
            )
        )
    calibration.calibrate(
        actor=lead,
        micro_credential_id=version.micro_credential_id,
        levels={str(a.id): dict(a.agreed_levels) for a in anchors},
    )

    # Decided through the real flow by Sam alone: the demo's single-scored "passed" and "not yet".
    settings.update_settings(actor=admin, organisation_id=org.id, changes={"double_first_n": 0, "double_share": 0.0})
    for earner, position, hours in ((earners[0], 2, 120), (earners[1], 1, 100)):
        _submission(version, earner, SubmissionState.SUBMITTED.value, hours_ago=hours)
        task = queue.claim_next(actor=lead, organisation_id=org.id)
        assert task is not None
        scoring.submit_review(
            actor=lead,
            task_id=task.id,
            scores=_scores(version, position),
            summary="Thank you: clear planning and honest reflection."
            if position >= 2
            else "Promising; show how student work changed your next lesson, then resubmit.",
        )
    # Tia calibrates, then two submissions are double scored: Sam and Tia reach the same outcome but differ by
    # a level on some criteria, so the agreement report (exact, adjacent, kappa) has real figures to show.
    calibration.calibrate(
        actor=second,
        micro_credential_id=version.micro_credential_id,
        levels={str(a.id): dict(a.agreed_levels) for a in anchors},
    )
    settings.update_settings(actor=admin, organisation_id=org.id, changes={"double_first_n": 100})
    pairs = (
        ((3, 2, 3), (3, 3, 2), "Strong, well-evidenced work."),
        ((1, 1, 2), (1, 0, 1), "Not yet: see each criterion."),
    )
    for earner, (sam, tia, summary), hours in zip(earners[8:10], pairs, (90, 70), strict=True):
        _submission(version, earner, SubmissionState.SUBMITTED.value, hours_ago=hours)
        for assessor, positions in ((lead, sam), (second, tia)):
            task = queue.claim_next(actor=assessor, organisation_id=org.id)
            assert task is not None
            scoring.submit_review(actor=assessor, task_id=task.id, scores=_scores(version, positions), summary=summary)
    settings.update_settings(actor=admin, organisation_id=org.id, changes={"double_first_n": 1, "double_share": 0.2})
    # In review (claimed by Sam); two submitted (queued when the queue is next read); a draft; a withdrawn one.
    _submission(version, earners[2], SubmissionState.SUBMITTED.value, hours_ago=80)
    queue.claim_next(actor=lead, organisation_id=org.id)
    _submission(version, earners[3], SubmissionState.SUBMITTED.value, hours_ago=50)
    _submission(versions[-1], earners[4], SubmissionState.SUBMITTED.value, hours_ago=5)
    _submission(version, earners[5], SubmissionState.DRAFT.value, hours_ago=0)
    _submission(versions[-1], earners[5], SubmissionState.WITHDRAWN.value, hours_ago=200)
    ctx.echo(
        "Review: Sam Sato (lead) and Tia Thompson qualified and calibrated; two double-scored submissions; "
        "submissions in every state."
    )
