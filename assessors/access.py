"""Who may do what in review (the rules checked through ``core.authz``), and the lookups every review module shares."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from assessors.models import Qualification
from core.authz import admin_above, has_role, rule
from core.db import db
from core.errors import NotFound
from core.models import Organisation, Role, User
from credentials.authoring.models import MicroCredential


@rule("review.manage", description="manage assessors and review settings of this organisation")
def _may_manage(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("review.report", description="read review reports of this organisation")
def _may_report(actor: User | None, organisation: Any) -> bool:
    # A parent's admins read the reports of its units (a district's of its schools), not their drafts or queues.
    return has_role(actor, organisation, Role.ORG_ADMIN) or admin_above(actor, organisation)


@rule("review.assess", description="assess for this organisation")
def _may_assess(actor: User | None, organisation: Any) -> bool:
    return bool(actor) and bool(actor.roles_in(_org_id(organisation)) & {Role.ASSESSOR})  # type: ignore[union-attr]


@rule("review.anchor", description="mark calibration anchors for this micro-credential")
def _may_anchor(actor: User | None, target: Any) -> bool:
    """Authors and org admins of the organisation, and the lead assessors of this micro-credential (``target``
    is the micro-credential or one of its submissions)."""
    if has_role(actor, target, Role.AUTHOR, Role.ORG_ADMIN):
        return True
    if actor is None or Role.ASSESSOR not in actor.roles_in(_org_id(target)):
        return False
    micro_credential_id = getattr(target, "micro_credential_id", None) or target.id
    return bool(
        db.session.scalar(
            select(Qualification.id).where(
                Qualification.user_id == actor.id,
                Qualification.micro_credential_id == micro_credential_id,
                Qualification.is_lead.is_(True),
            )
        )
    )


def _org_id(target: Any) -> uuid.UUID:
    return target if isinstance(target, uuid.UUID) else getattr(target, "organisation_id", None) or target.id


def _micro_credential(micro_credential_id: uuid.UUID) -> MicroCredential:
    micro_credential = db.session.get(MicroCredential, micro_credential_id)
    if micro_credential is None:
        raise NotFound("No such micro-credential.")
    return micro_credential


def organisation_of(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation
