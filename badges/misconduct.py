"""Revoking a badge for misconduct, with a recorded decision, notice to the earner and an appeal.

A badge earned by misconduct (work that is not the earner's, a false claim) is not revoked on the spot: an org
admin records the decision (what was found, under which policy), the badge is **suspended** at once and the earner
is told why and until when they may appeal (``MISCONDUCT_APPEAL_DAYS``). Revocation is permanent in a status list,
so it waits for the outcome:

- the earner appeals with a statement; an admin **other than the one who decided** (of the organisation or of an
  organisation above it) rules: *uphold* revokes the badge, *overturn* lifts the suspension;
- no appeal by the deadline: the ``badges.misconduct`` job revokes the badge.

Every step is one transaction, audited (``misconduct.*`` and the badge's own ``badge.*`` events) and mailed to the
earner through the outbox. The finding stays between the organisation and the earner: the badge's public page
says only that a misconduct decision was made.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from badges import notices
from badges.access import _base
from badges.issuing import get_badge
from badges.models import Badge, MisconductCase, MisconductState
from badges.revocation import apply_reinstatement, apply_revocation, apply_suspension
from core import audit, clock, mail, tasks
from core.authz import admin_above, authorize, has_role
from core.db import db, unit_of_work
from core.errors import Conflict, NotFound, ValidationFailed
from core.models import Membership, Role, User

MAX_FINDING = 4000
MAX_STATEMENT = 4000
MAX_POLICY = 200
OUTCOMES = ("uphold", "overturn")
ACTIVE = (MisconductState.OPEN.value, MisconductState.APPEALED.value)
SUSPENDED_REASON = "A misconduct decision was made by the issuer; the earner may appeal until {until}."
REVOKED_REASON = "Revoked by the issuer after a misconduct decision."


def _text(value: str | None, field: str, limit: int, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed.field(field, missing)
    if len(value) > limit:
        raise ValidationFailed.field(field, f"Keep it to {limit} characters.")
    return value


def _day(moment: object) -> str:
    return f"{moment:%-d %B %Y}"


def _active_case(badge_id: uuid.UUID) -> MisconductCase | None:
    return db.session.scalar(
        select(MisconductCase).where(MisconductCase.badge_id == badge_id, MisconductCase.state.in_(ACTIVE))
    )


def cases_for_badge(badge_id: uuid.UUID) -> list[MisconductCase]:
    """Every case of one badge, newest first (at most one is open or appealed)."""
    return list(
        db.session.scalars(
            select(MisconductCase).where(MisconductCase.badge_id == badge_id).order_by(MisconductCase.decided_at.desc())
        )
    )


def active_cases_of(earner_id: uuid.UUID) -> list[tuple[MisconductCase, Badge]]:
    """The earner's open and appealed cases with their badges, nearest deadline first (for "My badges")."""
    rows = db.session.execute(
        select(MisconductCase, Badge)
        .join(Badge, Badge.id == MisconductCase.badge_id)
        .where(Badge.earner_id == earner_id, MisconductCase.state.in_(ACTIVE))
        .order_by(MisconductCase.appeal_by)
    )
    return [(case, badge) for case, badge in rows]


def refusal(badge: Badge) -> str | None:
    """Why a misconduct decision cannot be recorded against ``badge`` now, or None if it can."""
    if badge.revoked_at is not None:
        return "This badge is already revoked."
    if _active_case(badge.id) is not None:
        return "A misconduct decision about this badge is already open."
    return None


def decide(*, actor: User, badge_id: uuid.UUID, finding: str, policy: str | None = None) -> MisconductCase:
    """Record a misconduct decision: the badge is suspended now and the earner told how to appeal."""
    badge = get_badge(badge_id=badge_id)
    authorize(actor, "badge.revoke", badge)
    finding = _text(finding, "finding", MAX_FINDING, "Say what was found and on what evidence.")
    policy = (policy or "").strip() or None
    if policy is not None and len(policy) > MAX_POLICY:
        raise ValidationFailed.field("policy", f"Keep it to {MAX_POLICY} characters.")
    why = refusal(badge)
    if why is not None:
        raise Conflict(why)
    now = clock.now()
    appeal_by = now + timedelta(days=int(current_app.config["MISCONDUCT_APPEAL_DAYS"]))
    reason = SUSPENDED_REASON.format(until=_day(appeal_by))
    if badge.suspended_at is None:
        apply_suspension(badge, actor=actor, reason=reason, notify=False)
    else:
        badge.suspension_reason = reason  # already suspended while it was looked into: now it is for this
    case = MisconductCase(
        badge_id=badge.id,
        organisation_id=badge.organisation_id,
        state=MisconductState.OPEN.value,
        finding=finding,
        policy=policy,
        decided_by_id=actor.id,
        decided_at=now,
        appeal_by=appeal_by,
    )
    db.session.add(case)
    db.session.flush()
    _audit(actor, case, "misconduct.decided", after={"badge_id": str(badge.id), "appeal_by": appeal_by.isoformat()})
    _tell_earner(
        badge,
        subject=f"A misconduct decision about your badge “{badge.title}”",
        news=f"{notices._issuer_name(badge)} has decided that your badge “{badge.title}” was earned by misconduct.\n\n"
        f"What was found:\n{finding}\n"
        + (f"\nUnder: {policy}\n" if policy else "")
        + "\nThe badge is suspended from today: its page and verifiers say SUSPENDED.\n"
        f"You may appeal until {_day(appeal_by)}. If you do not, the badge will then be revoked for good.\n\n"
        f"Read the decision and appeal here:\n{_base()}/my/misconduct/{case.id}",
    )
    return case


