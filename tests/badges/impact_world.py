"""A small known dataset for the impact reports (tests/badges/test_impact*.py; the figures are worked out by
hand in test_impact.py).

    State (S) ─┬─ District D ─┬─ School X
               │              └─ School Y
               └─ District E
Reading and Writing are D's micro-credentials, Maths is E's. All times are 10:00 UTC in 2026.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from badges import issuing, signing
from badges.models import Badge, BadgeSource, StatusList
from core.db import db
from core.models import Role
from tests.factories import (
    AlignmentFactory,
    CredentialVersionFactory,
    MembershipFactory,
    OrganisationFactory,
    StandardItemFactory,
    SubmissionFactory,
    UserFactory,
    member,
)

NOW = datetime(2026, 6, 15, 10, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


class ImpactWorld:
    """``signed``: real signed badges (for the browser tests, whose server pages show every badge); otherwise
    rows with an empty credential, which only the reports read."""

    def __init__(self, *, signed: bool = False) -> None:
        self.signed = signed
        self.state = OrganisationFactory(name="State agency", kind="state_agency")
        self.district = OrganisationFactory(name="District D", parent=self.state)
        self.school_x = OrganisationFactory(name="School X", parent=self.district)
        self.school_y = OrganisationFactory(name="School Y", parent=self.district)
        self.other = OrganisationFactory(name="District E", parent=self.state)
        self.state_admin = member(self.state, Role.ORG_ADMIN)
        self.admin = member(self.district, Role.ORG_ADMIN)
        self.school_admin = member(self.school_x, Role.ORG_ADMIN)
        self.other_admin = member(self.other, Role.ORG_ADMIN)
        self.author = member(self.district, Role.AUTHOR)
        self.reading = CredentialVersionFactory(published=True, organisation=self.district, title="Reading")
        self.writing = CredentialVersionFactory(published=True, organisation=self.district, title="Writing")
        self.maths = CredentialVersionFactory(published=True, organisation=self.other, title="Maths")
        self.r1 = StandardItemFactory(human_coding_scheme="R.1", full_statement="Reads closely")
        self.w1 = StandardItemFactory(human_coding_scheme="W.1", full_statement="Writes clearly")
        AlignmentFactory(version=self.reading, item=self.r1)
        AlignmentFactory(version=self.writing, item=self.w1)
        AlignmentFactory(version=self.writing, item=self.r1)
        self.e1 = self._earner(self.district, self.school_x, "teacher")
        self.e2 = self._earner(self.district, self.school_y, "coach")
        self.e3 = self._earner(self.state, self.school_x, "support staff")  # placed at the agency, above D
        self.e4 = UserFactory()  # no membership: no unit or job role
        self.e5 = UserFactory()
        self.lists: dict[Any, StatusList] = {}
        # e1: Reading "not yet" then passed at the second attempt; Writing started, still a draft.
        self._submission(self.reading, self.e1, 1, (1, 10), (1, 20), (2, 1), "not_yet")
        s = self._submission(self.reading, self.e1, 2, (2, 5), (2, 10), (2, 21), "passed")
        self._badge(s)
        self._submission(self.writing, self.e1, 1, (3, 1), None, None, "draft")
        # e2: Reading and Writing passed at the first attempt; Reading's badge was also renewed (not counted).
        s = self._submission(self.reading, self.e2, 1, (1, 15), (1, 25), (1, 31), "passed")
        renewed = self._badge(s)
        self._badge(None, version=self.reading, earner=self.e2, awarded=at(1, 31), renewed_from=renewed)
        s = self._submission(self.writing, self.e2, 1, (2, 1), (2, 3), (3, 3), "passed")
        self._badge(s)
        # e3: Reading submitted, in review.
        self._submission(self.reading, self.e3, 1, (3, 10), (3, 12), None, "in_review")
        # e4: Writing passed; Reading submitted then withdrawn.
        s = self._submission(self.writing, self.e4, 1, (4, 2), (4, 5), (4, 15), "passed")
        self._badge(s)
        self._submission(self.reading, self.e4, 1, (4, 3), (4, 4), None, "withdrawn")
        # e5: Maths passed in District E; an older revoked badge and one before the range do not count.
        s = self._submission(self.maths, self.e5, 1, (1, 5), (1, 6), (1, 20), "passed")
        self._badge(s)
        self._badge(None, version=self.maths, earner=self.e5, awarded=at(1, 21), revoked=True)
        self._badge(None, version=self.maths, earner=self.e4, awarded=datetime(2025, 12, 1, tzinfo=UTC))
        db.session.flush()

    def _earner(self, organisation: Any, unit: Any, job_role: str) -> Any:
        user = UserFactory()
        MembershipFactory(
            organisation=organisation, user=user, role=Role.AUTHOR.value, unit_id=unit.id, job_role=job_role
        )
        db.session.refresh(user)
        return user

    def _submission(
        self, version: Any, earner: Any, attempt: int, started: Any, submitted: Any, decided: Any, state: str
    ) -> Any:
        return SubmissionFactory(
            version=version,
            earner=earner,
            attempt=attempt,
            state=state,
            created_at=at(*started),
            submitted_at=at(*submitted) if submitted else None,
            decided_at=at(*decided) if decided else None,
            withdrawn_at=at(4, 6) if state == "withdrawn" else None,
        )

    def _badge(
        self,
        submission: Any,
        *,
        version: Any = None,
        earner: Any = None,
        awarded: datetime | None = None,
        revoked: bool = False,
        renewed_from: Any = None,
    ) -> Badge:
        version = version or submission.version
        organisation_id = version.organisation_id
        if organisation_id not in self.lists:
            self.lists[organisation_id] = StatusList(organisation_id=organisation_id)
            db.session.add(self.lists[organisation_id])
            db.session.flush()
        status_list = self.lists[organisation_id]
        status_list.allocated += 1
        awarded = awarded or submission.decided_at
        earner = earner or submission.earner
        if self.signed:
            badge = issuing.issue(
                version=version,
                recipient=signing.Recipient(email=earner.email, name=earner.name, user_id=earner.id),
                results=[],
                evidence=[],
                awarded_at=awarded,
                source=BadgeSource.ASSESSMENT,
                issue_key=f"impact-{uuid.uuid4()}",
                submission_id=submission.id if submission else None,
            )
            badge.source = "renewal" if renewed_from else badge.source
            badge.renewed_from_id = renewed_from.id if renewed_from else None
            badge.revoked_at = NOW if revoked else None
            db.session.flush()
            return badge
        badge = Badge(
            organisation_id=organisation_id,
            version_id=version.id,
            earner_id=earner.id,
            source="renewal" if renewed_from else "assessment",
            submission_id=submission.id if submission else None,
            renewed_from_id=renewed_from.id if renewed_from else None,
            issue_key=f"impact-{status_list.id}-{status_list.allocated}",
            title=version.title,
            status_list_id=status_list.id,
            status_index=status_list.allocated,
            awarded_at=awarded,
            valid_from=awarded,
            issued_at=awarded,
            credential={},
            jwt="",
            revoked_at=NOW if revoked else None,
        )
        db.session.add(badge)
        db.session.flush()
        return badge
