"""Programme settings per organisation and micro-credential (double scoring, turnaround, lease, calibration), with
the organisation's defaults behind each credential's own."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from assessors.access import _micro_credential
from assessors.models import (
    DEFAULT_SETTINGS,
    ProgrammeSettings,
    ReviewTask,
    TaskKind,
)
from core import audit
from core.authz import authorize
from core.db import db
from core.errors import NotFound
from core.models import User
from credentials.authoring import offerings
from credentials.portfolios.models import Submission


def _settings_map(organisation_id: uuid.UUID) -> Callable[[uuid.UUID | None], dict[str, Any]]:
    """All of an organisation's settings rows in one query, as a lookup by micro-credential."""
    rows = db.session.scalars(select(ProgrammeSettings).where(ProgrammeSettings.organisation_id == organisation_id))
    base = dict(DEFAULT_SETTINGS)
    own: dict[uuid.UUID, ProgrammeSettings] = {}
    for row in rows:
        if row.micro_credential_id is None:
            base.update({key: getattr(row, key) for key in DEFAULT_SETTINGS})
        else:
            own[row.micro_credential_id] = row

    def lookup(micro_credential_id: uuid.UUID | None) -> dict[str, Any]:
        values = dict(base)
        row = own.get(micro_credential_id) if micro_credential_id is not None else None
        if row is not None:
            values.update({key: getattr(row, key) for key in DEFAULT_SETTINGS})
        return values

    return lookup


def settings_for(organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None = None) -> dict[str, Any]:
    """The effective settings: the credential's own row, else the organisation's, else the defaults."""
    return _settings_map(organisation_id)(micro_credential_id)


def update_settings(
    *, actor: User, organisation_id: uuid.UUID, micro_credential_id: uuid.UUID | None = None, changes: dict[str, Any]
) -> dict[str, Any]:
    """Set the programme settings of an organisation or of one of its micro-credentials."""
    authorize(actor, "review.manage", organisation_id)
    if micro_credential_id is not None and not offerings.reviews(
        organisation_id, _micro_credential(micro_credential_id).id
    ):
        raise NotFound("No such micro-credential in this organisation.")
    row = db.session.scalar(
        select(ProgrammeSettings).where(
            ProgrammeSettings.organisation_id == organisation_id,
            ProgrammeSettings.micro_credential_id.is_(None)
            if micro_credential_id is None
            else ProgrammeSettings.micro_credential_id == micro_credential_id,
        )
    )
    before = settings_for(organisation_id, micro_credential_id)
    if row is None:
        row = ProgrammeSettings(organisation_id=organisation_id, micro_credential_id=micro_credential_id, **before)
        db.session.add(row)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.flush()
    after = settings_for(organisation_id, micro_credential_id)
    audit.record(
        actor=actor,
        action="review.settings_updated",
        obj=row,
        organisation_id=organisation_id,
        before=before,
        after=after,
    )
    return after


def _double_scored(submission: Submission, settings: dict[str, Any]) -> bool:
    """All of the first N submissions of a version, then a stable pseudo-random share of the rest."""
    earlier = db.session.scalar(
        select(func.count())
        .select_from(ReviewTask)
        .where(
            ReviewTask.version_id == submission.version_id,
            ReviewTask.kind == TaskKind.REVIEW.value,
            ReviewTask.slot == 1,
        )
    )
    if (earlier or 0) < settings["double_first_n"]:
        return True
    fraction = int(hashlib.sha256(submission.id.bytes).hexdigest()[:8], 16) / 0xFFFFFFFF
    return fraction < settings["double_share"]
