"""Impact reports: the figures programme leads tell funders, for one organisation or (for its admins and those
above it) the organisation with every unit below it.

- ``badges_over_time``: badges and distinct earners per calendar month, optionally split by the earner's unit or
  job role, by standard or by micro-credential;
- ``funnel``: submissions started → submitted → decided → passed, per cohort (the month a submission was started);
- ``time_to_earn``: days from the start of an earner's first attempt at a micro-credential to the decision that
  passed it, median and 90th percentile;
- ``retention``: of the earners whose first pass fell in a month, how many attempted a second micro-credential and
  how many earned one.

Definitions, with the filters each honours, are in docs/reports.md. Months are UTC calendar months. An earner's
unit and job role are read from their membership of the submission's (or badge's) organisation, else of the
nearest organisation above it, as the conflict rules do (``core.members.unit_of``), in one query for all rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from assessors.reports import _hours, _percentile
from badges.impact_scope import Scope, join_placement
from badges.impact_scope import scope as scope  # the reports' entry point, re-exported
from badges.models import Badge, BadgeSource
from core.db import db
from core.errors import ValidationFailed
from core.models import Organisation, User
from credentials.authoring.models import Alignment, CredentialVersion
from credentials.portfolios.models import Submission, SubmissionState
from standards.models import StandardItem

DIMENSIONS = ("month", "unit", "job_role", "standard", "micro_credential")
NOT_RECORDED = "Not recorded"
PASSED = SubmissionState.PASSED.value


def _tune() -> None:
    """Room to hash in memory (``SET LOCAL`` ends with the transaction: a hash of (unit, earner) pairs over a
    state's million rows spills past 64 MB), and no JIT: compiling these one-off aggregates costs more than it
    saves."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL work_mem = '128MB'"))
        db.session.execute(sa.text("SET LOCAL jit = off"))


def _month(column: Any) -> Any:
    """The UTC calendar month of a timestamp: date_trunc on PostgreSQL (cheaper per row than to_char), 'YYYY-MM'
    on SQLite; ``_label`` turns either into 'YYYY-MM'."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone("UTC", column))
    return func.strftime("%Y-%m", column)


def _label(month: Any) -> Any:
    return month.strftime("%Y-%m") if isinstance(month, datetime) else month


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _labels(by: str, keys: set[Any], scope: Scope) -> dict[Any, str]:
    keys = {k for k in keys if k is not None}
    if not keys:
        return {}
    if by == "unit":
        return {o.id: o.name for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(keys)))}
    if by == "micro_credential":
        return titles(keys)
    if by == "standard":
        items = db.session.scalars(select(StandardItem).where(StandardItem.id.in_(keys)))
        return {
            i.id: " ".join(p for p in (i.human_coding_scheme, i.abbreviated_statement or i.full_statement[:80]) if p)
            for i in items
        }
    return {k: k for k in keys}


def titles(micro_credential_ids: set[Any]) -> dict[Any, str]:
    """Each micro-credential's title from its newest version."""
    newest = (
        select(CredentialVersion.micro_credential_id, func.max(CredentialVersion.number).label("number"))
        .where(CredentialVersion.micro_credential_id.in_(micro_credential_ids))
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


def badges_over_time(*, scope: Scope, by: str = "month") -> dict[str, Any]:
    """Badges awarded (not revoked) and distinct earners per month, and per unit, job role, standard or
    micro-credential when ``by`` names one."""
    if by not in DIMENSIONS:
        raise ValidationFailed.field("by", f"Choose one of {', '.join(DIMENSIONS)}.")
    _tune()
    month = _month(Badge.awarded_at)

    def base(split: bool) -> tuple[Any, Any]:
        stmt = select().select_from(Badge)
        if scope.micro_credential_id or (split and by in ("micro_credential", "standard")):
            stmt = stmt.join(CredentialVersion, CredentialVersion.id == Badge.version_id)
        if scope.micro_credential_id:
            stmt = stmt.where(CredentialVersion.micro_credential_id == scope.micro_credential_id)
        stmt = stmt.where(
            Badge.organisation_id.in_(scope.organisation_ids),
            Badge.version_id.is_not(None),
            Badge.revoked_at.is_(None),
            Badge.source != BadgeSource.RENEWAL.value,  # the same achievement again, under new dates
            Badge.awarded_at >= scope.start,
            Badge.awarded_at < scope.end,
        )
        stmt, place = join_placement(
            stmt, scope, Badge.earner_id, Badge.organisation_id, split and by in ("unit", "job_role")
        )
        key, legacy = None, None
        if split and by == "unit":
            # Where no membership names a unit, the free text on the account from before units were records.
            stmt = stmt.outerjoin(User, User.id == Badge.earner_id)
            key, legacy = place.c.unit_id, sa.case((place.c.unit_id.is_(None), User.unit))
        elif split and by == "job_role":
            key = place.c.job_role
        elif split and by == "micro_credential":
            key = CredentialVersion.micro_credential_id
        elif split and by == "standard":
            stmt = stmt.outerjoin(Alignment, Alignment.version_id == Badge.version_id)
            key = Alignment.standard_item_id
        return stmt, (key, legacy)

    stmt, _ = base(False)
    per_month = {_label(m): (n, e) for m, n, e in _badges_and_earners(stmt, month)}
    result: dict[str, Any] = {
        "by": by,
        "months": [
            {"month": m, "badges": per_month.get(m, (0, 0))[0], "earners": per_month.get(m, (0, 0))[1]}
            for m in scope.months
        ],
        "total": {"badges": sum(n for n, _ in per_month.values())},
        "groups": [],
        "rows": [],
    }
    result["total"]["earners"] = _badges_and_earners(stmt)[0][-1]
    if by == "month":
        return result
    stmt, (key, legacy) = base(True)
    # The free-text column is there for the split by unit only; the other splits get a None in its place.
    keys = [key, legacy] if legacy is not None else [key]
    grouped = [_pad(r, legacy) for r in _badges_and_earners(stmt, *keys)]
    cells = [_pad((_label(r[0]), *r[1:]), legacy, 1) for r in _badges_and_earners(stmt, month, *keys)]
    labels = _labels(by, {r[0] for r in grouped}, scope)

    def named(k: Any, text: str | None) -> dict[str, Any]:
        if k is None and text:
            return {"key": None, "label": f"{text} (not a unit record)"}
        return {"key": _key(k), "label": labels.get(k, NOT_RECORDED)}

    result["groups"] = sorted(
        ({**named(k, t), "badges": n, "earners": e} for k, t, n, e in grouped),
        key=lambda g: (-g["badges"], g["label"]),
    )
    result["rows"] = sorted(
        ({"month": m, **named(k, t), "badges": n, "earners": e} for m, k, t, n, e in cells),
        key=lambda r: (r["month"], r["label"]),
    )
    return result


def _badges_and_earners(stmt: Any, *keys: Any) -> list[tuple[Any, ...]]:
    """(*keys, badges, distinct earners) of the badges ``stmt`` selects, grouped by ``keys`` (one row without):
    earners are counted by grouping twice, which PostgreSQL hashes, where COUNT(DISTINCT) would sort every row."""
    named = [k.label(f"k{i}") for i, k in enumerate(keys)]
    inner = (
        stmt.add_columns(*named, Badge.earner_id.label("earner"), func.count().label("n"))
        .group_by(*keys, Badge.earner_id)
        .subquery("per_earner")
    )
    outer = [inner.c[f"k{i}"] for i in range(len(keys))]
    query = select(*outer, func.sum(inner.c.n), func.count(inner.c.earner))
    rows = db.session.execute(query.group_by(*outer) if outer else query)
    return [(*row[:-2], int(row[-2] or 0), int(row[-1] or 0)) for row in rows]


def _pad(row: Any, legacy: Any, at: int = 0) -> tuple[Any, ...]:
    """The row with a free-text column (None) after the key when the query had none."""
    row = tuple(row)
    return row if legacy is not None else (*row[: at + 1], None, *row[at + 1 :])


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _submissions(scope: Scope, stmt: Any, s: Any = Submission) -> Any:
    stmt = stmt.where(s.organisation_id.in_(scope.organisation_ids))
    if scope.micro_credential_id:
        stmt = stmt.where(s.micro_credential_id == scope.micro_credential_id)
    stmt, _ = join_placement(stmt, scope, s.earner_id, s.organisation_id, False)
    return stmt


def funnel(*, scope: Scope) -> dict[str, Any]:
    """Per cohort (the month a submission was started): started, submitted, decided, passed, not yet, withdrawn."""
    _tune()
    month = _month(Submission.created_at)

    def count(condition: Any) -> Any:
        return func.sum(sa.case((condition, 1), else_=0))

    stmt = _submissions(
        scope,
        select(
            month,
            func.count(),
            count(Submission.submitted_at.is_not(None)),
            count(Submission.decided_at.is_not(None)),
            count(Submission.state == PASSED),
            count(Submission.state == SubmissionState.NOT_YET.value),
            count(Submission.state == SubmissionState.WITHDRAWN.value),
        )
        .select_from(Submission)
        .where(Submission.created_at >= scope.start, Submission.created_at < scope.end),
    ).group_by(month)
    found = {_label(row[0]): [int(v or 0) for v in row[1:]] for row in db.session.execute(stmt)}
    names = ("started", "submitted", "decided", "passed", "not_yet", "withdrawn")
    cohorts = []
    for label in scope.months:
        figures = dict(zip(names, found.get(label, [0] * len(names)), strict=True))
        cohorts.append(
            {
                "cohort": label,
                **figures,
                "submitted_rate": _rate(figures["submitted"], figures["started"]),
                "passed_rate": _rate(figures["passed"], figures["started"]),
            }
        )
    total = {n: sum(c[n] for c in cohorts) for n in names}
    total["submitted_rate"] = _rate(total["submitted"], total["started"])
    total["passed_rate"] = _rate(total["passed"], total["started"])
    return {"cohorts": cohorts, "total": total}


def _days_percentiles(key: Any, stmt: Any, days: Any) -> dict[Any, tuple[float | None, float | None]]:
    """key → (median, p90) of ``days`` over ``stmt``'s rows (one group, None, without a key): the database's
    percentile_cont on PostgreSQL, Python on SQLite, which has no percentile function."""
    keys = [key] if key is not None else []
    if db.session.get_bind().dialect.name == "postgresql":
        fractions = sa.literal([0.5, 0.9], sa.ARRAY(sa.Float))
        stmt = stmt.add_columns(*keys, func.percentile_cont(fractions).within_group(days))
        rows = db.session.execute(stmt.group_by(*keys) if keys else stmt)
        return {(row[0] if keys else None): (_round(row[-1][0]), _round(row[-1][1])) for row in rows if row[-1]}
    grouped: dict[Any, list[float]] = {}
    for row in db.session.execute(stmt.add_columns(*keys, days)):
        grouped.setdefault(row[0] if keys else None, []).append(float(row[-1]))
    return {k: (_round(_percentile(v, 0.5)), _round(_percentile(v, 0.9))) for k, v in grouped.items()}


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def time_to_earn(*, scope: Scope) -> dict[str, Any]:
    """Days from the start of the earner's first attempt at a micro-credential to the decision that passed it,
    per micro-credential and overall, for passes decided in the range; and how many passed at the first try."""
    _tune()
    passed, first = Submission, aliased(Submission)
    stmt = _submissions(
        scope,
        select()
        .select_from(passed)
        .outerjoin(
            first,
            sa.and_(
                first.micro_credential_id == passed.micro_credential_id,
                first.earner_id == passed.earner_id,
                first.attempt == 1,
            ),
        )
        .where(passed.state == PASSED, passed.decided_at >= scope.start, passed.decided_at < scope.end),
    )
    days = _hours(passed.decided_at, func.coalesce(first.created_at, passed.created_at)) / 24.0
    counts = {
        mc: (n, int(first_try or 0))
        for mc, n, first_try in db.session.execute(
            stmt.add_columns(
                passed.micro_credential_id, func.count(), func.sum(sa.case((passed.attempt == 1, 1), else_=0))
            ).group_by(passed.micro_credential_id)
        )
    }
    per_credential = _days_percentiles(passed.micro_credential_id, stmt, days)
    overall = _days_percentiles(None, stmt, days).get(None, (None, None))
    names = titles(set(counts))
    rows = sorted(
        (
            {
                "micro_credential_id": str(mc),
                "title": names.get(mc, ""),
                "passed": n,
                "first_attempt": first_try,
                "first_attempt_rate": _rate(first_try, n),
                "median_days": per_credential.get(mc, (None, None))[0],
                "p90_days": per_credential.get(mc, (None, None))[1],
            }
            for mc, (n, first_try) in counts.items()
        ),
        key=lambda r: r["title"],
    )
    total = sum(r["passed"] for r in rows)
    first_total = sum(r["first_attempt"] for r in rows)
    return {
        "micro_credentials": rows,
        "total": {
            "passed": total,
            "first_attempt": first_total,
            "first_attempt_rate": _rate(first_total, total),
            "median_days": overall[0],
            "p90_days": overall[1],
        },
    }


def retention(*, scope: Scope) -> dict[str, Any]:
    """Per cohort of earners (the month of their first pass in range): how many attempted a second
    micro-credential of the organisation(s), and how many earned one. With a micro-credential filter, the cohort
    is its earners (the month they passed it) and "a second" is any other."""
    _tune()
    s = Submission
    is_pass = s.state == PASSED
    counted_pass = (
        sa.and_(is_pass, s.micro_credential_id == scope.micro_credential_id) if scope.micro_credential_id else is_pass
    )
    # Each earner has one attempt-1 submission per micro-credential they tried: counting those counts credentials
    # without COUNT(DISTINCT), which would make PostgreSQL sort every earner's rows.
    per_earner = select(
        s.earner_id,
        func.min(sa.case((counted_pass, s.decided_at))).label("first_pass"),
        func.sum(sa.case((s.attempt == 1, 1), else_=0)).label("attempted"),
        func.sum(sa.case((is_pass, 1), else_=0)).label("earned"),
    ).select_from(s)
    per_earner = per_earner.where(s.organisation_id.in_(scope.organisation_ids))
    per_earner, _ = join_placement(per_earner, scope, s.earner_id, s.organisation_id, False)
    earners = per_earner.group_by(s.earner_id).subquery("per_earner")
    month = _month(earners.c.first_pass)
    rows = db.session.execute(
        select(
            month,
            func.count(),
            func.sum(sa.case((earners.c.attempted >= 2, 1), else_=0)),
            func.sum(sa.case((earners.c.earned >= 2, 1), else_=0)),
        )
        .where(earners.c.first_pass >= scope.start, earners.c.first_pass < scope.end)
        .group_by(month)
    )
    found = {_label(m): (n, int(a or 0), int(e or 0)) for m, n, a, e in rows}
    cohorts = []
    for label in scope.months:
        n, attempted, earned = found.get(label, (0, 0, 0))
        cohorts.append(
            {
                "cohort": label,
                "earners": n,
                "attempted_second": attempted,
                "earned_second": earned,
                "attempted_rate": _rate(attempted, n),
                "earned_rate": _rate(earned, n),
            }
        )
    n = sum(c["earners"] for c in cohorts)
    attempted = sum(c["attempted_second"] for c in cohorts)
    earned = sum(c["earned_second"] for c in cohorts)
    total = {
        "earners": n,
        "attempted_second": attempted,
        "earned_second": earned,
        "attempted_rate": _rate(attempted, n),
        "earned_rate": _rate(earned, n),
    }
    return {"cohorts": cohorts, "total": total}


FIGURES = {
    "badges": badges_over_time,
    "funnel": funnel,
    "time-to-earn": time_to_earn,
    "retention": retention,
}


def csv_rows(figure: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a spreadsheet gets for one figure (``assessors.reports.to_csv`` writes them)."""
    if figure == "badges":
        return data["rows"] if data["by"] != "month" else data["months"]
    if figure == "time-to-earn":
        return data["micro_credentials"]
    return data["cohorts"]


def figure(name: str, *, scope: Scope, by: str = "month") -> dict[str, Any]:
    """One figure by its name in ``FIGURES``, with the filters it was computed for."""
    data = badges_over_time(scope=scope, by=by) if name == "badges" else FIGURES[name](scope=scope)
    return {"figure": name, "filters": scope.filters(), **data}
