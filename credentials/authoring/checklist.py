"""The first-run checklist's authoring steps (see ``core.checklist``): a first micro-credential drafted, its
rubric, its alignments to standards, and a version published."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from core.checklist import register_step
from core.db import db
from core.models import Organisation
from credentials.authoring.models import (
    Alignment,
    CredentialVersion,
    MicroCredential,
    RubricCriterion,
    VersionState,
)


def _any(condition: Any) -> bool:
    return bool(db.session.scalar(select(exists().where(condition))))


def has_draft(organisation: Organisation) -> bool:
    return _any(MicroCredential.organisation_id == organisation.id)


def _versions_of(organisation: Organisation) -> Any:
    return select(CredentialVersion.id).where(CredentialVersion.organisation_id == organisation.id)


def has_rubric(organisation: Organisation) -> bool:
    return _any(RubricCriterion.version_id.in_(_versions_of(organisation)))


def has_alignment(organisation: Organisation) -> bool:
    return _any(Alignment.version_id.in_(_versions_of(organisation)))


def has_published(organisation: Organisation) -> bool:
    # A retired version was published once; the step stays done.
    return _any(
        (CredentialVersion.organisation_id == organisation.id)
        & CredentialVersion.state.in_([VersionState.PUBLISHED.value, VersionState.RETIRED.value])
    )


def _for(organisation: Organisation) -> dict[str, Any]:
    return {"org": organisation.id}


def register() -> None:
    register_step(
        "drafted",
        label=_l("Draft your first micro-credential"),
        hint=_l("Its competency statement, key method and what earners submit as evidence."),
        order=20,
        done=has_draft,
        endpoint="authoring.create",
        params=_for,
    )
    register_step(
        "rubric",
        label=_l("Write its scoring rubric"),
        hint=_l("Criteria with levels, and the passing rule assessors will apply."),
        order=30,
        done=has_rubric,
        endpoint="authoring.index",
        params=_for,
    )
    register_step(
        "standards",
        label=_l("Align it to standards"),
        hint=_l("On the draft's Standards tab; badges then name the standards they certify."),
        order=35,
        done=has_alignment,
        endpoint="authoring.index",
        params=_for,
    )
    register_step(
        "published",
        label=_l("Publish it"),
        hint=_l("Another author reviews and approves the draft; then it is published to the catalogue."),
        order=40,
        done=has_published,
        endpoint="authoring.index",
        params=_for,
    )
