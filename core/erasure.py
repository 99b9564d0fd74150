"""Erasure on request: a person asks, an admin of an organisation holding data about them (or a platform admin)
carries it out. Evidence and submissions' content go, the account is anonymised, badges stay verifiable without
the name, audit rows stay with the person pseudonymised.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import delete, select, update

from core import audit, clock, storage
from core.authz import can, has_role, rule
from core.db import Page, db, paginate
from core.errors import Conflict, NotFound, ServiceError, ValidationFailed
from core.models import (
    ApiToken,
    AuditEvent,
    ErasureRequest,
    ErasureState,
    Invitation,
    Membership,
    OutboxMessage,
    PasswordResetToken,
    Role,
    User,
)
from core.privacy import Erasure, erasers, ties

MAX_REASON = 2000


class AlreadyRequested(ServiceError):
    status, type_slug, title = 409, "erasure-already-requested", "Erasure already requested"


@rule("privacy.erase", description="carry out this erasure request")
def _may_erase(actor: User | None, request: ErasureRequest) -> bool:
    """A platform admin, or an admin of an organisation holding data about the person; never the person."""
    if actor is None or actor.id == request.user_id:
        return False
    if actor.is_platform_admin:
        return True
    return any(_tied(organisation_id, request.user_id) for organisation_id in _administered_ids(actor))


def _administered_ids(actor: User) -> set[uuid.UUID]:
    return {m.organisation_id for m in actor.memberships if m.role == Role.ORG_ADMIN.value}


def _tied_users(organisation_id: uuid.UUID) -> sa.Select[Any]:
    """The ids of the people ``organisation_id`` holds data about: its members, and whatever domains add."""
    members = select(Membership.user_id).where(Membership.organisation_id == organisation_id)
    return sa.union(members, *(fn(organisation_id) for fn in ties()))  # type: ignore[return-value]


def _tied(organisation_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    tied = _tied_users(organisation_id).subquery()
    return db.session.scalar(select(sa.literal(True)).select_from(tied).where(tied.c[0] == user_id).limit(1)) is True


def request_erasure(*, actor: User, reason: str = "") -> ErasureRequest:
    """The signed-in person asks for erasure (one pending request at a time). Audited, without the reason."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", f"At most {MAX_REASON} characters.")
    if pending_request(actor=actor) is not None:
        raise AlreadyRequested("You have already asked for erasure; an administrator will carry it out.")
    request = ErasureRequest(user_id=actor.id, reason=reason, state=ErasureState.PENDING.value)
    db.session.add(request)
    db.session.flush()
    audit.record(actor=actor, action="privacy.erasure_requested", obj=request, after={"state": request.state})
    return request


def pending_request(*, actor: User) -> ErasureRequest | None:
    return db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.user_id == actor.id, ErasureRequest.state == ErasureState.PENDING.value
        )
    )


def cancel_erasure(*, actor: User) -> ErasureRequest:
    """The person withdraws their pending request."""
    request = pending_request(actor=actor)
    if request is None:
        raise NotFound("You have no pending erasure request.")
    request.state = ErasureState.CANCELLED.value
    request.cancelled_at = clock.now()
    db.session.flush()
    audit.record(actor=actor, action="privacy.erasure_cancelled", obj=request, after={"state": request.state})
    return request


def list_requests(
    *, actor: User, page: int, page_size: int, state: str | None = None, organisation_id: uuid.UUID | None = None
) -> Page[ErasureRequest]:
    """Requests the actor may carry out, oldest first: every one for a platform admin, for an org admin those
    of people their organisations hold data about (``organisation_id`` narrows to one of them)."""
    stmt = select(ErasureRequest)
    if state:
        stmt = stmt.where(ErasureRequest.state == state)
    if organisation_id is not None:
        if not has_role(actor, organisation_id, Role.ORG_ADMIN):
            raise NotFound("No such organisation.")
        stmt = stmt.where(ErasureRequest.user_id.in_(_tied_users(organisation_id)))
    elif not actor.is_platform_admin:
        orgs = _administered_ids(actor)
        if not orgs:
            stmt = stmt.where(sa.false())
        else:
            stmt = stmt.where(sa.or_(*(ErasureRequest.user_id.in_(_tied_users(o)) for o in orgs)))
    stmt = stmt.where(ErasureRequest.user_id != actor.id)
    return paginate(stmt.order_by(ErasureRequest.requested_at, ErasureRequest.id), page=page, page_size=page_size)


def get_request(*, actor: User, request_id: uuid.UUID) -> ErasureRequest:
    request = db.session.get(ErasureRequest, request_id)
    if request is None or not can(actor, "privacy.erase", request):
        raise NotFound("No such erasure request.")  # a request of a person not tied to you does not exist for you
    return request


