"""Impact reports on a small known dataset (tests/badges/impact_world.py): every figure worked out by hand, who
may see which part of the hierarchy, and hostile filters."""

from __future__ import annotations

from datetime import date

import pytest

from badges import impact
from core import clock
from core.errors import Forbidden, NotFound, ValidationFailed
from tests.badges.impact_world import NOW, ImpactWorld

JAN_TO_JUN = {"date_from": date(2026, 1, 1), "date_to": date(2026, 6, 30)}


@pytest.fixture
def world(session):
    with clock.frozen_at(NOW):
        made = ImpactWorld()
    return made


def scope(world, actor=None, organisation=None, **filters):
    return impact.scope(
        actor=actor or world.admin,
        organisation_id=(organisation or world.district).id,
        **{**JAN_TO_JUN, **filters},
    )


def test_badges_per_month_count_awarded_badges_and_distinct_earners(world):
    data = impact.badges_over_time(scope=scope(world))
    assert [(m["month"], m["badges"], m["earners"]) for m in data["months"]] == [
        ("2026-01", 1, 1),  # e2 Reading (its renewal is the same achievement)
        ("2026-02", 1, 1),  # e1 Reading
        ("2026-03", 1, 1),  # e2 Writing
        ("2026-04", 1, 1),  # e4 Writing
        ("2026-05", 0, 0),
        ("2026-06", 0, 0),
    ]
    assert data["total"] == {"badges": 4, "earners": 3}


def test_badges_by_unit_role_credential_and_standard(world):
    def groups(by, **filters):
        data = impact.badges_over_time(scope=scope(world, **filters), by=by)
        return {g["label"]: (g["badges"], g["earners"]) for g in data["groups"]}

    assert groups("unit") == {"School Y": (2, 1), "School X": (1, 1), "Not recorded": (1, 1)}
    assert groups("job_role") == {"coach": (2, 1), "teacher": (1, 1), "Not recorded": (1, 1)}
    assert groups("micro_credential") == {"Reading": (2, 2), "Writing": (2, 2)}
    # Writing is aligned to both standards: its badges count under each.
    assert groups("standard") == {"R.1 Reads closely": (4, 3), "W.1 Writes clearly": (2, 2)}
    rows = impact.badges_over_time(scope=scope(world), by="unit")["rows"]
    assert [(r["month"], r["label"], r["badges"]) for r in rows] == [
        ("2026-01", "School Y", 1),
        ("2026-02", "School X", 1),
        ("2026-03", "School Y", 1),
        ("2026-04", "Not recorded", 1),
    ]
    assert groups("month") == {}
    # Without a membership naming a unit, the free text from before units were records.
    world.e4.unit = "Oak Middle"
    assert groups("unit")["Oak Middle (not a unit record)"] == (1, 1)


def test_funnel_per_cohort_of_the_month_started(world):
    data = impact.funnel(scope=scope(world))
    figures = [
        (c["cohort"], c["started"], c["submitted"], c["decided"], c["passed"], c["not_yet"], c["withdrawn"])
        for c in data["cohorts"]
    ]
    assert figures == [
        ("2026-01", 2, 2, 2, 1, 1, 0),
        ("2026-02", 2, 2, 2, 2, 0, 0),
        ("2026-03", 2, 1, 0, 0, 0, 0),
        ("2026-04", 2, 2, 1, 1, 0, 1),
        ("2026-05", 0, 0, 0, 0, 0, 0),
        ("2026-06", 0, 0, 0, 0, 0, 0),
    ]
    assert data["cohorts"][0]["passed_rate"] == 0.5 and data["cohorts"][4]["passed_rate"] is None
    total = data["total"]
    assert (total["started"], total["submitted"], total["passed"], total["passed_rate"]) == (8, 7, 4, 0.5)


def test_time_to_earn_counts_from_the_first_attempt(world):
    data = impact.time_to_earn(scope=scope(world))
    by_title = {r["title"]: r for r in data["micro_credentials"]}
    # Reading: e2 16 days (first try), e1 42 days (10 Jan → 21 Feb, second attempt).
    assert by_title["Reading"] | {"micro_credential_id": None} == {
        "micro_credential_id": None,
        "title": "Reading",
        "passed": 2,
        "first_attempt": 1,
        "first_attempt_rate": 0.5,
        "median_days": 29.0,
        "p90_days": 39.4,
    }
    # Writing: e4 13 days, e2 30 days (1 Feb → 3 Mar).
    assert (by_title["Writing"]["median_days"], by_title["Writing"]["p90_days"]) == (21.5, 28.3)
    assert data["total"] == {
        "passed": 4,
        "first_attempt": 3,
        "first_attempt_rate": 0.75,
        "median_days": 23.0,
        "p90_days": 38.4,
    }


