"""Stacks: groups of micro-credentials whose completion earns a badge of its own (all of them, or
``required_count``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from core import audit, clock
from core.authz import authorize, can, has_role, rule
from core.db import Page, db, paginate
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed, field_error
from core.models import Role, User
from credentials.authoring.models import (
    MicroCredential,
    Stack,
    StackMember,
    StackState,
    VersionState,
)
from credentials.authoring.versions import organisation_of


@rule("stack.manage")
def _may_manage_stack(actor: User | None, target: Any) -> bool:
    return has_role(actor, target, Role.AUTHOR, Role.ORG_ADMIN)


@rule("stack.read")
def _may_read_stack(actor: User | None, stack: Stack) -> bool:
    return stack.state != StackState.DRAFT.value or has_role(actor, stack, Role.AUTHOR, Role.ORG_ADMIN)


STACK_FIELDS = ("title", "description", "required_count", "validity_days", "state")


def _stack(stack_id: uuid.UUID) -> Stack:
    stack = db.session.get(Stack, stack_id)
    if stack is None:
        raise NotFound("No such stack.")
    return stack


def _set_members(stack: Stack, micro_credential_ids: list[uuid.UUID]) -> None:
    found = {
        m.id: m for m in db.session.scalars(select(MicroCredential).where(MicroCredential.id.in_(micro_credential_ids)))
    }
    errors = []
    for i, mc_id in enumerate(micro_credential_ids):
        mc = found.get(mc_id)
        if mc is None or mc.organisation_id != stack.organisation_id:
            errors.append(field_error(f"micro_credentials.{i}", "No such micro-credential in this organisation."))
        elif not any(v.state == VersionState.PUBLISHED.value for v in mc.versions):
            errors.append(field_error(f"micro_credentials.{i}", "Only published micro-credentials can be stacked."))
    if errors:
        raise ValidationFailed("The stack names micro-credentials it cannot hold.", errors=errors)
    stack.members.clear()
    db.session.flush()
    stack.members.extend(
        StackMember(micro_credential_id=mc_id, position=i) for i, mc_id in enumerate(micro_credential_ids)
    )


def _check_required_count(required_count: int | None, members: list[uuid.UUID]) -> None:
    if required_count is not None and required_count > len(members):
        raise ValidationFailed.field("required_count", "Cannot exceed the number of micro-credentials in the stack.")


def create_stack(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    title: str,
    micro_credentials: list[uuid.UUID],
    description: str = "",
    required_count: int | None = None,
    validity_days: int | None = None,
) -> Stack:
    organisation = organisation_of(organisation_id)
    authorize(actor, "stack.manage", organisation)
    _check_required_count(required_count, micro_credentials)
    stack = Stack(
        organisation_id=organisation.id,
        title=title,
        description=description,
        required_count=required_count,
        validity_days=validity_days,
        created_by_id=actor.id,
    )
    db.session.add(stack)
    db.session.flush()
    _set_members(stack, micro_credentials)
    db.session.flush()
    audit.record(
        actor=actor,
        action="stack.created",
        obj=stack,
        organisation_id=stack.organisation_id,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack


def update_stack(
    *, actor: User, stack_id: uuid.UUID, changes: dict[str, Any], expected_version: int | None = None
) -> Stack:
    stack = _stack(stack_id)
    authorize(actor, "stack.manage", stack, hidden="No such stack.")
    PreconditionFailed.unless_current(
        expected_version, stack.lock_version, "The stack was changed by someone else; reload it and try again."
    )
    if stack.state != StackState.DRAFT.value:
        raise Conflict("Only a draft stack can change; create a new stack instead.")
    _check_required_count(
        changes.get("required_count", stack.required_count),
        changes.get("micro_credentials") or [m.micro_credential_id for m in stack.members],
    )
    before = audit.snapshot(stack, STACK_FIELDS)
    for field in ("title", "description", "required_count", "validity_days"):
        if field in changes:
            setattr(stack, field, changes[field])
    if "micro_credentials" in changes:
        _set_members(stack, changes["micro_credentials"])
    db.session.flush()
    audit.record(
        actor=actor,
        action="stack.updated",
        obj=stack,
        organisation_id=stack.organisation_id,
        before=before,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack


def get_stack(*, actor: User | None, stack_id: uuid.UUID) -> Stack:
    stack = _stack(stack_id)
    if not can(actor, "stack.read", stack):
        raise NotFound("No such stack.")
    return stack


def list_stacks(*, actor: User | None, organisation_id: uuid.UUID, page: int, page_size: int) -> Page[Stack]:
    stmt = select(Stack).where(Stack.organisation_id == organisation_id)
    if not can(actor, "stack.manage", organisation_id):
        stmt = stmt.where(Stack.state == StackState.PUBLISHED.value)
    return paginate(stmt.order_by(Stack.title, Stack.id), page=page, page_size=page_size)


def set_stack_state(*, actor: User, stack_id: uuid.UUID, state: StackState) -> Stack:
    """Publish a draft stack, or retire a published one."""
    stack = _stack(stack_id)
    authorize(actor, "stack.manage", stack, hidden="No such stack.")
    allowed = {StackState.PUBLISHED: StackState.DRAFT, StackState.RETIRED: StackState.PUBLISHED}
    if stack.state != allowed[state].value:
        raise Conflict(f"The stack is {stack.state}; only a {allowed[state].value} stack can be {state.value}.")
    before = audit.snapshot(stack, STACK_FIELDS)
    stack.state = state.value
    if state == StackState.PUBLISHED:
        stack.published_at = clock.now()
    else:
        stack.retired_at = clock.now()
    db.session.flush()
    audit.record(
        actor=actor,
        action=f"stack.{state.value}",
        obj=stack,
        organisation_id=stack.organisation_id,
        before=before,
        after=audit.snapshot(stack, STACK_FIELDS),
    )
    return stack
