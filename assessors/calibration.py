"""Calibration: anchor submissions with agreed scores, the calibration set an assessor scores before assessing,
and whether their attempt agrees closely enough to qualify them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, func, select

from assessors.access import _micro_credential
from assessors.models import (
    CalibrationAnchor,
    CalibrationAttempt,
    Qualification,
)
from assessors.scoring import _validate_scores, blind_submission
from assessors.settings import settings_for
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from core.models import Role, User
from credentials.authoring.models import CredentialVersion
from credentials.portfolios.models import Submission, SubmissionState

MAX_RATIONALE = 10_000


def mark_anchor(
    *,
    actor: User,
    submission_id: uuid.UUID,
    agreed_levels: dict[str, int],
    rationale: str = "",
    micro_credential_id: uuid.UUID | None = None,
) -> CalibrationAnchor:
    """Authors, org admins and lead assessors make a submission a calibration anchor with the levels they agreed
    on (marking it again changes them). With ``micro_credential_id``, a submission of another one is not found."""
    submission = db.session.get(Submission, submission_id)
    if submission is None or micro_credential_id not in (None, submission.micro_credential_id):
        raise NotFound("No such submission.")
    authorize(actor, "review.anchor", submission)
    version = db.session.get(CredentialVersion, submission.version_id)
    assert version is not None
    scores = [{"criterion_key": k, "level": v} for k, v in agreed_levels.items()]
    errors = [
        field_error(e["field"].replace("/scores/", "/agreed_levels/"), e["detail"])
        for e in _validate_scores(version, scores)
    ]
    missing = [c.key for c in version.criteria if c.key not in agreed_levels]
    errors += [field_error(f"/agreed_levels/{key}", "Give the agreed level.") for key in missing]
    if len(rationale) > MAX_RATIONALE:
        errors.append(field_error("/rationale", f"Keep the reason under {MAX_RATIONALE:,} characters."))
    if errors:
        raise ValidationFailed("The agreed levels do not fit the rubric.", errors=errors)
    anchor = db.session.scalar(
        select(CalibrationAnchor).where(
            CalibrationAnchor.micro_credential_id == submission.micro_credential_id,
            CalibrationAnchor.submission_id == submission.id,
        )
    )
    if anchor is None:
        anchor = CalibrationAnchor(
            organisation_id=submission.organisation_id,
            micro_credential_id=submission.micro_credential_id,
            submission_id=submission.id,
            agreed_levels={},
            created_by_id=actor.id,
        )
        db.session.add(anchor)
    anchor.agreed_levels = dict(agreed_levels)
    anchor.rationale = rationale
    db.session.flush()
    audit.record(actor=actor, action="calibration.anchor_marked", obj=anchor, organisation_id=anchor.organisation_id)
    return anchor


def anchors(micro_credential_id: uuid.UUID) -> list[CalibrationAnchor]:
    return list(
        db.session.scalars(
            select(CalibrationAnchor)
            .where(CalibrationAnchor.micro_credential_id == micro_credential_id)
            .order_by(CalibrationAnchor.created_at, CalibrationAnchor.id)
        )
    )


def anchor_counts(organisation_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """How many anchors each micro-credential of the organisation has."""
    rows = db.session.execute(
        select(CalibrationAnchor.micro_credential_id, func.count())
        .where(CalibrationAnchor.organisation_id == organisation_id)
        .group_by(CalibrationAnchor.micro_credential_id)
    )
    return {mc_id: count for mc_id, count in rows}


def calibration_status(actor: User, qualification: Qualification) -> dict[str, Any]:
    """Whether the assessor may do live work: no anchors means nothing to calibrate against."""
    settings = settings_for(qualification.organisation_id, qualification.micro_credential_id)
    has_anchors = db.session.scalar(
        select(exists().where(CalibrationAnchor.micro_credential_id == qualification.micro_credential_id))
    )
    last = db.session.scalar(
        select(CalibrationAttempt)
        .where(
            CalibrationAttempt.user_id == actor.id,
            CalibrationAttempt.micro_credential_id == qualification.micro_credential_id,
            CalibrationAttempt.passed.is_(True),
        )
        .order_by(CalibrationAttempt.completed_at.desc())
        .limit(1)
    )
    lapsed = bool(
        last
        and settings["recalibration_days"]
        and last.completed_at < clock.now() - timedelta(days=settings["recalibration_days"])
    )
    current = not has_anchors or (last is not None and not lapsed)
    return {
        "required": bool(has_anchors),
        "current": current,
        "last_passed_at": last.completed_at if last else None,
        "lapsed": lapsed,
    }


def _qualification(actor: User, micro_credential_id: uuid.UUID) -> Qualification:
    qualification = db.session.scalar(
        select(Qualification).where(
            Qualification.micro_credential_id == micro_credential_id, Qualification.user_id == actor.id
        )
    )
    if qualification is None or Role.ASSESSOR not in actor.roles_in(qualification.organisation_id):
        raise Forbidden("You are not qualified to assess this micro-credential.", action="review.assess")
    return qualification


def calibration_set(*, actor: User, micro_credential_id: uuid.UUID) -> dict[str, Any]:
    """The anchors to score, blind (agreed levels withheld), and the actor's calibration status."""
    qualification = _qualification(actor, micro_credential_id)
    items = []
    for anchor in anchors(micro_credential_id):
        items.append({"anchor_id": anchor.id, "submission": blind_submission(anchor.submission)})
    return {
        "micro_credential_id": micro_credential_id,
        "threshold": settings_for(qualification.organisation_id, micro_credential_id)["calibration_threshold"],
        "status": calibration_status(actor, qualification),
        "anchors": items,
    }


def calibrate(*, actor: User, micro_credential_id: uuid.UUID, levels: dict[str, dict[str, int]]) -> CalibrationAttempt:
    """Score the whole calibration set; pass at the exact-agreement threshold; divergences are shown."""
    qualification = _qualification(actor, micro_credential_id)
    anchor_list = anchors(micro_credential_id)
    if not anchor_list:
        raise Conflict("This micro-credential has no calibration set yet.")
    errors = []
    divergences = []
    agreed = total = 0
    for anchor in anchor_list:
        given = levels.get(str(anchor.id))
        if given is None:
            errors.append(field_error(f"/levels/{anchor.id}", "Score this anchor."))
            continue
        version = db.session.get(CredentialVersion, anchor.submission.version_id)
        assert version is not None
        positions = {c.key: {lv.position for lv in c.levels} for c in version.criteria}
        for key, expected in anchor.agreed_levels.items():
            if key not in given:
                errors.append(field_error(f"/levels/{anchor.id}/{key}", "Choose a level."))
                continue
            if key in positions and given[key] not in positions[key]:
                errors.append(field_error(f"/levels/{anchor.id}/{key}", "Choose one of the rubric's levels."))
                continue
            total += 1
            if given[key] == expected:
                agreed += 1
            else:
                divergences.append(
                    {"anchor": anchor.submission.reference, "criterion": key, "given": given[key], "agreed": expected}
                )
    if errors:
        raise ValidationFailed("The calibration set is not fully scored.", errors=errors)
    threshold = settings_for(qualification.organisation_id, micro_credential_id)["calibration_threshold"]
    agreement = agreed / total if total else 0.0
    attempt = CalibrationAttempt(
        organisation_id=qualification.organisation_id,
        micro_credential_id=micro_credential_id,
        user_id=actor.id,
        levels=levels,
        agreement=round(agreement, 4),
        threshold=threshold,
        passed=agreement >= threshold,
        divergences=divergences,
    )
    db.session.add(attempt)
    db.session.flush()
    audit.record(
        actor=actor,
        action="calibration.attempted",
        obj=attempt,
        organisation_id=qualification.organisation_id,
        after={"agreement": attempt.agreement, "passed": attempt.passed},
    )
    return attempt


def attempt_report(attempt: CalibrationAttempt) -> list[dict[str, Any]]:
    """An attempt in words, per anchor: how many criteria matched the agreed level, and for every criterion its
    title with the level given and the level agreed by name (an anchor marked after the attempt is left out)."""
    report = []
    for anchor in anchors(attempt.micro_credential_id):
        given = attempt.levels.get(str(anchor.id))
        if given is None:
            continue
        version = db.session.get(CredentialVersion, anchor.submission.version_id)
        assert version is not None
        criteria = {c.key: c for c in version.criteria}
        rows = []
        for key, agreed in anchor.agreed_levels.items():
            criterion = criteria.get(key)
            names = {lv.position: lv.name for lv in criterion.levels} if criterion else {}
            rows.append(
                {
                    "criterion": criterion.name if criterion else key,
                    "given": names.get(given.get(key), "no level"),
                    "agreed": names.get(agreed, f"level {agreed}"),
                    "matched": given.get(key) == agreed,
                }
            )
        report.append(
            {
                "reference": anchor.submission.reference,
                "matched": sum(row["matched"] for row in rows),
                "total": len(rows),
                "criteria": rows,
                "rationale": anchor.rationale,
            }
        )
    return report


def list_anchors(*, actor: User, micro_credential_id: uuid.UUID) -> list[CalibrationAnchor]:
    micro_credential = _micro_credential(micro_credential_id)
    authorize(actor, "review.anchor", micro_credential, hidden="No such micro-credential.")
    return anchors(micro_credential_id)


def remove_anchor(*, actor: User, anchor_id: uuid.UUID) -> None:
    """Take a submission out of the calibration set (attempts already made keep their result)."""
    anchor = db.session.get(CalibrationAnchor, anchor_id)
    if anchor is None:
        raise NotFound("No such calibration anchor.")
    authorize(actor, "review.anchor", anchor, hidden="No such calibration anchor.")
    audit.record(
        actor=actor,
        action="calibration.anchor_removed",
        obj=anchor,
        organisation_id=anchor.organisation_id,
        before={"submission": str(anchor.submission_id), "agreed_levels": anchor.agreed_levels},
    )
    db.session.delete(anchor)
    db.session.flush()


ANCHOR_CANDIDATES = 50


def anchor_choices(*, actor: User, micro_credential_id: uuid.UUID) -> dict[str, Any]:
    """What the page for choosing anchors shows: the current anchors and the newest decided submissions not yet
    anchors, each blind (by reference) with its levels by criterion — the agreed ones, or the released result
    as a starting point."""
    micro_credential = _micro_credential(micro_credential_id)
    authorize(actor, "review.anchor", micro_credential, hidden="No such micro-credential.")
    current = anchors(micro_credential_id)
    decided = db.session.scalars(
        select(Submission)
        .where(
            Submission.micro_credential_id == micro_credential_id,
            Submission.state.in_([SubmissionState.PASSED.value, SubmissionState.NOT_YET.value]),
            Submission.id.not_in([a.submission_id for a in current]),
        )
        .order_by(Submission.decided_at.desc().nulls_last(), Submission.id)
        .limit(ANCHOR_CANDIDATES)
    )
    return {
        "micro_credential": micro_credential,
        "anchors": [
            {"anchor": a, "submission": blind_submission(a.submission), "levels": dict(a.agreed_levels)}
            for a in current
        ],
        "candidates": [
            {
                "submission": blind_submission(sub),
                "id": sub.id,
                "state": sub.state,
                "decided_at": sub.decided_at,
                "levels": {f.criterion_key: f.level_position for f in sub.feedback},
            }
            for sub in decided
        ],
    }