def appeal(*, actor: User, case_id: uuid.UUID, statement: str) -> MisconductCase:
    """The earner appeals an open decision, once, before its deadline; the organisation's admins are told."""
    case = _locked(case_id)
    badge = get_badge(badge_id=case.badge_id)
    if badge.earner_id != actor.id:
        raise NotFound("No such misconduct decision.")
    statement = _text(statement, "statement", MAX_STATEMENT, "Say why the decision is wrong.")
    if case.state != MisconductState.OPEN.value:
        raise Conflict("This decision can no longer be appealed: " + _state_words(case))
    now = clock.now()
    if now > case.appeal_by:
        raise Conflict(f"The time to appeal ended on {_day(case.appeal_by)}.")
    case.state = MisconductState.APPEALED.value
    case.appeal_statement = statement
    case.appealed_at = now
    db.session.flush()
    _audit(actor, case, "misconduct.appealed", before={"state": "open"}, after={"state": "appealed"})
    page = f"{_base()}/organisations/{case.organisation_id}/misconduct/{case.id}"
    for admin in _admins(case):
        mail.send(
            to=admin.email,
            subject=f"Appeal against a misconduct decision: “{badge.title}”",
            body=f"Hello {admin.name or 'there'},\n\n{badge.recipient_name or 'The earner'} has appealed the "
            f"misconduct decision about the badge “{badge.title}”. The badge stays suspended until an admin "
            "other than the one who made the decision rules on the appeal.\n\n"
            f"Read the appeal and rule on it:\n{page}",
        )
    return case


def rule(*, actor: User, case_id: uuid.UUID, outcome: str, reason: str) -> MisconductCase:
    """Rule on an appeal: ``uphold`` revokes the badge, ``overturn`` makes it valid again. Not by the decider."""
    case = _locked(case_id)
    if not _may_rule(actor, case):
        raise NotFound("No such misconduct decision.")
    if outcome not in OUTCOMES:
        raise ValidationFailed.field("outcome", "Choose uphold or overturn.")
    reason = _text(reason, "reason", MAX_STATEMENT, "Give the reasons for the outcome; the earner reads them.")
    if case.state != MisconductState.APPEALED.value:
        raise Conflict("There is no appeal waiting for a ruling: " + _state_words(case))
    if case.decided_by_id == actor.id:
        raise Conflict("An appeal is heard by someone other than the person who made the decision.")
    badge = get_badge(badge_id=case.badge_id)
    if outcome == "uphold":
        case.state = MisconductState.REVOKED.value
        if badge.revoked_at is None:
            apply_revocation(badge, actor=actor, reason=REVOKED_REASON, notify=False)
        news = "The appeal was not allowed: the decision stands and the badge is revoked. Revocation is permanent."
    else:
        case.state = MisconductState.OVERTURNED.value
        if badge.suspended_at is not None and badge.revoked_at is None:
            apply_reinstatement(
                badge, actor=actor, reason="A misconduct decision was overturned on appeal.", notify=False
            )
        news = "The appeal was allowed: the decision is overturned and the badge is valid again."
    case.outcome_by_id, case.outcome_at, case.outcome_reason = actor.id, clock.now(), reason
    db.session.flush()
    _audit(actor, case, "misconduct.ruled", before={"state": "appealed"}, after={"state": case.state})
    _tell_earner(
        badge,
        subject=f"The outcome of your appeal about “{badge.title}”",
        news=f"{news}\n\nThe reasons given:\n{reason}\n\nThe decision and its outcome:\n"
        f"{_base()}/my/misconduct/{case.id}",
    )
    return case


