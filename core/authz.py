"""Authorisation: the one place that answers "may this user do this to that object".

Each action is a named rule. Core registers the account and organisation rules below; each domain
package registers its own beside the services that check them (e.g. ``assessors/access.py``) with
``@rule("credential.edit")``. Services call
``authorize(actor, action, target)`` before they act; views and templates may call ``can`` to decide
what to show, never instead of ``authorize``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app

from core.db import db
from core.errors import Forbidden, NotFound, Unauthorized
from core.models import Organisation, Role, User

RuleFn = Callable[[User | None, Any], bool]
_rules: dict[str, RuleFn] = {}
_descriptions: dict[str, str] = {}


def rule(action: str, *, description: str | None = None) -> Callable[[RuleFn], RuleFn]:
    """Register the rule deciding ``action``; ``description`` finishes "You are not allowed to …"."""

    def register(fn: RuleFn) -> RuleFn:
        if action in _rules:
            raise RuntimeError(f"authorisation rule {action!r} registered twice")
        _rules[action] = fn
        if description:
            _descriptions[action] = description
        return fn

    return register


def can(actor: User | None, action: str, target: Any = None) -> bool:
    try:
        decide = _rules[action]
    except KeyError:
        raise LookupError(f"no authorisation rule named {action!r}") from None
    if actor is not None and not actor.is_active:
        return False
    return bool(decide(actor, target))


def authorize(actor: User | None, action: str, target: Any = None, *, hidden: str | None = None) -> None:
    """Raise Forbidden unless ``actor`` may do ``action`` to ``target`` (Unauthorized for nobody signed in).

    ``hidden`` ("No such stack.") is for things only their organisation knows of: an actor holding no role in
    the target's organisation gets ``NotFound(hidden)``, the answer to an id that does not exist, so a 403
    cannot confirm that another organisation's draft exists."""
    if not can(actor, action, target):
        if actor is None:
            raise Unauthorized("Sign in to do this.")
        if hidden is not None and not has_role(actor, target):
            raise NotFound(hidden)
        raise Forbidden(f"You are not allowed to {describe(action)}.", action=action)


def describe(action: str) -> str:
    if action in _descriptions:
        return _descriptions[action]
    noun, _, verb = action.partition(".")
    return f"{verb.replace('_', ' ')} this {noun.replace('_', ' ')}"


def registered_actions() -> list[str]:
    return sorted(_rules)


def org_id_of(target: Any) -> uuid.UUID:
    if isinstance(target, Organisation):
        return target.id
    if isinstance(target, uuid.UUID):
        return target
    return target.organisation_id


def has_role(actor: User | None, organisation: Any, *roles: Role) -> bool:
    """True for a platform admin, or for a member holding one of ``roles`` (any role if none named)."""
    if actor is None:
        return False
    if actor.is_platform_admin:
        return True
    held = actor.roles_in(org_id_of(organisation))
    return bool(held & set(roles)) if roles else bool(held)


MAX_DEPTH = 8  # levels of units below a root: state agency → region → district → school … with room to spare


def ancestor_ids(organisation_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisations ``organisation_id`` is a unit of, nearest first (at most ``MAX_DEPTH``)."""
    found: list[uuid.UUID] = []
    current = db.session.get(Organisation, organisation_id)
    while current is not None and current.parent_id is not None and len(found) < MAX_DEPTH:
        found.append(current.parent_id)
        current = db.session.get(Organisation, current.parent_id)
    return found


def admin_above(actor: User | None, target: Any) -> bool:
    """True when ``actor`` is an org admin of an organisation that ``target``'s organisation is a unit of, at any
    depth (a state agency's admin over its districts' schools). Not a platform-admin shortcut: see ``has_role``."""
    if actor is None:
        return False
    administered = {m.organisation_id for m in actor.memberships if m.role == Role.ORG_ADMIN.value}
    return bool(administered) and any(a in administered for a in ancestor_ids(org_id_of(target)))


@rule("organisation.create", description="create organisations here; ask a platform admin to create one for you")
def _create_organisation(actor: User | None, _: Any) -> bool:
    # Platform admins always; anyone signed in when the operator allows self-service (ALLOW_ORGANISATION_SIGNUP).
    if actor is None:
        return False
    return actor.is_platform_admin or bool(current_app.config.get("ALLOW_ORGANISATION_SIGNUP"))


@rule("organisation.read")
def _read_organisation(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation) or admin_above(actor, organisation)


@rule("organisation.add_unit", description="add units to this organisation or move them")
def _add_unit(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN) or admin_above(actor, organisation)


@rule("organisation.update")
def _update_organisation(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("organisation.manage_members", description="manage the members of this organisation")
def _manage_members(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("organisation.read_audit", description="read the audit log of this organisation")
def _read_org_audit(actor: User | None, organisation: Any) -> bool:
    return has_role(actor, organisation, Role.ORG_ADMIN)


@rule("user.manage", description="manage user accounts")
def _manage_users(actor: User | None, _: Any) -> bool:
    return bool(actor and actor.is_platform_admin)


@rule("user.read")
def _read_user(actor: User | None, user: Any) -> bool:
    return bool(actor and (actor.is_platform_admin or actor.id == user.id))


@rule("audit.read_all", description="read the audit log of every organisation")
def _read_all_audit(actor: User | None, _: Any) -> bool:
    return bool(actor and actor.is_platform_admin)


@rule("outbox.manage", description="see the outgoing mail queue and send failed messages again")
def _manage_outbox(actor: User | None, _: Any) -> bool:
    return bool(actor and actor.is_platform_admin)
