"""Conflicts of interest by structure: members' units in the hierarchy, "not from the same district", declared
conflicts; enforced by the claim query and explained to the admin."""

from __future__ import annotations

from typing import Any

import pytest

from assessors import conflicts, waiting
from assessors import queue as review_queue
from assessors import settings as review_settings
from core import members
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.models import Role
from tests.assessors.test_services import World
from tests.factories import OrganisationFactory, UserFactory, member


class Hierarchy(World):
    """A state agency that runs review, two districts, three schools; assessors and earners placed in them."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.d1 = OrganisationFactory(parent=self.org, name="District One")
        self.d2 = OrganisationFactory(parent=self.org, name="District Two")
        self.s1 = OrganisationFactory(parent=self.d1, name="School A")
        self.s2 = OrganisationFactory(parent=self.d1, name="School B")
        self.s3 = OrganisationFactory(parent=self.d2, name="School C")
        session.flush()

    def place(self, user: Any, unit: Any, job_role: str | None = "teacher") -> None:
        members.set_member_placement(
            actor=self.admin, organisation_id=self.org.id, user_id=user.id, unit_id=unit.id, job_role=job_role
        )

    def earner_in(self, unit: Any) -> Any:
        earner = member(self.org, Role.AUTHOR)  # a member here, so their unit is a record
        self.place(earner, unit)
        return earner


@pytest.fixture
def h(session: Any) -> Hierarchy:
    return Hierarchy(session)


def turn_on(h: Hierarchy, **changes: bool) -> None:
    review_settings.update_settings(actor=h.admin, organisation_id=h.org.id, changes=changes)


def test_same_unit_keeps_the_assessor_off_only_that_units_work(h):
    h.place(h.assessor, h.s1)
    own = h.submission(earner=h.earner_in(h.s1), minutes_ago=90)
    other = h.submission(earner=h.earner_in(h.s2), minutes_ago=30)
    assert h.claim(h.assessor).submission_id == own.id  # conflict off: the oldest comes first
    review_queue.release(actor=h.assessor, task_id=review_queue.my_claims(actor=h.assessor)[0].id)
    turn_on(h, conflict_by_unit=True)
    assert h.claim(h.assessor).submission_id == other.id  # the older one is School A's: skipped
    assert h.claim(h.assessor) is None
    assert h.claim(h.assessor2) is not None  # unplaced colleagues take it


def test_not_from_the_same_district_covers_sibling_schools_and_the_district_itself(h):
    h.place(h.assessor, h.s1)
    sibling = h.submission(earner=h.earner_in(h.s2), minutes_ago=100)
    district_office = h.submission(earner=h.earner_in(h.d1), minutes_ago=90)
    elsewhere = h.submission(earner=h.earner_in(h.s3), minutes_ago=80)
    turn_on(h, conflict_by_unit=True)
    assert h.claim(h.assessor).submission_id == sibling.id  # same unit only: a sibling school is fine
    review_queue.release(actor=h.assessor, task_id=review_queue.my_claims(actor=h.assessor)[0].id)
    turn_on(h, conflict_by_parent=True)
    assert h.claim(h.assessor).submission_id == elsewhere.id
    assert h.claim(h.assessor) is None
    # Placed at the district office, an assessor is kept off the office's and its schools' work.
    h.place(h.assessor2, h.d1)
    assert h.claim(h.assessor2) is None
    assert h.claim(h.lead).submission_id == sibling.id  # unplaced: takes the oldest, then the next
    assert h.claim(h.lead).submission_id == district_office.id


def test_the_reviewing_organisation_is_not_a_district(h):
    # Both placed at the state agency itself: a state-wide review must not keep everyone off everything.
    h.place(h.assessor, h.org)
    submission = h.submission(earner=h.earner_in(h.d2))
    turn_on(h, conflict_by_parent=True)
    assert h.claim(h.assessor).submission_id == submission.id


def test_a_declared_conflict_holds_whatever_the_case_and_before_the_person_signs_up(h, session):
    known = h.submission(earner=member(h.org, email="Pat.Doe@example.org"), minutes_ago=90)
    conflicts.declare(actor=h.assessor, email="  pat.doe@EXAMPLE.org ", reason="My sister")
    conflicts.declare(actor=h.assessor, email="later@example.org")
    newcomer = UserFactory(email="Later@Example.org")
    later = h.submission(earner=newcomer, minutes_ago=60)
    assert h.claim(h.assessor) is None
    assert {h.claim(h.assessor2).submission_id, h.claim(h.lead).submission_id} == {known.id, later.id}


def test_withdrawing_a_declared_conflict_gives_the_work_back(h):
    h.submission(earner=member(h.org, email="pat@example.org"))
    row = conflicts.declare(actor=h.assessor, email="pat@example.org")
    assert h.claim(h.assessor) is None
    with pytest.raises(NotFound):
        conflicts.withdraw(actor=h.assessor2, conflict_id=row.id)  # someone else's declaration is unknown
    conflicts.withdraw(actor=h.assessor, conflict_id=row.id)
    assert h.claim(h.assessor) is not None
    assert conflicts.list_declared(actor=h.assessor) == []


@pytest.mark.parametrize(
    "email",
    [
        "",
        "   ",
        "pat",
        "pat@",
        "@example.org",
        "pat@localhost",
        "pat @example.org",
        "pat@exa\nmple.org",
        "a" * 250 + "@example.org",
        None,
        42,
        ["pat@example.org"],
        {"email": "x"},
    ],
)
def test_declaring_refuses_what_is_not_an_email(h, email):
    with pytest.raises(ValidationFailed) as caught:
        conflicts.declare(actor=h.assessor, email=email)
    assert caught.value.errors[0]["field"] == "email"


def test_declaring_refuses_oneself_a_duplicate_and_an_overlong_reason(h):
    with pytest.raises(ValidationFailed):
        conflicts.declare(actor=h.assessor, email=h.assessor.email.upper())
    with pytest.raises(ValidationFailed) as caught:
        conflicts.declare(actor=h.assessor, email="pat@example.org", reason="x" * 201)
    assert caught.value.errors[0]["field"] == "reason"
    with pytest.raises(ValidationFailed):
        conflicts.declare(actor=h.assessor, email="pat@example.org", reason=["list"])
    conflicts.declare(actor=h.assessor, email="pat@example.org")
    with pytest.raises(Conflict):
        conflicts.declare(actor=h.assessor, email="PAT@example.org")


def test_the_admin_sees_why_a_submission_waits(h):
    h.place(h.assessor, h.s1)
    h.place(h.assessor2, h.s2)
    conflicts.declare(actor=h.lead, email="pat@example.org")
    earner = member(h.org, Role.AUTHOR, email="pat@example.org")
    h.place(earner, h.s2)
    h.submission(earner=earner)
    turn_on(h, conflict_by_parent=True)
    listing = review_queue.list_queue(actor=h.admin, organisation_id=h.org.id)
    reasons = waiting.why_waiting(actor=h.admin, organisation_id=h.org.id, items=listing.items)
    assert list(reasons.values()) == [
        "No qualified assessor may take it (kept off: 1 declared conflict, 2 same district)."
    ]
    for who in (h.assessor, h.assessor2, h.lead):
        assert h.claim(who) is None  # the reason agrees with the claim query
    with pytest.raises(Forbidden):
        waiting.why_waiting(actor=h.assessor, organisation_id=h.org.id, items=listing.items)


def test_waiting_with_free_assessors_says_how_many(h):
    h.place(h.assessor, h.s1)
    h.submission(earner=h.earner_in(h.s1))
    turn_on(h, conflict_by_unit=True)
    listing = review_queue.list_queue(actor=h.admin, organisation_id=h.org.id)
    reasons = waiting.why_waiting(actor=h.admin, organisation_id=h.org.id, items=listing.items)
    assert list(reasons.values()) == ["2 of 3 qualified assessors may take it (kept off: 1 same unit)."]


def test_legacy_free_text_units_still_count_where_no_membership_names_a_unit(h):
    h.assessor.unit = "Lincoln Elementary"
    h.submission(earner=member(h.org, unit="Lincoln Elementary"))
    turn_on(h, conflict_by_unit=True)
    assert h.claim(h.assessor) is None
    assert h.claim(h.assessor2) is not None


def test_an_assessors_declarations_are_in_their_export_and_go_with_their_erasure(h, session):
    from assessors import personal_data
    from core import erasure

    conflicts.declare(actor=h.assessor, email="pat@example.org", reason="Neighbour")
    parts = {part.name: part for part in personal_data.export(h.assessor)}
    assert parts["declared_conflicts"].records[0]["email"] == "pat@example.org"
    request = erasure.request_erasure(actor=h.assessor)
    session.flush()
    erasure.carry_out(actor=h.admin, request_id=request.id)
    assert conflicts.list_declared(actor=h.assessor) == []