@tasks.job("badges.misconduct")
def close_expired_windows() -> int:
    """Revoke the badges whose appeal window closed with no appeal; each case once (its row is locked)."""
    now = clock.now()
    due = select(MisconductCase.id).where(
        MisconductCase.state == MisconductState.OPEN.value, MisconductCase.appeal_by < now
    )
    closed = 0
    for case_id in list(db.session.scalars(due.limit(500))):
        with unit_of_work():
            closed += _close_window(case_id, now)
    return closed


def _close_window(case_id: uuid.UUID, now: datetime) -> int:
    case = db.session.get(MisconductCase, case_id, with_for_update=True, populate_existing=True)
    if case is None or case.state != MisconductState.OPEN.value:
        return 0  # another run closed it, or the earner appealed meanwhile
    badge = get_badge(badge_id=case.badge_id)
    case.state = MisconductState.REVOKED.value
    case.outcome_at = now
    case.outcome_reason = "No appeal was made before the deadline."
    if badge.revoked_at is None:
        apply_revocation(badge, actor=None, reason=REVOKED_REASON, notify=False)
    _audit(None, case, "misconduct.window_closed", before={"state": "open"}, after={"state": "revoked"})
    _tell_earner(
        badge,
        subject=f"Your badge “{badge.title}” has been revoked",
        news=f"No appeal against the misconduct decision about “{badge.title}” was made by "
        f"{_day(case.appeal_by)}, so the badge is now revoked. Revocation is permanent.",
    )
    return 1


def get_case(*, actor: User, case_id: uuid.UUID) -> MisconductCase:
    """One case, for the badge's earner or an admin who may see it (others: 404, as for an unknown id)."""
    case = db.session.get(MisconductCase, case_id)
    if case is None or not (_may_rule(actor, case) or _earner_of(case) == actor.id):
        raise NotFound("No such misconduct decision.")
    return case


def list_cases(*, actor: User, organisation_id: uuid.UUID, state: str | None = None) -> list[MisconductCase]:
    """The organisation's cases, those waiting for someone first, then newest (org admins)."""
    authorize(actor, "badge.revoke", organisation_id)
    if state is not None and state not in {s.value for s in MisconductState}:
        raise ValidationFailed.field("state", "Choose open, appealed, overturned or revoked.")
    stmt = select(MisconductCase).where(MisconductCase.organisation_id == organisation_id)
    if state is not None:
        stmt = stmt.where(MisconductCase.state == state)
    cases = list(db.session.scalars(stmt.order_by(MisconductCase.decided_at.desc()).limit(500)))
    return sorted(cases, key=lambda c: c.state != MisconductState.APPEALED.value)


def may_rule(actor: User | None, case: MisconductCase) -> bool:
    """True when ``actor`` could rule on ``case``'s appeal (an admin above or of the organisation, not the
    person who made the decision)."""
    return actor is not None and _may_rule(actor, case) and case.decided_by_id != actor.id


def _may_rule(actor: User, case: MisconductCase) -> bool:
    return has_role(actor, case.organisation_id, Role.ORG_ADMIN) or admin_above(actor, case.organisation_id)


def _earner_of(case: MisconductCase) -> uuid.UUID | None:
    badge = db.session.get(Badge, case.badge_id)
    return badge.earner_id if badge is not None else None


def _locked(case_id: uuid.UUID) -> MisconductCase:
    case = db.session.get(MisconductCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound("No such misconduct decision.")
    return case


def _state_words(case: MisconductCase) -> str:
    return {
        MisconductState.OPEN.value: f"it is open to appeal until {_day(case.appeal_by)}.",
        MisconductState.APPEALED.value: "it has been appealed and waits for a ruling.",
        MisconductState.OVERTURNED.value: "it was overturned on appeal.",
        MisconductState.REVOKED.value: "it is final and the badge is revoked.",
    }[case.state]


def state_words(case: MisconductCase) -> str:
    """The case's state as a sentence ending in a full stop, for pages."""
    words = _state_words(case)
    return words[0].upper() + words[1:]


def _admins(case: MisconductCase) -> list[User]:
    ids = select(Membership.user_id).where(
        Membership.organisation_id == case.organisation_id, Membership.role == Role.ORG_ADMIN.value
    )
    return list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.email)))


def _audit(
    actor: User | None,
    case: MisconductCase,
    action: str,
    *,
    before: dict[str, str] | None = None,
    after: dict[str, str] | None = None,
) -> None:
    audit.record(actor=actor, action=action, obj=case, organisation_id=case.organisation_id, before=before, after=after)


def _tell_earner(badge: Badge, *, subject: str, news: str) -> None:
    """One mail per step, instead of the status change's own notice: it says what the change means here."""
    earner = notices._earner(badge)
    if earner is None:
        return
    mail.send(
        to=earner.email,
        subject=subject,
        body=f"Hello {earner.name or 'there'},\n\n{news}\n\nThe badge's page:\n{_base()}/badges/{badge.id}",
    )
