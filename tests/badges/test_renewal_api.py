"""Renewal at the edges: the content document's renewal set (validation, completeness, copied into version N+1,
the authoring page), the API for starting and reading a renewal, and the earner's pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core import clock
from core.db import db
from core.errors import ValidationFailed
from core.models import Role, User
from credentials.authoring import publication, versions
from tests.badges.renewable import renewable_badge
from tests.conftest import bearer, csrf_token, problem
from tests.factories import OrganisationFactory, member, valid_content

LEVELS = [{"name": "Lapsed", "points": 0}, {"name": "Current", "points": 1}]


def _renewal(**overrides: Any) -> dict[str, Any]:
    return {
        "every_months": 24,
        "requirements": [{"key": "reflection", "title": "Now", "prompt": "What now?", "evidence_kind": "text"}],
        "rubric": [{"key": "currency", "name": "Current", "requirements": ["reflection"], "levels": LEVELS}],
        "passing_rule": {"level": "Current"},
        **overrides,
    }


def _draft(renewal: dict[str, Any] | None) -> Any:
    organisation = OrganisationFactory()
    author = member(organisation, Role.AUTHOR)
    content = valid_content(validity_days=None, renewal=renewal)
    return author, versions.create_micro_credential(actor=author, organisation_id=organisation.id, content=content)


def test_a_renewal_set_is_stored_copied_and_diffed(session: Any) -> None:
    author, version = _draft(_renewal())
    # The renewal set may reuse the award set's keys: each set is separate.
    assert [r.key for r in version.renewal_requirements] == ["reflection"]
    assert [c.key for c in version.renewal_criteria] == ["currency"]
    assert "reflection" in [r.key for r in version.requirements]
    assert versions.content_of(version)["renewal"]["every_months"] == 24
    versions.check_complete(version)
    reviewer = member(version.organisation, Role.AUTHOR, Role.ORG_ADMIN)  # another author approves
    publication.request_review(actor=author, version_id=version.id)
    publication.approve(actor=reviewer, version_id=version.id)
    publication.publish(actor=reviewer, version_id=version.id)
    nxt = versions.new_version(actor=author, micro_credential_id=version.micro_credential_id)
    assert versions.content_of(nxt)["renewal"] == versions.content_of(version)["renewal"]
    versions.update_draft(actor=author, version_id=nxt.id, changes={"renewal": _renewal(every_months=36)})
    changes = versions.diff(actor=author, version_id=nxt.id, against_id=version.id)["changes"]
    assert {"path": "renewal.every_months", "change": "changed", "before": 24, "after": 36} in changes
    versions.update_draft(actor=author, version_id=nxt.id, changes={"renewal": None})
    assert nxt.renewal_months is None and nxt.renewal_requirements == [] and "renewal" not in versions.content_of(nxt)


def test_bad_renewal_sets_are_refused_at_their_place(session: Any) -> None:
    bad = _renewal(rubric=[{"key": "x", "name": "X", "requirements": ["nope"], "levels": LEVELS}])
    with pytest.raises(ValidationFailed) as refused:
        _draft(bad)
    assert {e["field"] for e in refused.value.errors} == {"renewal.rubric.0.requirements.0"}
    with pytest.raises(ValidationFailed) as both:
        organisation = OrganisationFactory()
        versions.create_micro_credential(
            actor=member(organisation, Role.AUTHOR),
            organisation_id=organisation.id,
            content=valid_content(validity_days=365, renewal=_renewal()),
        )
    assert [e["field"] for e in both.value.errors] == ["validity_days"]
    _author, empty = _draft(_renewal(requirements=[], rubric=[], passing_rule=None))
    missing = {e["field"] for e in versions.missing_for_review(empty)}
    assert {"renewal.requirements", "renewal.rubric", "renewal.passing_rule"} <= missing


def test_the_api_takes_and_returns_the_renewal_set(client: Any, session: Any) -> None:
    organisation = OrganisationFactory()
    author = member(organisation, Role.AUTHOR)
    body = valid_content(validity_days=None, renewal=_renewal())
    body["alignments"] = []
    path = f"/api/v1/organisations/{organisation.id}/micro-credentials"
    created = client.post(path, json=body, headers=bearer(author))
    assert created.status_code == 201, created.json
    assert created.json["renewal"]["every_months"] == 24
    assert created.json["renewal"]["rubric"][0]["key"] == "currency"
    bad = client.post(
        f"/api/v1/organisations/{organisation.id}/micro-credentials",
        json={**body, "renewal": {**_renewal(), "every_months": 0}},
        headers=bearer(author),
    )
    assert any(e["field"].startswith("renewal") for e in problem(bad, 422)["errors"])


def test_earners_start_and_read_a_renewal_by_api(client: Any, session: Any) -> None:
    # API tokens carry real times, so the badges are dated instead of the clock moved.
    later = renewable_badge()
    badge = renewable_badge(awarded=clock.now() - timedelta(days=335))  # expires in about a month
    mine = bearer(db.session.get(User, badge.earner_id))
    url = f"/api/v1/badges/{badge.id}/renewal"
    early = bearer(db.session.get(User, later.earner_id))
    assert client.get(f"/api/v1/badges/{later.id}/renewal", headers=early).json["state"] == "not_yet"
    problem(client.post(f"/api/v1/badges/{later.id}/renewal", headers=early), 409)
    assert client.get(url, headers=mine).json["state"] == "renewable"
    started = client.post(url, headers=mine)
    assert started.status_code == 201 and started.json["kind"] == "renewal"
    assert started.json["renews_badge_id"] == str(badge.id)
    again = client.post(url, headers=mine)
    assert again.status_code == 200 and again.json["id"] == started.json["id"]
    state = client.get(url, headers=mine).json
    assert state["state"] == "draft" and state["submission_id"] == started.json["id"]
    theirs = bearer(member(badge.organisation))
    problem(client.post(url, headers=theirs), 404)
    problem(client.get(url, headers=theirs), 404)
    problem(client.post(url), 401)


def test_my_badges_and_the_renewal_page(client: Any, session: Any) -> None:
    from tests.conftest import TEST_PASSWORD

    badge = renewable_badge()
    earner = db.session.get(User, badge.earner_id)
    assert badge.valid_until is not None
    with clock.frozen_at(badge.valid_until - timedelta(days=10)):
        login = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"email": earner.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(login)})
        mine = client.get("/my/badges").get_data(as_text=True)
        assert f"/my/badges/{badge.id}/renew" in mine and ">Renew<" in mine
        page = client.get(f"/my/badges/{badge.id}/renew")
        assert page.status_code == 200 and "Start renewal" in page.get_data(as_text=True)
        token = csrf_token(page.get_data(as_text=True))
        started = client.post(f"/my/badges/{badge.id}/renew", data={"csrf_token": token})
        assert started.status_code == 302 and "/portfolio/" in started.headers["Location"]
        draft = client.get(started.headers["Location"]).get_data(as_text=True)
        assert "renewal" in draft and "Current practice" in draft
        assert "Continue renewal" in client.get("/my/badges").get_data(as_text=True)
        other = renewable_badge()
        assert client.get(f"/my/badges/{other.id}/renew").status_code == 404
