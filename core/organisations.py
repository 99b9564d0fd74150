"""Organisations (the tenants): creating and editing them, their members and roles, invitations, and reading
their audit log.

Every function takes keyword arguments and the acting user, checks permission with ``authorize``,
``flush``es, records an audit event for each change and leaves the commit to the caller's boundary.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit, clock, mail
from core.accounts import USER_FIELDS, _new_user
from core.auth import (
    find_user_by_email,
    new_secret_token,
    token_digest,
)
from core.authz import MAX_DEPTH, admin_above, ancestor_ids, authorize, has_role
from core.db import Page, db, like_pattern, paginate
from core.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unauthorized, ValidationFailed
from core.i18n import label, recipient_language
from core.members import _job_role, _member, _unit
from core.models import (
    AuditEvent,
    Invitation,
    Membership,
    Organisation,
    Role,
    User,
)

ORG_FIELDS = ("slug", "name", "kind", "url", "email", "description")
# What an update may change: the record, and how long evidence is kept (credentials/portfolios/retention.py).
UPDATABLE_FIELDS = (*ORG_FIELDS, "evidence_retention_days")
SLUG_MAX = 64


def _get_organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def find_by_slug(slug: str) -> Organisation | None:
    """The organisation with this slug (for the console, which acts as a platform admin)."""
    return db.session.scalar(select(Organisation).where(Organisation.slug == slug))


def get_organisation(*, actor: User, organisation_id: uuid.UUID) -> Organisation:
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.read", organisation)
    return organisation


def list_organisations(
    *, actor: User, page: int, page_size: int, q: str | None = None, kind: str | None = None
) -> Page[Organisation]:
    """Platform admins see every organisation, everyone else those they belong to."""
    stmt = select(Organisation).order_by(Organisation.name, Organisation.id)
    if not actor.is_platform_admin:
        stmt = stmt.where(Organisation.id.in_(select(Membership.organisation_id).where(Membership.user_id == actor.id)))
    if q:
        like = like_pattern(q)
        stmt = stmt.where(
            or_(
                func.lower(Organisation.name).like(like, escape="\\"),
                func.lower(Organisation.slug).like(like, escape="\\"),
            )
        )
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return paginate(stmt, page=page, page_size=page_size)


def _ensure_slug_free(slug: str, *, except_id: uuid.UUID | None = None) -> None:
    existing = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if existing is not None and existing.id != except_id:
        raise Conflict(
            f"The slug {slug!r} is taken.",
            errors=[{"field": "slug", "pointer": "#/slug", "detail": "Already taken."}],
        )


def slug_from_name(name: str) -> str:
    """The name as a web address: ASCII letters and digits joined by hyphens ("École Nord" → "ecole-nord"); may be
    empty for a name with no Latin letters or digits."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:SLUG_MAX].rstrip("-")


def free_slug(name: str) -> str:
    """A slug made from ``name`` that no organisation holds yet: the plain one, else ``-2``, ``-3`` …"""
    base = slug_from_name(name)
    if not base:
        raise ValidationFailed.field(
            "slug", "The name has no letters or digits to make a web address from; choose a slug."
        )
    for n in range(1, 100):
        suffix = f"-{n}" if n > 1 else ""
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        if db.session.scalar(select(Organisation.id).where(Organisation.slug == candidate)) is None:
            return candidate
    raise Conflict(
        f"Too many organisations have names like {name!r}; choose a slug.",
        errors=[{"field": "slug", "pointer": "#/slug", "detail": "Choose one: the ones made from the name are taken."}],
    )


def create_organisation(
    *,
    actor: User,
    name: str,
    slug: str | None = None,
    kind: str = "other",
    url: str | None = None,
    email: str | None = None,
    description: str = "",
    admin_user_id: uuid.UUID | None = None,
    parent_id: uuid.UUID | None = None,
) -> Organisation:
    """A new tenant, its issuer profile being its name, website, email and description.

    With ``parent_id`` it is a unit of that organisation (a school of a district), which the parent's admins (or
    those above it) may create whatever ``ALLOW_ORGANISATION_SIGNUP`` says.

    Platform admins may create one at any time and name its first org admin (``admin_user_id``, default:
    themselves). Anyone else signed in may when ``ALLOW_ORGANISATION_SIGNUP`` is on, and becomes its org admin
    and author, so they can draft its first micro-credential at once. Without ``slug`` a free one is made from
    the name; a slug that is taken is a 409."""
    parent = _parent_for_new_unit(actor, parent_id) if parent_id is not None else None
    if parent is None:
        authorize(actor, "organisation.create")
    self_service = not actor.is_platform_admin
    if self_service and admin_user_id not in (None, actor.id):
        raise Forbidden(
            "Only platform admins choose someone else as an organisation's first admin.", action="organisation.create"
        )
    slug = slug or free_slug(name)
    _ensure_slug_free(slug)
    admin = db.session.get(User, admin_user_id) if admin_user_id else actor
    if admin is None:
        raise ValidationFailed.field("admin_user_id", "No such user.")
    roles = [Role.ORG_ADMIN, Role.AUTHOR] if self_service else [Role.ORG_ADMIN]
    organisation = Organisation(
        slug=slug, name=name.strip(), kind=kind, url=url, email=email, description=description, parent=parent
    )
    # Through the relationships, so the admin's loaded memberships include the new ones at once.
    for role in roles:
        organisation.memberships.append(Membership(user=admin, role=role.value))
    db.session.add(organisation)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent request took the slug between our check and our insert
        raise Conflict(f"The slug {slug!r} is taken.") from None
    audit.record(
        actor=actor,
        action="organisation.created",
        obj=organisation,
        organisation_id=organisation.id,
        after=audit.snapshot(organisation, ORG_FIELDS)
        | {"first_admin": str(admin.id), "first_admin_roles": [r.value for r in roles], "self_service": self_service}
        | ({"parent_id": str(parent.id)} if parent else {}),
    )
    return organisation


def _parent_for_new_unit(actor: User, parent_id: uuid.UUID) -> Organisation:
    parent = db.session.get(Organisation, parent_id)
    if parent is None or not (has_role(actor, parent) or admin_above(actor, parent)):
        raise ValidationFailed.field("parent_id", "No such organisation.")
    authorize(actor, "organisation.add_unit", parent)
    if len(ancestor_ids(parent.id)) + 1 >= MAX_DEPTH:
        raise ValidationFailed.field("parent_id", f"Units may nest at most {MAX_DEPTH} levels deep.")
    return parent


def set_parent(*, actor: User, organisation_id: uuid.UUID, parent_id: uuid.UUID | None) -> Organisation:
    """Make the organisation a unit of ``parent_id``, or a root with None. The current parent's admins let it go
    (a root's own admins offer it); the new parent's admins take it in; a platform admin may do both."""
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.read", organisation, hidden="No such organisation.")
    if organisation.parent_id is not None:
        authorize(actor, "organisation.add_unit", organisation.parent)
    else:
        authorize(actor, "organisation.update", organisation)
    parent = None
    if parent_id is not None:
        parent = _parent_for_new_unit(actor, parent_id)
        if parent.id == organisation.id or organisation.id in ancestor_ids(parent.id):
            raise Conflict(
                "An organisation cannot be a unit of itself or of one of its own units.",
                errors=[{"field": "parent_id", "pointer": "#/parent_id", "detail": "This is one of its own units."}],
            )
        if len(ancestor_ids(parent.id)) + 1 + _height(organisation.id) >= MAX_DEPTH:
            raise ValidationFailed.field("parent_id", f"Units may nest at most {MAX_DEPTH} levels deep.")
    before = {"parent_id": str(organisation.parent_id) if organisation.parent_id else None}
    organisation.parent = parent
    db.session.flush()
    audit.record(
        actor=actor,
        action="organisation.parent_set",
        obj=organisation,
        organisation_id=organisation.id,
        before=before,
        after={"parent_id": str(parent.id) if parent else None},
    )
    return organisation


def _height(organisation_id: uuid.UUID) -> int:
    """How many levels of units hang below the organisation (0 for none)."""
    level, height = [organisation_id], 0
    while height < MAX_DEPTH:
        level = list(db.session.scalars(select(Organisation.id).where(Organisation.parent_id.in_(level))))
        if not level:
            return height
        height += 1
    return height


def list_units(*, actor: User, organisation_id: uuid.UUID) -> list[Organisation]:
    """The organisation's direct units, by name (for anyone who may read it)."""
    organisation = get_organisation(actor=actor, organisation_id=organisation_id)
    return list(organisation.children)


def update_organisation(
    *, actor: User, organisation_id: uuid.UUID, changes: dict[str, Any], expected_version: int | None = None
) -> Organisation:
    """Change the profile; with ``expected_version`` (from If-Match) a concurrent edit is refused."""
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.update", organisation)
    PreconditionFailed.unless_current(
        expected_version, organisation.version, "The organisation was changed by someone else; reload it and try again."
    )
    if "slug" in changes:
        _ensure_slug_free(changes["slug"], except_id=organisation.id)
    # The audit row names the retention period only when it is what changed.
    audited = (*ORG_FIELDS, "evidence_retention_days") if "evidence_retention_days" in changes else ORG_FIELDS
    before = audit.snapshot(organisation, audited)
    for field in UPDATABLE_FIELDS:
        if field in changes:
            setattr(organisation, field, changes[field].strip() if field == "name" else changes[field])
    db.session.flush()
    audit.record(
        actor=actor,
        action="organisation.updated",
        obj=organisation,
        organisation_id=organisation.id,
        before=before,
        after=audit.snapshot(organisation, audited),
    )
    return organisation


def list_members(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    page: int,
    page_size: int,
    role: str | None = None,
    q: str | None = None,
) -> Page[dict[str, Any]]:
    """Members with their roles in this organisation, by name."""
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.manage_members", organisation)
    member_ids = select(Membership.user_id).where(Membership.organisation_id == organisation.id)
    if role:
        member_ids = member_ids.where(Membership.role == role)
    stmt = select(User).where(User.id.in_(member_ids)).order_by(func.lower(User.name), User.id)
    if q:
        like = like_pattern(q)
        stmt = stmt.where(
            or_(func.lower(User.email).like(like, escape="\\"), func.lower(User.name).like(like, escape="\\"))
        )
    users = paginate(stmt, page=page, page_size=page_size)
    return Page(items=[_member(u, organisation.id) for u in users.items], total=users.total)


def _org_admin_count(organisation_id: uuid.UUID) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == organisation_id, Membership.role == Role.ORG_ADMIN.value)
        )
        or 0
    )


def set_member_roles(
    *, actor: User, organisation_id: uuid.UUID, user_id: uuid.UUID, roles: list[str]
) -> dict[str, Any]:
    """Replace an existing member's roles; an empty list removes them. The last org admin stays."""
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.manage_members", organisation)
    user = db.session.get(User, user_id)
    current = user.roles_in(organisation.id) if user is not None else set()
    if user is None or not current:
        raise NotFound("This user is not a member of the organisation; invite them instead.")
    wanted = _roles(roles)
    if Role.ORG_ADMIN in current and Role.ORG_ADMIN not in wanted and _org_admin_count(organisation.id) <= 1:
        raise Conflict("An organisation needs at least one org admin; appoint another one first.")
    before = {"roles": sorted(r.value for r in current)}
    for membership in list(user.memberships):
        if membership.organisation_id == organisation.id and Role(membership.role) not in wanted:
            user.memberships.remove(membership)
    kept = next((m for m in user.memberships if m.organisation_id == organisation.id), None)
    for role in wanted - current:
        user.memberships.append(
            Membership(
                organisation_id=organisation.id,
                role=role.value,
                unit_id=kept.unit_id if kept else None,
                job_role=kept.job_role if kept else None,
            )
        )
    db.session.flush()
    audit.record(
        actor=actor,
        action="membership.roles_set",
        obj=user,
        organisation_id=organisation.id,
        before=before,
        after={"roles": sorted(r.value for r in wanted)},
    )
    return _member(user, organisation.id)


def invite(
    *,
    actor: User,
    organisation_id: uuid.UUID,
    email: str,
    roles: list[str],
    unit_id: uuid.UUID | None = None,
    job_role: str | None = None,
) -> tuple[Invitation, str]:
    """Invite someone, new or existing, to join with ``roles`` (and a unit and job role); returns the invitation
    and its link."""
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.manage_members", organisation)
    unit_id = _unit(organisation, unit_id)
    job_role = _job_role(job_role)
    email = email.strip()
    existing = find_user_by_email(email)
    if existing is not None and _roles(roles) <= existing.roles_in(organisation.id):
        raise Conflict("This person already holds these roles here.")
    token, digest = new_secret_token()
    ttl = timedelta(seconds=current_app.config["INVITATION_TTL"])
    invitation = Invitation(
        organisation_id=organisation.id,
        email=email,
        roles=sorted(set(roles)),
        token_hash=digest,
        invited_by_id=actor.id,
        expires_at=clock.now() + ttl,
        unit_id=unit_id,
        job_role=job_role,
    )
    db.session.add(invitation)
    db.session.flush()
    link = f"{current_app.config['BASE_URL']}/invitations/{token}"
    with recipient_language(find_user_by_email(email)):
        mail.send(
            to=email,
            subject=_("Join %(organisation)s", organisation=organisation.name),
            body=_(
                "%(inviter)s invites you to join %(organisation)s as %(roles)s.\n\n"
                "Accept here (valid until %(until)s):\n%(link)s",
                inviter=actor.name,
                organisation=organisation.name,
                roles=", ".join(str(label(role)) for role in invitation.roles),
                until=format_date(invitation.expires_at, "long"),
                link=link,
            ),
        )
    audit.record(
        actor=actor,
        action="invitation.created",
        obj=invitation,
        organisation_id=organisation.id,
        after={"email": email, "roles": invitation.roles}
        | ({"unit_id": str(unit_id)} if unit_id else {})
        | ({"job_role": job_role} if job_role else {}),
    )
    return invitation, link


