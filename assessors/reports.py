"""Review reports per micro-credential and per assessor: throughput, pass rate, turnaround, queue age,
inter-rater agreement on double-scored submissions (exact, adjacent, quadratic-weighted Cohen's kappa) and
calibration results.

Turnaround is submitted → decided (per credential); the breach rate is the share of decisions with a due date
that came after it and queued → review submitted (per assessor), in hours.
Percentiles are computed by the database on PostgreSQL (``percentile_cont``) and in Python on SQLite, which
has no percentile function.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from assessors.models import (
    OPEN_TASK,
    CalibrationAttempt,
    Review,
    ReviewScore,
    ReviewState,
    ReviewTask,
    TaskKind,
)
from core import clock
from core.authz import authorize
from core.db import db
from core.models import User
from credentials.authoring.models import CredentialVersion
from credentials.portfolios.models import Submission, SubmissionState


def weighted_kappa(pairs: Sequence[tuple[int, int]], weights: str = "quadratic") -> float | None:
    """Cohen's kappa with linear or quadratic disagreement weights for ordinal levels (0 = lowest).

    κ_w = 1 - Σ w·O / Σ w·E, with O the observed and E the chance (product of marginals) proportions and
    w_ij = |i-j| (linear) or (i-j)² (quadratic). Scaling w cancels out, so the number of levels only has to
    cover the levels seen. None when there are no pairs or chance disagreement is zero (one level used).
    """
    if not pairs:
        return None
    size = max(max(a, b) for a, b in pairs) + 1
    n = len(pairs)
    observed = [[0.0] * size for _ in range(size)]
    for a, b in pairs:
        observed[a][b] += 1 / n
    rows = [sum(observed[i]) for i in range(size)]
    cols = [sum(observed[i][j] for i in range(size)) for j in range(size)]

    def weight(i: int, j: int) -> float:
        return float(abs(i - j) if weights == "linear" else (i - j) ** 2)

    disagreement = sum(weight(i, j) * observed[i][j] for i in range(size) for j in range(size))
    chance = sum(weight(i, j) * rows[i] * cols[j] for i in range(size) for j in range(size))
    if chance == 0:
        return None
    return round(1 - disagreement / chance, 4)


# Landis and Koch's (1977) bands, the customary way to put a kappa into words.
KAPPA_BANDS = ((0.81, "almost perfect"), (0.61, "substantial"), (0.41, "moderate"), (0.21, "fair"), (0.0, "slight"))


def kappa_meaning(kappa: float | None) -> str | None:
    """A kappa in words: "substantial" agreement, or "less than chance" below zero; None without a kappa."""
    if kappa is None:
        return None
    for floor, words in KAPPA_BANDS:
        if kappa >= floor:
            return words
    return "less than chance"


def agreement(pairs: Sequence[tuple[int, int]]) -> dict[str, Any]:
    if not pairs:
        return {"pairs": 0, "exact": None, "adjacent": None, "kappa_quadratic": None, "kappa_meaning": None}
    kappa = weighted_kappa(pairs)
    return {
        "pairs": len(pairs),
        "exact": round(sum(a == b for a, b in pairs) / len(pairs), 4),
        "adjacent": round(sum(abs(a - b) <= 1 for a, b in pairs) / len(pairs), 4),
        "kappa_quadratic": kappa,
        "kappa_meaning": kappa_meaning(kappa),
    }


def _percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (what PostgreSQL's percentile_cont does)."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _hours(later: Any, earlier: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _turnaround(key: Any, later: Any, earlier: Any, where: list[Any], join: Any = None) -> dict[Any, tuple[Any, Any]]:
    """key → (median, p90) hours of ``later - earlier`` over the rows ``where`` selects."""
    hours = _hours(later, earlier)
    if db.session.get_bind().dialect.name == "postgresql":
        # One ordered-set aggregate with an array of fractions sorts each group once, not once per percentile.
        fractions = sa.literal([0.5, 0.9], sa.ARRAY(sa.Float))
        stmt = select(key, func.percentile_cont(fractions).within_group(hours)).where(*where)
        if join is not None:
            stmt = stmt.select_from(join)
        _roomy_sorts()
        return {k: (_round(both[0]), _round(both[1])) for k, both in db.session.execute(stmt.group_by(key))}
    stmt = select(key, hours).where(*where)
    if join is not None:
        stmt = stmt.select_from(join)
    grouped: dict[Any, list[float]] = defaultdict(list)
    for k, value in db.session.execute(stmt):
        grouped[k].append(float(value))
    return {k: (_round(_percentile(v, 0.5)), _round(_percentile(v, 0.9))) for k, v in grouped.items()}


def _roomy_sorts() -> None:
    """Give this transaction's report queries room to sort and hash in memory (PostgreSQL's default 4 MB
    spills a million-row sort to disk); ``SET LOCAL`` ends with the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL work_mem = '64MB'"))


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _double_scored_pairs(organisation_id: uuid.UUID, since: datetime | None) -> list[tuple[Any, ...]]:
    """(credential, assessor 1, assessor 2, level 1, level 2) for each criterion of each double-scored item."""
    r1, r2 = aliased(Review), aliased(Review)
    t1, t2 = aliased(ReviewTask), aliased(ReviewTask)
    s1, s2 = aliased(ReviewScore), aliased(ReviewScore)
    stmt = (
        select(t1.micro_credential_id, r1.assessor_id, r2.assessor_id, s1.level_position, s2.level_position)
        .select_from(t1)
        .join(t2, sa.and_(t2.submission_id == t1.submission_id, t2.kind == TaskKind.REVIEW.value, t2.slot == 2))
        .join(r1, r1.task_id == t1.id)
        .join(r2, r2.task_id == t2.id)
        .join(s1, s1.review_id == r1.id)
        .join(s2, sa.and_(s2.review_id == r2.id, s2.criterion_key == s1.criterion_key))
        .where(
            t1.organisation_id == organisation_id,
            t1.kind == TaskKind.REVIEW.value,
            t1.slot == 1,
            r1.state == ReviewState.SUBMITTED.value,
            r2.state == ReviewState.SUBMITTED.value,
        )
    )
    if since is not None:
        stmt = stmt.where(r2.submitted_at >= since)
    _roomy_sorts()
    return [tuple(row) for row in db.session.execute(stmt)]


