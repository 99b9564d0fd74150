"""Where members work: the unit of the hierarchy each member belongs to (the organisation itself or a unit below
it, such as a school of the district) and their job role, kept on their membership rows; and the unit a person
works in as seen from an organisation, which review uses for conflicts of interest."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from core import audit
from core.authz import MAX_DEPTH, ancestor_ids, authorize
from core.db import db
from core.errors import NotFound, ValidationFailed
from core.models import Membership, Organisation, User


def _member(user: User, organisation_id: uuid.UUID) -> dict[str, Any]:
    rows = [m for m in user.memberships if m.organisation_id == organisation_id]
    placed = next((m for m in rows if m.unit_id is not None or m.job_role), None)
    return {
        "user": user,
        "roles": sorted(m.role for m in rows),
        "unit": placed.unit if placed else None,
        "job_role": placed.job_role if placed else None,
    }


# Offered on the members page; an organisation may use any other word (see ``_job_role``).
JOB_ROLES = ("teacher", "administrator", "support staff", "coach", "other")
JOB_ROLE_MAX = 40
_JOB_ROLE_RE = re.compile(r"^[^\W\d_](?:[\w '&/-]*\w)?$")


def _job_role(value: str | None, field: str = "job_role") -> str | None:
    """A job role as stored: trimmed, lower case, letters and a few joiners; blank is none."""
    value = " ".join((value or "").split()).lower()
    if not value:
        return None
    if len(value) > JOB_ROLE_MAX or not _JOB_ROLE_RE.match(value):
        raise ValidationFailed.field(
            field, f"A job role is a word or a few (letters, spaces, - / &), at most {JOB_ROLE_MAX} characters."
        )
    return value


def unit_choices(organisation_id: uuid.UUID) -> list[Organisation]:
    """The units a member of the organisation can belong to: itself and every unit below it, by depth then name."""
    found: list[Organisation] = []
    level = [db.session.get(Organisation, organisation_id)]
    depth = 0
    while level and level[0] is not None and depth <= MAX_DEPTH:
        found.extend(level)
        level = list(
            db.session.scalars(
                select(Organisation)
                .where(Organisation.parent_id.in_([o.id for o in level]))
                .order_by(Organisation.name, Organisation.id)
            )
        )
        depth += 1
    return found


def _unit(organisation: Organisation, unit_id: uuid.UUID | None, field: str = "unit_id") -> uuid.UUID | None:
    if unit_id is None:
        return None
    if unit_id not in {o.id for o in unit_choices(organisation.id)}:
        raise ValidationFailed.field(field, "Choose this organisation or one of its units.")
    return unit_id


def job_roles_in_use(organisation_id: uuid.UUID) -> list[str]:
    """The suggested job roles and the ones this organisation added, for the pickers."""
    own = db.session.scalars(
        select(Membership.job_role)
        .where(Membership.organisation_id == organisation_id, Membership.job_role.is_not(None))
        .distinct()
    )
    return list(JOB_ROLES) + sorted(set(own) - set(JOB_ROLES))


def set_member_placement(
    *, actor: User, organisation_id: uuid.UUID, user_id: uuid.UUID, unit_id: uuid.UUID | None, job_role: str | None
) -> dict[str, Any]:
    """Say which unit a member works in (this organisation or a unit below it) and their job role."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    authorize(actor, "organisation.manage_members", organisation)
    user = db.session.get(User, user_id)
    rows = [m for m in user.memberships if m.organisation_id == organisation.id] if user is not None else []
    if user is None or not rows:
        raise NotFound("This user is not a member of the organisation; invite them instead.")
    unit_id = _unit(organisation, unit_id)
    job_role = _job_role(job_role)
    before = {"unit_id": str(rows[0].unit_id) if rows[0].unit_id else None, "job_role": rows[0].job_role}
    for membership in rows:
        membership.unit_id = unit_id
        membership.job_role = job_role
    db.session.flush()
    audit.record(
        actor=actor,
        action="membership.placed",
        obj=user,
        organisation_id=organisation.id,
        before=before,
        after={"unit_id": str(unit_id) if unit_id else None, "job_role": job_role},
    )
    return _member(user, organisation.id)


def unit_of(user: User, organisation_id: uuid.UUID) -> uuid.UUID | None:
    """The unit ``user`` works in as seen from an organisation: named on their membership there, else on one in
    an organisation above it (nearest first); None when no membership names one."""
    for org_id in [organisation_id, *ancestor_ids(organisation_id)]:
        for membership in user.memberships:
            if membership.organisation_id == org_id and membership.unit_id is not None:
                return membership.unit_id
    return None
