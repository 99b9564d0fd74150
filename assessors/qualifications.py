"""Qualifications: which members may assess (and lead, i.e. adjudicate) which micro-credential."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from assessors.access import _micro_credential
from assessors.models import (
    Qualification,
)
from core import audit
from core.authz import authorize
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Role, User
from credentials.authoring import offerings


def list_qualifications(*, actor: User, organisation_id: uuid.UUID) -> list[Qualification]:
    authorize(actor, "review.manage", organisation_id)
    return list(
        db.session.scalars(
            select(Qualification)
            .where(Qualification.organisation_id == organisation_id)
            .order_by(Qualification.micro_credential_id, Qualification.created_at)
        )
    )


def qualify(
    *,
    actor: User,
    micro_credential_id: uuid.UUID,
    user_id: uuid.UUID,
    is_lead: bool = False,
    organisation_id: uuid.UUID | None = None,
) -> Qualification:
    """Let an assessor of the organisation review a micro-credential (a lead also adjudicates). The organisation is
    the micro-credential's owner, or (``organisation_id``) one that adopted it and reviews it in its own queue."""
    micro_credential = _micro_credential(micro_credential_id)
    reviewing_id = organisation_id or micro_credential.organisation_id
    authorize(actor, "review.manage", reviewing_id)
    if not offerings.reviews(reviewing_id, micro_credential.id):
        raise NotFound("No such micro-credential in this organisation.")
    user = db.session.get(User, user_id)
    if user is None or Role.ASSESSOR not in user.roles_in(reviewing_id):
        raise ValidationFailed.field("user_id", "This person is not an assessor of the organisation.")
    qualification = db.session.scalar(
        select(Qualification).where(
            Qualification.micro_credential_id == micro_credential_id, Qualification.user_id == user_id
        )
    )
    if qualification is not None and qualification.organisation_id != reviewing_id:
        raise Conflict("This assessor is already qualified for this micro-credential in another organisation.")
    if qualification is None:
        qualification = Qualification(
            organisation_id=reviewing_id,
            micro_credential_id=micro_credential_id,
            user_id=user_id,
            granted_by_id=actor.id,
        )
        db.session.add(qualification)
    qualification.is_lead = is_lead
    db.session.flush()
    audit.record(
        actor=actor,
        action="assessor.qualified",
        obj=qualification,
        organisation_id=reviewing_id,
        after={"user_id": user_id, "micro_credential_id": micro_credential_id, "is_lead": is_lead},
    )
    return qualification


def unqualify(*, actor: User, qualification_id: uuid.UUID) -> None:
    qualification = db.session.get(Qualification, qualification_id)
    if qualification is None:
        raise NotFound("No such qualification.")
    authorize(actor, "review.manage", qualification, hidden="No such qualification.")
    audit.record(
        actor=actor,
        action="assessor.unqualified",
        obj=qualification,
        organisation_id=qualification.organisation_id,
        before={"user_id": qualification.user_id, "micro_credential_id": qualification.micro_credential_id},
    )
    db.session.delete(qualification)
    db.session.flush()