def _calibration(organisation_id: uuid.UUID, key: Any) -> dict[Any, dict[str, Any]]:
    rows = db.session.execute(
        select(
            key,
            func.count(),
            func.sum(sa.case((CalibrationAttempt.passed.is_(True), 1), else_=0)),
            func.avg(CalibrationAttempt.agreement),
        )
        .where(CalibrationAttempt.organisation_id == organisation_id)
        .group_by(key)
    )
    return {
        k: {"attempts": n, "passed": int(p or 0), "mean_agreement": None if a is None else round(float(a), 4)}
        for k, n, p, a in rows
    }


def credential_report(
    *, actor: User, organisation_id: uuid.UUID, since: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per micro-credential of the organisation (org admins)."""
    authorize(actor, "review.report", organisation_id)
    now = clock.now()
    where = [Submission.organisation_id == organisation_id, Submission.submitted_at.is_not(None)]
    if since is not None:
        where.append(Submission.submitted_at >= since)
    dated = sa.and_(Submission.decided_at.is_not(None), Submission.due_at.is_not(None))
    counts = {
        mc: (received, decided or 0, passed or 0, with_due or 0, late or 0)
        for mc, received, decided, passed, with_due, late in db.session.execute(
            select(
                Submission.micro_credential_id,
                func.count(),
                func.sum(sa.case((Submission.decided_at.is_not(None), 1), else_=0)),
                func.sum(sa.case((Submission.state == SubmissionState.PASSED.value, 1), else_=0)),
                func.sum(sa.case((dated, 1), else_=0)),
                func.sum(sa.case((sa.and_(dated, Submission.decided_at > Submission.due_at), 1), else_=0)),
            )
            .where(*where)
            .group_by(Submission.micro_credential_id)
        )
    }
    turnaround = _turnaround(
        Submission.micro_credential_id,
        Submission.decided_at,
        Submission.submitted_at,
        [*where, Submission.decided_at.is_not(None)],
    )
    queue = {
        mc: (n, oldest)
        for mc, n, oldest in db.session.execute(
            select(ReviewTask.micro_credential_id, func.count(), func.min(ReviewTask.queued_at))
            .where(ReviewTask.organisation_id == organisation_id, OPEN_TASK)
            .group_by(ReviewTask.micro_credential_id)
        )
    }
    pairs: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    for mc, _a1, _a2, l1, l2 in _double_scored_pairs(organisation_id, since):
        pairs[mc].append((l1, l2))
    calibration = _calibration(organisation_id, CalibrationAttempt.micro_credential_id)
    titles = _titles(organisation_id)
    report = []
    for mc in sorted(set(counts) | set(queue) | set(pairs) | set(calibration), key=lambda k: titles.get(k, "")):
        received, decided, passed, with_due, late = counts.get(mc, (0, 0, 0, 0, 0))
        open_tasks, oldest = queue.get(mc, (0, None))
        median, p90 = turnaround.get(mc, (None, None))
        report.append(
            {
                "micro_credential_id": mc,
                "title": titles.get(mc, ""),
                "received": received,
                "decided": decided,
                "passed": passed,
                "pass_rate": round(passed / decided, 4) if decided else None,
                "turnaround_median_hours": median,
                "turnaround_p90_hours": p90,
                # Decisions made after their due date, of the decisions that had one.
                "breached": late,
                "breach_rate": round(late / with_due, 4) if with_due else None,
                "queue_open": open_tasks,
                "queue_oldest_hours": _round((now - oldest).total_seconds() / 3600) if oldest else None,
                "agreement": agreement(pairs.get(mc, [])),
                "calibration": calibration.get(mc, {"attempts": 0, "passed": 0, "mean_agreement": None}),
            }
        )
    return report


def assessor_report(*, actor: User, organisation_id: uuid.UUID, since: datetime | None = None) -> list[dict[str, Any]]:
    """One row per assessor who reviewed or calibrated in the organisation (org admins)."""
    authorize(actor, "review.report", organisation_id)
    where = [
        ReviewTask.organisation_id == organisation_id,
        Review.state == ReviewState.SUBMITTED.value,
    ]
    if since is not None:
        where.append(Review.submitted_at >= since)
    join = sa.join(Review, ReviewTask, ReviewTask.id == Review.task_id)
    counts = {
        who: (n, passed or 0)
        for who, n, passed in db.session.execute(
            select(
                Review.assessor_id,
                func.count(),
                func.sum(sa.case((Review.decision == SubmissionState.PASSED.value, 1), else_=0)),
            )
            .select_from(join)
            .where(*where)
            .group_by(Review.assessor_id)
        )
    }
    turnaround = _turnaround(Review.assessor_id, Review.submitted_at, ReviewTask.queued_at, where, join=join)
    pairs: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    for _mc, a1, a2, l1, l2 in _double_scored_pairs(organisation_id, since):
        pairs[a1].append((l1, l2))
        pairs[a2].append((l2, l1))
    calibration = _calibration(organisation_id, CalibrationAttempt.user_id)
    people = set(counts) | set(pairs) | set(calibration)
    names = {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(people)))} if people else {}
    report = []
    for who in sorted(people, key=lambda k: names.get(k, "")):
        reviews, passed = counts.get(who, (0, 0))
        median, p90 = turnaround.get(who, (None, None))
        report.append(
            {
                "assessor_id": who,
                "name": names.get(who, ""),
                "reviews": reviews,
                "pass_rate": round(passed / reviews, 4) if reviews else None,
                "turnaround_median_hours": median,
                "turnaround_p90_hours": p90,
                "agreement": agreement(pairs.get(who, [])),
                "calibration": calibration.get(who, {"attempts": 0, "passed": 0, "mean_agreement": None}),
            }
        )
    return report


def _month(column: Any) -> Any:
    """'YYYY-MM' of a UTC timestamp column, in the database's own dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _months_back(now: datetime, months: int) -> list[str]:
    """The last ``months`` calendar months up to ``now``'s, oldest first, as 'YYYY-MM'."""
    year, month = now.year, now.month
    labels = []
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def monthly_trend(*, actor: User, organisation_id: uuid.UUID, months: int = 12) -> list[dict[str, Any]]:
    """Decisions per calendar month (UTC) for the last ``months`` months, empty months included (org admins):
    how many were decided, how many passed, the pass rate and the median turnaround in hours."""
    authorize(actor, "review.report", organisation_id)
    labels = _months_back(clock.now(), months)
    start = datetime.fromisoformat(f"{labels[0]}-01T00:00:00+00:00")
    month = _month(Submission.decided_at)
    where = [
        Submission.organisation_id == organisation_id,
        Submission.decided_at.is_not(None),
        Submission.submitted_at.is_not(None),
        Submission.decided_at >= start,
    ]
    counts = {
        m: (n, passed or 0)
        for m, n, passed in db.session.execute(
            select(
                month, func.count(), func.sum(sa.case((Submission.state == SubmissionState.PASSED.value, 1), else_=0))
            )
            .where(*where)
            .group_by(month)
        )
    }
    turnaround = _turnaround(month, Submission.decided_at, Submission.submitted_at, where)
    trend = []
    for label in labels:
        decided, passed = counts.get(label, (0, 0))
        trend.append(
            {
                "month": label,
                "decided": decided,
                "passed": passed,
                "pass_rate": round(passed / decided, 4) if decided else None,
                "turnaround_median_hours": turnaround.get(label, (None, None))[0],
            }
        )
    return trend


def _titles(organisation_id: uuid.UUID) -> dict[Any, str]:
    """Each micro-credential's title from its newest version."""
    newest = (
        select(CredentialVersion.micro_credential_id, func.max(CredentialVersion.number).label("number"))
        .where(CredentialVersion.organisation_id == organisation_id)
        .group_by(CredentialVersion.micro_credential_id)
        .subquery()
    )
    rows = db.session.execute(
        select(CredentialVersion.micro_credential_id, CredentialVersion.title).join(
            newest,
            sa.and_(
                newest.c.micro_credential_id == CredentialVersion.micro_credential_id,
                newest.c.number == CredentialVersion.number,
            ),
        )
    )
    return {mc: title for mc, title in rows}


def _flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The report as CSV, nested figures flattened (``agreement_exact``, ``calibration_passed``…)."""
    flat = [_flatten(r) for r in rows]
    out = io.StringIO()
    if not flat:
        return ""
    writer = csv.DictWriter(out, fieldnames=list(flat[0]))
    writer.writeheader()
    for row in flat:
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    """Titles and names are user text: stop spreadsheets treating them as formulas."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