def carry_out(*, actor: User, request_id: uuid.UUID) -> ErasureRequest:
    """Erase the person: evidence files and submissions' content removed (files deleted from storage), the
    account anonymised (name and email replaced, signed out, unable to sign in), memberships and tokens gone;
    issued badges stay valid (a signed credential cannot change) but no longer show the name; audit rows are
    kept with the person pseudonymised. Audited, without the name."""
    request = get_request(actor=actor, request_id=request_id)
    # Claimed by a conditional update, so two admins pressing "Erase" at once erase once: PostgreSQL makes the
    # second wait for the first's row lock and then finds the request no longer pending.
    claimed = db.session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.id == request.id, ErasureRequest.state == ErasureState.PENDING.value)
        .values(state=ErasureState.COMPLETED.value)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.refresh(request)
        raise Conflict(f"This request is {request.state}; only a pending one can be carried out.")
    person = request.user
    pseudonym = f"person-{secrets.token_hex(4)}"
    erasure = Erasure(person=person, pseudonym=pseudonym)
    old = [person.name, person.email]
    for fn in erasers():
        fn(erasure)
    _erase_account(erasure)
    db.session.flush()
    _pseudonymise_audit(person.id, {person.id, *erasure.objects}, old, pseudonym)
    request.state = ErasureState.COMPLETED.value
    request.completed_at = clock.now()
    request.completed_by_id = actor.id
    request.pseudonym = pseudonym
    request.reason = ""
    erasure.counts["stored_files_deleted"] = storage.delete_unreferenced(erasure.digests)
    request.summary = dict(sorted(erasure.counts.items()))
    db.session.flush()
    audit.record(
        actor=actor,
        action="privacy.erasure_completed",
        obj=request,
        after={"pseudonym": pseudonym, "removed": request.summary},
    )
    return request


def _erase_account(erasure: Erasure) -> None:
    person, counts = erasure.person, erasure.counts
    email = person.email
    invitations = list(db.session.scalars(select(Invitation).where(sa.func.lower(Invitation.email) == email.lower())))
    erasure.objects += [i.id for i in invitations]
    for invitation in invitations:
        invitation.email = f"{erasure.pseudonym}@erased.invalid"
        if invitation.state == "pending":
            invitation.revoked_at = clock.now()
    memberships = list(db.session.scalars(select(Membership).where(Membership.user_id == person.id)))
    tokens = list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == person.id)))
    erasure.objects += [m.id for m in memberships] + [t.id for t in tokens]
    counts["memberships"] = len(memberships)
    counts["api_tokens"] = len(tokens)
    for row in memberships:
        person.memberships.remove(row)
    for token in tokens:
        db.session.delete(token)
    db.session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == person.id))
    counts["emails"] = db.session.execute(
        delete(OutboxMessage).where(sa.func.lower(OutboxMessage.to) == email.lower())
    ).rowcount
    person.name = f"Erased person ({erasure.pseudonym})"
    person.email = f"{erasure.pseudonym}@erased.invalid"
    person.unit = None
    person.password_hash = None
    person.is_active = False
    person.last_login_at = None
    person.token_version += 1  # every session and access token stops working
    person.erased_at = clock.now()


def _pseudonymise_audit(person_id: uuid.UUID, objects: set[uuid.UUID], old: list[str], pseudonym: str) -> None:
    """Keep every audit row, replacing the person's name and email inside its before/after with the pseudonym
    (the actor column already points at the anonymised account)."""
    ids = sorted(str(o) for o in objects)
    seen: set[uuid.UUID] = set()
    batches = [select(AuditEvent).where(AuditEvent.actor_id == person_id)] + [
        select(AuditEvent).where(AuditEvent.object_id.in_(ids[i : i + 500])) for i in range(0, len(ids), 500)
    ]
    needles = [s for s in old if s]
    for stmt in batches:
        for event in db.session.scalars(stmt):
            if event.id in seen:
                continue
            seen.add(event.id)
            for column in ("before", "after"):
                value = getattr(event, column)
                if value is not None:
                    cleaned = _replace(value, needles, pseudonym)
                    if cleaned != value:
                        setattr(event, column, cleaned)


def _replace(value: Any, needles: list[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        for needle in needles:
            if len(needle) < 3:  # a very short name would match inside unrelated words
                value = pseudonym if value.lower() == needle.lower() else value
            else:
                value = re.sub(re.escape(needle), pseudonym, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_replace(v, needles, pseudonym) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, needles, pseudonym) for k, v in value.items()}
    return value