def list_invitations(*, actor: User, organisation_id: uuid.UUID, page: int, page_size: int) -> Page[Invitation]:
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.manage_members", organisation)
    stmt = (
        select(Invitation)
        .where(Invitation.organisation_id == organisation.id)
        .order_by(Invitation.created_at.desc(), Invitation.id)
    )
    return paginate(stmt, page=page, page_size=page_size)


def revoke_invitation(*, actor: User, organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> Invitation:
    organisation = _get_organisation(organisation_id)
    authorize(actor, "organisation.manage_members", organisation)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != organisation.id:
        raise NotFound("No such invitation in this organisation.")
    if invitation.state != "pending":
        raise Conflict(f"The invitation is already {invitation.state}.")
    invitation.revoked_at = clock.now()
    db.session.flush()
    audit.record(actor=actor, action="invitation.revoked", obj=invitation, organisation_id=organisation.id)
    return invitation


def pending_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == token_digest(token)))
    if invitation is None or invitation.state != "pending":
        raise ValidationFailed.field("token", "This invitation is invalid, used, revoked or expired.")
    return invitation


def accept_invitation(
    *, token: str, actor: User | None = None, name: str | None = None, password: str | None = None
) -> User:
    """Join with the invited roles: a signed-in invitee as themselves, anyone else with a new account."""
    invitation = pending_invitation(token)
    existing = find_user_by_email(invitation.email)
    if existing is not None:
        if actor is None or actor.id != existing.id:
            raise Unauthorized("Sign in as the invited account to accept this invitation.")
        user = existing
    else:
        if actor is not None:
            raise Conflict("This invitation is for another email address; sign out to create that account.")
        errors = []
        if not name:
            errors.append({"field": "name", "pointer": "#/name", "detail": "Missing data for required field."})
        if not password:
            errors.append({"field": "password", "pointer": "#/password", "detail": "Missing data for required field."})
        if errors:
            raise ValidationFailed("A new account needs a name and a password.", errors=errors)
        assert name is not None and password is not None
        user = _new_user(email=invitation.email, name=name, password=password)
        audit.record(actor=user, action="user.registered", obj=user, after=audit.snapshot(user, USER_FIELDS))
    held = user.roles_in(invitation.organisation_id)
    for role in set(invitation.roles) - {r.value for r in held}:
        user.memberships.append(Membership(organisation_id=invitation.organisation_id, role=role))
    if invitation.unit_id is not None or invitation.job_role:
        # The invitation's placement applies to all the person's rows here, old and new alike.
        for membership in user.memberships:
            if membership.organisation_id == invitation.organisation_id:
                membership.unit_id = invitation.unit_id or membership.unit_id
                membership.job_role = invitation.job_role or membership.job_role
    invitation.accepted_at = clock.now()
    invitation.accepted_by_id = user.id
    db.session.flush()
    audit.record(
        actor=user,
        action="invitation.accepted",
        obj=invitation,
        organisation_id=invitation.organisation_id,
        after={"roles": invitation.roles},
    )
    return user


def list_audit_events(
    *, actor: User, organisation_id: uuid.UUID | None, page: int, page_size: int, **filters: Any
) -> Page[AuditEvent]:
    """An organisation's events for its admins; with no organisation, all events for platform admins."""
    if organisation_id is None:
        authorize(actor, "audit.read_all")
    else:
        authorize(actor, "organisation.read_audit", _get_organisation(organisation_id))
    return audit.list_events(organisation_id=organisation_id, page=page, page_size=page_size, **filters)


def _roles(names: list[str], field: str = "roles") -> set[Role]:
    """Role names as roles; an unknown name is a 422 naming its place, not a crash."""
    roles = set()
    for i, name in enumerate(names):
        try:
            roles.add(Role(name))
        except ValueError:
            raise ValidationFailed.field(f"{field}.{i}", f"Unknown role {name!r}.") from None
    return roles
