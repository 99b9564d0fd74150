"""Conflicts of interest: the rules that keep an assessor off some people's work, written once for the claim
query (SQL, both databases) and once for telling an admin why a submission waits (Python, the same rules).

- **declared**: the assessor named the earner (by email) on their conflicts page;
- **same unit** (``conflict_by_unit``): the earner works in the assessor's unit (school), from the members'
  units in the hierarchy, or the legacy free-text ``users.unit`` where no membership names one;
- **same district** (``conflict_by_parent``): the earner's unit is the assessor's unit or the unit above it, or
  sits right below one of those — "not from the same district". The reviewing organisation and those above it
  are not a district here: a state agency's review must not exclude everyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select

from assessors.models import DeclaredConflict, ReviewTask
from core import audit
from core.authz import ancestor_ids
from core.db import db
from core.errors import Conflict, NotFound, ValidationFailed
from core.members import unit_of
from core.models import Organisation, User

REASON_MAX = 200
EMAIL_MAX = 254


@dataclass
class AssessorConflicts:
    """What keeps one assessor off work in one organisation."""

    unit_id: uuid.UUID | None
    districts: set[uuid.UUID]
    legacy_unit: str | None
    declared_earner_ids: list[uuid.UUID] = field(default_factory=list)

    @classmethod
    def of(cls, actor: User, organisation_id: uuid.UUID) -> AssessorConflicts:
        unit_id = unit_of(actor, organisation_id)
        districts: set[uuid.UUID] = set()
        if unit_id is not None:
            parent = db.session.scalar(select(Organisation.parent_id).where(Organisation.id == unit_id))
            districts = {unit_id} | ({parent} if parent else set())
            districts -= {organisation_id, *ancestor_ids(organisation_id)}
        declared = list(
            db.session.scalars(
                select(User.id).where(
                    func.lower(User.email).in_(
                        select(DeclaredConflict.earner_email).where(DeclaredConflict.assessor_id == actor.id)
                    )
                )
            )
        )
        return cls(unit_id=unit_id, districts=districts, legacy_unit=actor.unit, declared_earner_ids=declared)

    def where(self, credentials: list[uuid.UUID], settings: Callable[[uuid.UUID | None], dict[str, Any]]) -> list[Any]:
        """Conditions on ``ReviewTask`` rows: the tasks these conflicts allow."""
        where: list[Any] = []
        if self.declared_earner_ids:
            where.append(ReviewTask.earner_id.not_in(self.declared_earner_ids))
        by_unit = [mc for mc in credentials if settings(mc)["conflict_by_unit"]]
        if by_unit and self.unit_id is not None:
            where.append(
                sa.or_(
                    ReviewTask.micro_credential_id.not_in(by_unit),
                    ReviewTask.earner_unit_id.is_(None),
                    ReviewTask.earner_unit_id != self.unit_id,
                )
            )
        if by_unit and self.legacy_unit:
            # Old data: both sides' free text, compared only where the earner's unit is not a record.
            where.append(
                sa.or_(
                    ReviewTask.micro_credential_id.not_in(by_unit),
                    ReviewTask.earner_unit_id.is_not(None),
                    ReviewTask.earner_unit.is_(None),
                    ReviewTask.earner_unit != self.legacy_unit,
                )
            )
        by_parent = [mc for mc in credentials if settings(mc)["conflict_by_parent"]]
        if by_parent and self.districts:
            districts = list(self.districts)
            where.append(
                sa.or_(
                    ReviewTask.micro_credential_id.not_in(by_parent),
                    sa.and_(
                        sa.or_(ReviewTask.earner_unit_id.is_(None), ReviewTask.earner_unit_id.not_in(districts)),
                        sa.or_(
                            ReviewTask.earner_unit_parent_id.is_(None),
                            ReviewTask.earner_unit_parent_id.not_in(districts),
                        ),
                    ),
                )
            )
        return where

    def reason(self, task: ReviewTask, settings: dict[str, Any]) -> str | None:
        """Why these conflicts keep the assessor off ``task`` (the same rules as ``where``), or None."""
        if task.earner_id in self.declared_earner_ids:
            return "declared conflict"
        if settings["conflict_by_unit"]:
            if self.unit_id is not None and task.earner_unit_id == self.unit_id:
                return "same unit"
            if self.legacy_unit and task.earner_unit_id is None and task.earner_unit == self.legacy_unit:
                return "same unit"
        near = {task.earner_unit_id, task.earner_unit_parent_id} & self.districts
        if settings["conflict_by_parent"] and near:
            return "same district"
        return None


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed.field("email", "Enter the email address of the person.")
    email = value.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > EMAIL_MAX or any(c.isspace() or ord(c) < 32 for c in email):
        raise ValidationFailed.field("email", "Enter the email address of the person.")
    return email


def declare(*, actor: User, email: Any, reason: Any = "") -> DeclaredConflict:
    """Declare a conflict of interest with the person of ``email``: their work is never offered to the actor.
    Accepted whether or not the address has an account, so the answer says nothing about who is signed up."""
    email = _email(email)
    if not isinstance(reason, str) or len(reason.strip()) > REASON_MAX:
        raise ValidationFailed.field("reason", f"A reason is at most {REASON_MAX} characters.")
    if email == actor.email.lower():
        raise ValidationFailed.field("email", "Your own work is never offered to you; name someone else.")
    existing = db.session.scalar(
        select(DeclaredConflict).where(DeclaredConflict.assessor_id == actor.id, DeclaredConflict.earner_email == email)
    )
    if existing is not None:
        raise Conflict("You already declared a conflict with this person.")
    row = DeclaredConflict(assessor_id=actor.id, earner_email=email, reason=" ".join(reason.split()))
    db.session.add(row)
    db.session.flush()
    audit.record(actor=actor, action="review.conflict_declared", obj=row, after={"reason": row.reason})
    return row


def list_declared(*, actor: User) -> list[DeclaredConflict]:
    return list(
        db.session.scalars(
            select(DeclaredConflict)
            .where(DeclaredConflict.assessor_id == actor.id)
            .order_by(DeclaredConflict.created_at, DeclaredConflict.id)
        )
    )


def withdraw(*, actor: User, conflict_id: uuid.UUID) -> None:
    row = db.session.get(DeclaredConflict, conflict_id)
    if row is None or row.assessor_id != actor.id:
        raise NotFound("No such declared conflict.")
    db.session.delete(row)
    db.session.flush()
    audit.record(actor=actor, action="review.conflict_withdrawn", obj=row)
