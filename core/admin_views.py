"""Web pages for organisation admins (members and their roles, invitations) and for platform admins (the
outgoing mail queue, ``/admin/outbox``: what waits, what failed and why, and "send again").

``/organisations/`` lists the organisations the signed-in user administers; each has a members page where
roles are changed (one form per member) and people are invited by email. Every rule (who may manage, the
last org admin stays, no duplicate invitation) is in ``core.organisations``; these views only translate forms.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from core import mail, organisations
from core.authz import can
from core.db import db
from core.errors import ServiceError
from core.models import Organisation, Role, User
from core.views import register_nav, require_sign_in, signed_in_user, text_arg

bp = Blueprint("orgadmin", __name__, url_prefix="/organisations")
Page = str | WerkzeugResponse | tuple[str, int]
ROLE_LABELS = {Role.ORG_ADMIN.value: "Org admin", Role.AUTHOR.value: "Author", Role.ASSESSOR.value: "Assessor"}


def administered(user: User | None) -> list[Organisation]:
    """Organisations whose members ``user`` may manage."""
    if user is None:
        return []
    if user.is_platform_admin:
        return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    orgs = {m.organisation_id: m.organisation for m in user.memberships if m.role == Role.ORG_ADMIN.value}
    return sorted(orgs.values(), key=lambda o: o.name)


def is_org_admin(user: User | None) -> bool:
    return bool(administered(user))


require_sign_in(bp)
_user = signed_in_user


@bp.get("/")
def index() -> Page:
    organisations = administered(_user())
    if len(organisations) == 1:
        return redirect(url_for("orgadmin.members", organisation_id=organisations[0].id))
    return render_template("orgadmin/index.html", organisations=organisations)


@bp.get("/<uuid:organisation_id>/members")
def members(
    organisation_id: uuid.UUID, *, invite_errors: dict[str, list[str]] | None = None, status: int = 200
) -> Page:
    user = _user()
    organisation = organisations.get_organisation(actor=user, organisation_id=organisation_id)
    if not can(user, "organisation.manage_members", organisation):
        abort(403, "Only the organisation's admins manage its members.")
    q = text_arg("q")
    page = organisations.list_members(actor=user, organisation_id=organisation.id, page=1, page_size=500, q=q or None)
    invitations = organisations.list_invitations(actor=user, organisation_id=organisation.id, page=1, page_size=100)
    return render_template(
        "orgadmin/members.html",
        organisation=organisation,
        members=page.items,
        total=page.total,
        q=q,
        invitations=invitations.items,
        roles=ROLE_LABELS,
        invite_errors=invite_errors or {},
        invite_values={"email": request.form.get("email", ""), "roles": request.form.getlist("roles")},
    ), status


@bp.post("/<uuid:organisation_id>/members/<uuid:user_id>")
def set_roles(organisation_id: uuid.UUID, user_id: uuid.UUID) -> Page:
    try:
        organisations.set_member_roles(
            actor=_user(), organisation_id=organisation_id, user_id=user_id, roles=request.form.getlist("roles")
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(f"Roles not changed: {exc.detail}")
    else:
        flash("Roles saved." if request.form.getlist("roles") else "Removed from the organisation.")
    return redirect(url_for("orgadmin.members", organisation_id=organisation_id))


@bp.post("/<uuid:organisation_id>/invitations")
def invite(organisation_id: uuid.UUID) -> Page:
    email = (request.form.get("email") or "").strip()
    roles = request.form.getlist("roles")
    errors: dict[str, list[str]] = {}
    if not email or "@" not in email or len(email) > 254:
        errors["email"] = ["Enter the email address of the person to invite."]
    if not roles:
        errors["roles"] = ["Choose at least one role."]
    if not errors:
        try:
            organisations.invite(actor=_user(), organisation_id=organisation_id, email=email, roles=roles)
        except ServiceError as exc:
            db.session.rollback()
            for e in exc.errors:
                errors.setdefault(e["field"].split(".")[0] or "email", []).append(e["detail"])
            if not exc.errors:
                errors["email"] = [exc.detail]
        else:
            flash(f"Invitation sent to {email}.")
            return redirect(url_for("orgadmin.members", organisation_id=organisation_id))
    return members(organisation_id, invite_errors=errors, status=422)


@bp.post("/<uuid:organisation_id>/invitations/<uuid:invitation_id>/revoke")
def revoke(organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> Page:
    try:
        organisations.revoke_invitation(actor=_user(), organisation_id=organisation_id, invitation_id=invitation_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(f"Not revoked: {exc.detail}")
    else:
        flash("Invitation revoked.")
    return redirect(url_for("orgadmin.members", organisation_id=organisation_id))


outbox_bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")
require_sign_in(outbox_bp)


@outbox_bp.get("/")
def outbox() -> Page:
    return render_template("outbox.html", summary=mail.summary(actor=_user()))


@outbox_bp.post("/<uuid:message_id>/resend")
def resend(message_id: uuid.UUID) -> Page:
    try:
        row = mail.resend(actor=_user(), message_id=message_id)
    except ServiceError as exc:
        if exc.status == 403:
            raise
        db.session.rollback()
        flash(f"Not sent again: {exc.detail}")
    else:
        flash(f"The message to {row.to} is queued again.")
    return redirect(url_for("outbox.outbox"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(outbox_bp)
    register_nav("Organisation", "orgadmin.index", visible=is_org_admin, order=60)
    register_nav("Mail", "outbox.outbox", visible=lambda user: bool(user and user.is_platform_admin), order=70)
