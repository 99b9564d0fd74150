"""Helpers for the renewal tests (services and browser): a published version renewed by evidence, a badge of it,
and an assessor qualified to review its renewals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from badges.models import Badge
from core.db import db
from core.models import Role
from credentials.authoring import requirement_sets as sets
from credentials.authoring.models import CredentialVersion, Purpose
from tests.badges.issued import award, passed_submission
from tests.factories import CredentialVersionFactory, OrganisationFactory, QualificationFactory, member

PRACTICE = "This year I ran the method with two new classes and kept a log of what changed in their reading."


def make_renewable(version: CredentialVersion, months: int = 12) -> CredentialVersion:
    """Give ``version`` a renewal every ``months`` with one text requirement judged by one two-level criterion."""
    version.validity_days = None
    version.renewal_months = months
    version.renewal_passing_level = "Current"
    sets.replace_requirements(
        version.renewal_requirements,
        [{"key": "practice", "title": "Current practice", "prompt": "How do you use it now?", "evidence_kind": "text",
          "required": True, "min_words": 5}],
        Purpose.RENEWAL,
    )  # fmt: skip
    sets.replace_rubric(
        version.renewal_criteria,
        [{"key": "currency", "name": "Practice is current", "requirements": ["practice"],
          "levels": [{"name": "Lapsed", "points": 0, "descriptor": "No recent use."},
                     {"name": "Current", "points": 1, "descriptor": "Used this year, with reflection."}]}],
        Purpose.RENEWAL,
    )  # fmt: skip
    db.session.flush()
    return version


def renewable_version(title: str = "Close reading", **fields: Any) -> CredentialVersion:
    organisation = OrganisationFactory(url="https://district.example", email="badges@district.example")
    version = CredentialVersionFactory(published=True, organisation=organisation, title=title, **fields)
    return make_renewable(version)


def renewable_badge(version: CredentialVersion | None = None, *, awarded: datetime | None = None) -> Badge:
    """A badge of a renewable version (a new one unless given), awarded at ``awarded`` (default: now)."""
    return award(passed_submission(version=version or renewable_version()), decided_at=awarded)


def renewal_assessor(badge: Badge) -> Any:
    """A qualified assessor of the badge's organisation, which scores each submission once."""
    from assessors import settings

    version = db.session.get(CredentialVersion, badge.version_id)
    assert version is not None
    admin = member(badge.organisation, Role.ORG_ADMIN)
    settings.update_settings(
        actor=admin, organisation_id=badge.organisation_id, changes={"double_first_n": 0, "double_share": 0.0}
    )
    assessor = member(badge.organisation, Role.ASSESSOR)
    QualificationFactory(user=assessor, micro_credential=version.micro_credential)
    return assessor
