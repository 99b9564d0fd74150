"""The earner's consent to a badge: accepting, declining, and hiding an accepted badge from public view.

A badge is *pending* when it is issued if its organisation requires acceptance (``IssuingSettings``), and always
when it is an imported award to someone who is not a member of the importing organisation (nobody can put a
badge in a stranger's "My badges" unasked). A pending badge is not public: its page says so and offers no share
links, its downloads are refused. A declined badge is not public at all. A hidden badge stays a valid
credential for whoever holds it, but its page says only whether it is valid, without name, results or evidence.

Only the earner acts on their badge; anyone else is told it does not exist (404), as for an unknown id. Every
change is audited. Services flush; the request commits.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select

from badges.access import _organisation
from badges.models import Acceptance, Badge, BadgeSource, IssuingSettings
from core import audit, clock
from core.authz import authorize
from core.db import db
from core.errors import Conflict, NotFound
from core.models import Membership, User

# What a stranger sees of a badge: everything, a "pending" page, nothing (declined), or only its validity.
PUBLIC, PENDING, DECLINED, HIDDEN = "public", "pending", "declined", "hidden"


def visibility(badge: Badge) -> str:
    """How much of ``badge`` is public: ``public``, ``pending``, ``declined`` or ``hidden``."""
    if badge.acceptance == Acceptance.PENDING.value:
        return PENDING
    if badge.acceptance == Acceptance.DECLINED.value:
        return DECLINED
    return HIDDEN if badge.hidden_at is not None else PUBLIC


def requires_acceptance(organisation_id: uuid.UUID) -> bool:
    """The organisation's "require acceptance" setting (off unless set)."""
    row = db.session.get(IssuingSettings, organisation_id)
    return bool(row and row.require_acceptance)


def _is_member(user_id: uuid.UUID, organisation_id: uuid.UUID) -> bool:
    query = exists().where(Membership.user_id == user_id, Membership.organisation_id == organisation_id)
    return bool(db.session.scalar(select(query)))


def starts_pending(*, organisation_id: uuid.UUID, earner_id: uuid.UUID | None, source: str) -> bool:
    """Whether a new badge waits for its earner's acceptance: always for an award imported to someone outside
    the organisation (or to an e-mail address with no account), else when the organisation requires it."""
    if source == BadgeSource.IMPORT.value and (earner_id is None or not _is_member(earner_id, organisation_id)):
        return True
    return requires_acceptance(organisation_id)


def set_requires_acceptance(*, actor: User, organisation_id: uuid.UUID, require: bool) -> IssuingSettings:
    """Turn "require acceptance" on or off (org admins); it applies to badges issued from then on."""
    organisation = _organisation(organisation_id)
    authorize(actor, "badge.settings", organisation)
    row = db.session.get(IssuingSettings, organisation_id)
    before = bool(row and row.require_acceptance)
    if row is None:
        row = IssuingSettings(organisation_id=organisation_id, require_acceptance=require)
        db.session.add(row)
    row.require_acceptance = require
    db.session.flush()
    if before != require:
        audit.record(
            actor=actor,
            action="issuing.settings_changed",
            obj=organisation,
            organisation_id=organisation_id,
            before={"require_acceptance": before},
            after={"require_acceptance": require},
        )
    return row


def _own_badge(actor: User, badge_id: uuid.UUID) -> Badge:
    badge = db.session.get(Badge, badge_id)
    if badge is None or badge.earner_id is None or badge.earner_id != actor.id:
        raise NotFound("No such badge.")  # another person's badge answers as an unknown one does
    return badge


def _change(actor: User, badge: Badge, action: str, **values: object) -> Badge:
    fields = ("acceptance", "hidden_at")
    before = audit.snapshot(badge, fields)
    for name, value in values.items():
        setattr(badge, name, value)
    db.session.flush()
    audit.record(
        actor=actor,
        action=action,
        obj=badge,
        organisation_id=badge.organisation_id,
        before=before,
        after=audit.snapshot(badge, fields),
    )
    return badge


def accept(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """The earner accepts a pending (or earlier declined) badge: it becomes public and shareable."""
    badge = _own_badge(actor, badge_id)
    if badge.acceptance == Acceptance.ACCEPTED.value:
        raise Conflict("You have already accepted this badge.")
    return _change(actor, badge, "badge.accepted", acceptance=Acceptance.ACCEPTED.value, acceptance_at=clock.now())


def decline(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """The earner declines a pending badge: it is not public; they can still accept it later."""
    badge = _own_badge(actor, badge_id)
    if badge.acceptance != Acceptance.PENDING.value:
        raise Conflict(
            "Only a badge waiting for your answer can be declined; hide an accepted badge from public view instead."
        )
    return _change(actor, badge, "badge.declined", acceptance=Acceptance.DECLINED.value, acceptance_at=clock.now())


def hide(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """The earner hides an accepted badge: its page then says only whether it is valid."""
    badge = _own_badge(actor, badge_id)
    if badge.acceptance != Acceptance.ACCEPTED.value:
        raise Conflict("Accept this badge first; until then it is not public anyway.")
    if badge.hidden_at is not None:
        raise Conflict("This badge is already hidden from public view.")
    return _change(actor, badge, "badge.hidden", hidden_at=clock.now())


def show(*, actor: User, badge_id: uuid.UUID) -> Badge:
    """The earner makes a hidden badge public again."""
    badge = _own_badge(actor, badge_id)
    if badge.hidden_at is None:
        raise Conflict("This badge is not hidden.")
    return _change(actor, badge, "badge.shown", hidden_at=None)


def pending_count(badge_ids: list[uuid.UUID]) -> int:
    """How many of ``badge_ids`` still wait for their earner's acceptance (the import page's figure)."""
    if not badge_ids:
        return 0
    total = 0
    for start in range(0, len(badge_ids), 500):  # keep IN lists short for SQLite's parameter limit
        chunk = badge_ids[start : start + 500]
        total += (
            db.session.scalar(
                select(func.count())
                .select_from(Badge)
                .where(Badge.id.in_(chunk), Badge.acceptance == Acceptance.PENDING.value)
            )
            or 0
        )
    return total


CHANGES = {"accept": accept, "decline": decline, "hide": hide, "show": show}
