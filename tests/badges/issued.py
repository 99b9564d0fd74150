"""Helpers for the issuing tests: a passed submission handed to issuance, official-schema validation,
and openbadgeslib wired to fetch our public URLs through the test client."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft201909Validator

from assessors.issuance import Award, CriterionResult, hand_off
from badges import issuing, signing
from badges.models import Badge, BadgeSource
from core import clock
from core.db import db
from core.models import Role
from tests.factories import (
    AlignmentFactory,
    AnswerFactory,
    CredentialVersionFactory,
    OrganisationFactory,
    SubmissionFactory,
    member,
)

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "badges/schemas/ob_v3p0_achievementcredential_schema.json").read_text()
)
VALIDATOR = Draft201909Validator(SCHEMA, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(credential: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(credential)]


def passed_submission(*, evidence_public: bool = True, validity_days: int | None = 365, version: Any = None) -> Any:
    if version is None:
        organisation = OrganisationFactory(url="https://district.example", email="badges@district.example")
        version = CredentialVersionFactory(published=True, organisation=organisation, validity_days=validity_days)
        AlignmentFactory(version=version)
    earner = member(version.organisation)
    submission = SubmissionFactory(
        version=version, earner=earner, state="passed", evidence_public=evidence_public, decided_at=clock.now()
    )
    AnswerFactory(submission=submission, requirement_key="reflection", text="I taught; they read closely.")
    AnswerFactory(submission=submission, requirement_key="recording", text=None, url="https://video.example/1")
    return submission


def award(submission: Any, level: int = 2, decided_at: datetime | None = None) -> Badge:
    hand_off(
        Award(
            submission_id=submission.id,
            version_id=submission.version_id,
            earner_id=submission.earner_id,
            decided_at=decided_at or clock.now(),
            results=(CriterionResult(criterion_key="quality", level_position=level),),
        )
    )
    badge = db.session.query(Badge).filter_by(submission_id=submission.id).one()
    return badge


def admin_of(badge: Badge) -> Any:
    return member(badge.organisation, Role.ORG_ADMIN)


def downloader(client: FlaskClient) -> Any:
    """openbadgeslib's ``download`` hook answered by our app (it would otherwise fetch over HTTPS; did:web
    documents of ``did:web:localhost:…`` are asked for at https://localhost/…)."""

    def download(url: str) -> bytes:
        path = url.removeprefix("http://localhost").removeprefix("https://localhost")
        response = client.get(path)
        assert response.status_code == 200, (url, response.status_code)
        return response.data

    return download


def ago(days: int) -> datetime:
    return clock.now() - timedelta(days=days)


def issue_again(winner: Badge, submission: Any, **overrides: Any) -> Badge:
    """Sign and store a second badge for ``submission`` as a concurrent request would that passed the duplicate
    check a moment too early (same issue key as ``winner`` unless ``overrides`` say otherwise)."""
    issuer, achievement = issuing.version_documents(submission.version)
    fields: dict[str, Any] = {
        "organisation_id": winner.organisation_id,
        "issuer": issuer,
        "achievement": achievement,
        "recipient": signing.Recipient(email="e@example.org", name="E"),
        "results": [],
        "evidence": [],
        "awarded_at": winner.awarded_at,
        "valid_from": winner.valid_from,
        "valid_until": None,
        "source": BadgeSource.ASSESSMENT,
        "issue_key": winner.issue_key,
        "title": winner.title,
        **overrides,
    }
    return signing._sign_and_store(**fields)