def test_retention_of_earners_who_attempt_a_second_credential(world):
    data = impact.retention(scope=scope(world))
    figures = {c["cohort"]: (c["earners"], c["attempted_second"], c["earned_second"]) for c in data["cohorts"]}
    assert figures["2026-01"] == (1, 1, 1)  # e2 passed Reading, then Writing
    assert figures["2026-02"] == (1, 1, 0)  # e1 passed Reading, started Writing
    assert figures["2026-04"] == (1, 1, 0)  # e4 passed Writing, tried Reading (withdrawn)
    assert figures["2026-03"] == (0, 0, 0)
    assert data["total"] == {
        "earners": 3,
        "attempted_second": 3,
        "earned_second": 1,
        "attempted_rate": 1.0,
        "earned_rate": 0.3333,
    }
    # The earners of Writing: e2 (passed it in March) and e4 (April).
    writing = impact.retention(scope=scope(world, micro_credential_id=world.writing.micro_credential_id))
    assert writing["total"]["earners"] == 2
    assert {c["cohort"]: c["earners"] for c in writing["cohorts"] if c["earners"]} == {"2026-03": 1, "2026-04": 1}


def test_filters_by_unit_job_role_credential_and_dates(world):
    def badges(**filters):
        return impact.badges_over_time(scope=scope(world, **filters))["total"]["badges"]

    assert badges(unit_id=world.school_y.id) == 2
    assert badges(unit_id=world.school_x.id) == 1
    assert badges(unit_id=world.district.id) == 3  # the unit and the units below it
    assert badges(job_role=" Coach ") == 2
    assert badges(micro_credential_id=world.reading.micro_credential_id) == 2
    assert badges(date_from=date(2026, 2, 21), date_to=date(2026, 3, 3)) == 2
    # e3 is placed at the agency (above D): the nearest membership that names a unit counts.
    funnel = impact.funnel(scope=scope(world, job_role="support staff"))
    assert funnel["total"]["started"] == 1 and funnel["cohorts"][2]["submitted"] == 1


def test_a_parent_reports_across_its_children(world):
    everything = scope(world, actor=world.state_admin, organisation=world.state, include_children=True)
    data = impact.badges_over_time(scope=everything)
    assert data["total"] == {"badges": 5, "earners": 4}
    assert data["months"][0]["badges"] == 2  # e2 in D and e5 in E
    assert impact.funnel(scope=everything)["total"]["started"] == 9
    # Only the agency's own rows without "include child organisations": it has none.
    assert impact.badges_over_time(scope=scope(world, actor=world.state_admin, organisation=world.state))["total"] == {
        "badges": 0,
        "earners": 0,
    }
    # The agency's admin reads a district's report too, and the district's admin across its schools.
    assert scope(world, actor=world.state_admin, organisation=world.other).organisation_ids == (world.other.id,)
    district = scope(world, include_children=True)
    assert set(district.organisation_ids) == {world.district.id, world.school_x.id, world.school_y.id}


def test_a_child_sees_neither_its_parent_nor_a_sibling(world):
    for actor, organisation in (
        (world.admin, world.state),
        (world.admin, world.other),
        (world.other_admin, world.district),
        (world.school_admin, world.district),
        (world.school_admin, world.school_y),
    ):
        with pytest.raises(NotFound):
            scope(world, actor=actor, organisation=organisation, include_children=True)
    with pytest.raises(Forbidden):
        scope(world, actor=world.author)  # a member, but not an admin
    # A school's admin reads their own school.
    assert scope(world, actor=world.school_admin, organisation=world.school_x).organisation_ids == (world.school_x.id,)


def test_filters_naming_things_outside_the_scope_are_not_found(world):
    with pytest.raises(NotFound, match="micro-credential"):
        scope(world, micro_credential_id=world.maths.micro_credential_id)
    with pytest.raises(NotFound, match="unit"):
        scope(world, unit_id=world.other.id)
    with pytest.raises(NotFound, match="unit"):
        scope(world, unit_id=world.state.id)  # above the organisation reported on
    with pytest.raises(NotFound, match="organisation"):
        scope(world, organisation=type("Gone", (), {"id": world.e1.id})())


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"date_from": date(2026, 7, 1), "date_to": date(2026, 6, 1)}, "from"),
        ({"date_from": date(1, 1, 1)}, "from"),
        ({"date_to": date(9999, 12, 31)}, "to"),
        ({"date_from": date(1990, 1, 1), "date_to": date(2026, 1, 1)}, "from"),  # more than 120 months
        ({"job_role": "<script>"}, "job_role"),
        ({"job_role": "x" * 41}, "job_role"),
    ],
)
def test_hostile_filters_are_refused_precisely(world, filters, field):
    with pytest.raises(ValidationFailed) as refused:
        scope(world, **filters)
    assert refused.value.errors[0]["field"] == field


def test_an_unknown_split_is_refused(world):
    with pytest.raises(ValidationFailed):
        impact.badges_over_time(scope=scope(world), by="earner_id")


def test_the_default_range_is_the_last_twelve_months(world):
    with clock.frozen_at(NOW):
        default = impact.scope(actor=world.admin, organisation_id=world.district.id)
    assert (default.date_from, default.date_to) == (date(2025, 7, 1), date(2026, 6, 15))
    assert len(default.months) == 12
