"""The first-run checklist: what an organisation's admins still have to do before their programme runs, from
the issuer profile to the first badge issued. Every step is judged from the organisation's real data, never
from a flag someone ticks.

Steps are a small registry, because most of them are judged by later domains that core may not import: core
registers those it can judge itself (issuer profile, team, assessors) below; ``credentials`` and ``badges``
register theirs from their ``init_app`` with ``register_step``. Registering a key again replaces the step, so
building several apps in one process (the tests do) is harmless.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import distinct, func, select

from core import clock
from core.authz import authorize
from core.db import db
from core.errors import NotFound
from core.models import Invitation, Membership, Organisation, Role, User


@dataclass(frozen=True)
class Step:
    """One thing to do: ``done(organisation)`` says whether it is done; ``endpoint`` is the page that does it,
    with the URL arguments ``params(organisation)``."""

    key: str
    label: str
    hint: str
    order: int
    done: Callable[[Organisation], bool]
    endpoint: str
    params: Callable[[Organisation], dict[str, Any]] = field(default=lambda o: {"organisation_id": o.id})


@dataclass(frozen=True)
class Progress:
    organisation: Organisation
    steps: list[tuple[Step, bool]]

    @property
    def done_count(self) -> int:
        return sum(1 for _, done in self.steps if done)

    @property
    def complete(self) -> bool:
        return self.done_count == len(self.steps)


_steps: dict[str, Step] = {}


def register_step(
    key: str,
    *,
    label: str,
    hint: str,
    order: int,
    done: Callable[[Organisation], bool],
    endpoint: str,
    params: Callable[[Organisation], dict[str, Any]] | None = None,
) -> None:
    """Add (or replace) the step ``key``; steps are shown by ``order``."""
    extra = {"params": params} if params is not None else {}
    _steps[key] = Step(key=key, label=label, hint=hint, order=order, done=done, endpoint=endpoint, **extra)


def first_run_checklist(*, actor: User, organisation_id: uuid.UUID) -> Progress:
    """Each registered step with whether the organisation has done it (its admins only)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    authorize(actor, "organisation.update", organisation, hidden="No such organisation.")
    steps = sorted(_steps.values(), key=lambda s: (s.order, s.key))
    return Progress(organisation=organisation, steps=[(step, bool(step.done(organisation))) for step in steps])


# --- the steps core can judge --------------------------------------------------------------------------------


def _profile_complete(organisation: Organisation) -> bool:
    return bool(organisation.name and organisation.url and organisation.email and organisation.description.strip())


def _members_or_invited(organisation: Organisation, role: Role, *, at_least: int) -> bool:
    """At least ``at_least`` people hold ``role`` here, or someone has a pending invitation to it (an accepted one
    is a membership already)."""
    holders = db.session.scalar(
        select(func.count(distinct(Membership.user_id))).where(
            Membership.organisation_id == organisation.id, Membership.role == role.value
        )
    )
    if (holders or 0) >= at_least:
        return True
    pending = db.session.scalars(
        select(Invitation.roles).where(
            Invitation.organisation_id == organisation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    )
    return any(role.value in roles for roles in pending)


register_step(
    "issuer_profile",
    label=_l("Complete the issuer profile"),
    hint=_l("Name, website, contact email and description: what verifiers see as the issuer of your badges."),
    order=10,
    done=_profile_complete,
    endpoint="orgadmin.profile",
)
register_step(
    "team",
    label=_l("Invite your design team"),
    hint=_l("Invite a second author: authors draft together and one reviews another's draft before it is published."),
    order=25,
    done=lambda o: _members_or_invited(o, Role.AUTHOR, at_least=2),
    endpoint="orgadmin.members",
)
register_step(
    "assessors",
    label=_l("Invite assessors"),
    hint=_l("Assessors score earners' evidence against the rubric in the review queue."),
    order=50,
    done=lambda o: _members_or_invited(o, Role.ASSESSOR, at_least=1),
    endpoint="orgadmin.members",
)
