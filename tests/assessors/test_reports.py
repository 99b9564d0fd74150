"""Review reports: agreement statistics checked against hand-computed values, and the per-credential and
per-assessor figures."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from assessors import reports, scoring
from core import clock
from core.errors import Forbidden
from tests.assessors.test_services import World, full_scores


def test_quadratic_weighted_kappa_matches_a_hand_computed_example():
    # Two raters, three levels, 10 items. Observed counts (rows rater A, columns rater B):
    #   [[2, 1, 0], [0, 3, 1], [0, 1, 2]]  → marginals A = (3, 4, 3)/10, B = (2, 5, 3)/10.
    # Quadratic weights w = (i-j)²: observed Σw·O = (1·1 + 1·1 + 1·1)/10 = 0.3.
    # Chance Σw·E = Σ_ij w_ij·A_i·B_j = [A0(B1·1 + B2·4) + A1(B0·1 + B2·1) + A2(B0·4 + B1·1)]
    #             = 0.3(0.5 + 1.2) + 0.4(0.2 + 0.3) + 0.3(0.8 + 0.5) = 0.51 + 0.20 + 0.39 = 1.10.
    # κ = 1 - 0.3 / 1.1 = 0.72727…
    pairs = [(0, 0)] * 2 + [(0, 1)] + [(1, 1)] * 3 + [(1, 2)] + [(2, 1)] + [(2, 2)] * 2
    assert reports.weighted_kappa(pairs) == pytest.approx(0.7273, abs=1e-4)
    # Linear weights: Σw·O = 0.3; Σw·E = 0.3(0.5+0.6) + 0.4(0.2+0.3) + 0.3(0.4+0.5) = 0.33+0.2+0.27 = 0.8.
    assert reports.weighted_kappa(pairs, weights="linear") == pytest.approx(1 - 0.3 / 0.8, abs=1e-4)
    summary = reports.agreement(pairs)
    assert summary["exact"] == 0.7 and summary["adjacent"] == 1.0 and summary["pairs"] == 10


def test_kappa_in_words_follows_landis_and_koch():
    words = [reports.kappa_meaning(k) for k in (None, -0.1, 0.0, 0.2, 0.21, 0.5, 0.61, 0.8, 0.81, 1.0)]
    assert words == [
        None,
        "less than chance",
        "slight",
        "slight",
        "fair",
        "moderate",
        "substantial",
        "substantial",
        "almost perfect",
        "almost perfect",
    ]


def test_monthly_trend_counts_decisions_by_month_and_keeps_empty_months(session):
    world = World(session, settings={"double_first_n": 0, "double_share": 0.0})
    with clock.shifted(timedelta(days=-65)):
        earlier_month = clock.now().strftime("%Y-%m")
        world.submission(minutes_ago=120)
        task = world.claim(world.assessor)
        scoring.submit_review(actor=world.assessor, task_id=task.id, scores=full_scores(0, 2, "x"), summary="No.")
    for minutes, level in ((600, 2), (60, 0)):
        world.submission(minutes_ago=minutes)
        task = world.claim(world.assessor)
        scoring.submit_review(
            actor=world.assessor, task_id=task.id, scores=full_scores(level, 2, "x"), summary="Reviewed."
        )
    trend = reports.monthly_trend(actor=world.admin, organisation_id=world.org.id, months=4)
    assert [t["month"] for t in trend][-1] == clock.now().strftime("%Y-%m") and len(trend) == 4
    by_month = {t["month"]: t for t in trend}
    assert (by_month[earlier_month]["decided"], by_month[earlier_month]["passed"]) == (1, 0)
    this = by_month[clock.now().strftime("%Y-%m")]
    assert (this["decided"], this["passed"], this["pass_rate"]) == (2, 1, 0.5)
    assert this["turnaround_median_hours"] == pytest.approx(5.5, abs=0.1)  # 10 h and 1 h
    empty = [t for t in trend if t["month"] not in (earlier_month, this["month"])]
    assert empty and all(t["decided"] == 0 and t["pass_rate"] is None for t in empty)
    assert len(reports.monthly_trend(actor=world.admin, organisation_id=world.org.id, months=1)) == 1
    with pytest.raises(Forbidden):
        reports.monthly_trend(actor=world.assessor, organisation_id=world.org.id)


def test_kappa_edge_cases():
    assert reports.weighted_kappa([]) is None
    assert reports.weighted_kappa([(1, 1), (1, 1)]) is None  # one level used: chance disagreement is zero
    assert reports.weighted_kappa([(0, 0), (2, 2)]) == 1.0
    assert reports.weighted_kappa([(0, 2), (2, 0)]) == -1.0


def test_reports_per_credential_and_per_assessor(session):
    world = World(session, settings={"double_first_n": 1, "double_share": 0.0})
    world.submission(minutes_ago=600)
    world.submission(minutes_ago=300)
    world.submission(minutes_ago=10)
    t1, t2 = world.claim(world.assessor), world.claim(world.assessor2)
    scoring.submit_review(actor=world.assessor, task_id=t1.id, scores=full_scores(2, 3), summary="Good.")
    scoring.submit_review(actor=world.assessor2, task_id=t2.id, scores=full_scores(2, 2), summary="Good.")
    t3 = world.claim(world.assessor)
    scoring.submit_review(actor=world.assessor, task_id=t3.id, scores=full_scores(0, 2, "x"), summary="No.")

    [row] = reports.credential_report(actor=world.admin, organisation_id=world.org.id)
    assert (row["received"], row["decided"], row["passed"], row["pass_rate"]) == (3, 2, 1, 0.5)
    assert row["turnaround_median_hours"] == pytest.approx(7.5, abs=0.1)  # 10 h and 5 h
    assert row["turnaround_p90_hours"] == pytest.approx(9.5, abs=0.1)
    assert row["queue_open"] == 1 and row["queue_oldest_hours"] == pytest.approx(0.2, abs=0.1)
    assert row["agreement"] == {
        "pairs": 2,
        "exact": 0.5,
        "adjacent": 1.0,
        "kappa_quadratic": 0.0,
        "kappa_meaning": "slight",
    }

    people = {r["assessor_id"]: r for r in reports.assessor_report(actor=world.admin, organisation_id=world.org.id)}
    assert people[world.assessor.id]["reviews"] == 2 and people[world.assessor.id]["pass_rate"] == 0.5
    assert people[world.assessor2.id]["agreement"]["pairs"] == 2

    text = reports.to_csv(reports.credential_report(actor=world.admin, organisation_id=world.org.id))
    [parsed] = list(csv.DictReader(io.StringIO(text)))
    assert parsed["agreement_exact"] == "0.5" and parsed["received"] == "3"

    with clock.shifted(timedelta(days=1)):
        later = reports.credential_report(actor=world.admin, organisation_id=world.org.id, since=clock.now())
    assert later == [] or later[0]["received"] == 0


def test_reports_are_for_org_admins(session):
    world = World(session)
    with pytest.raises(Forbidden):
        reports.credential_report(actor=world.assessor, organisation_id=world.org.id)
    with pytest.raises(Forbidden):
        reports.assessor_report(actor=world.assessor, organisation_id=world.org.id)


def test_csv_cells_cannot_become_formulas():
    assert reports.to_csv([{"title": "=HYPERLINK(1)", "n": 1}]).splitlines()[1] == "'=HYPERLINK(1),1"
