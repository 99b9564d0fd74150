"""Web pages for organisation admins: creating an organisation, its overview with the first-run checklist, its
profile, members and their roles, invitations; and for platform admins the outgoing mail queue
(``/admin/outbox``: what waits, what failed and why, and "send again").

``/organisations/`` lists the organisations the signed-in user administers; ``/organisations/new`` creates one
(platform admins, and anyone when ``ALLOW_ORGANISATION_SIGNUP`` is on); each has an overview page (the first-run
checklist), a profile page and a members page where roles are changed (one form per member) and people are
invited by email. Every rule (who may create or manage, the last org admin stays, no duplicate invitation) is in
``core.organisations`` and ``core.checklist``; these views only translate forms.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from core import checklist, mail, organisations
from core import members as placement
from core.authz import can
from core.db import db
from core.errors import ServiceError, ValidationFailed, flatten_messages
from core.http import organisation_creation_limit
from core.models import Organisation, OrganisationKind, Role, User
from core.schemas import CreateOrganisationSchema, UpdateOrganisationSchema
from core.views import register_nav, require_sign_in, signed_in_user, text_arg

bp = Blueprint("orgadmin", __name__, url_prefix="/organisations")
Page = str | WerkzeugResponse | tuple[str, int]
ROLE_LABELS = {
    Role.ORG_ADMIN.value: _l("Org admin"),
    Role.AUTHOR.value: _l("Author"),
    Role.ASSESSOR.value: _l("Assessor"),
    Role.PROGRAMME_LEAD.value: _l("Programme lead"),
}
KIND_LABELS = {
    OrganisationKind.DISTRICT.value: _l("School district"),
    OrganisationKind.UNIVERSITY.value: _l("University or college"),
    OrganisationKind.STATE_AGENCY.value: _l("State agency"),
    OrganisationKind.NONPROFIT.value: _l("Nonprofit"),
    OrganisationKind.OTHER.value: _l("Other"),
}
PROFILE_FIELDS = ("name", "kind", "url", "email", "description")
# The profile page also sets how long evidence is kept after a decision (credentials/portfolios/retention.py).
EDIT_FIELDS = (*PROFILE_FIELDS, "evidence_retention_days")


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
    user = _user()
    organisations = administered(user)
    if len(organisations) == 1 and not user.is_platform_admin:
        return redirect(url_for("orgadmin.overview", organisation_id=organisations[0].id))
    return render_template(
        "orgadmin/index.html", organisations=organisations, may_create=can(user, "organisation.create")
    )


def _form_errors(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(error.get("field") or "_form", []).append(error["detail"])
    return out


def _form_values(names: tuple[str, ...], defaults: dict[str, str]) -> dict[str, str]:
    if request.method != "POST":
        return defaults
    return {name: (request.form.get(name) or "").strip() for name in names}


@bp.route("/new", methods=["GET", "POST"])
@organisation_creation_limit(methods=["POST"])
def new() -> Page:
    """Create an organisation, or a unit of one the user administers: its founder becomes its org admin and
    author; then its overview page."""
    user = _user()
    may_create = can(user, "organisation.create")
    parents = administered(user)
    if not may_create and not parents:
        return render_template("orgadmin/new.html", allowed=False), 403
    defaults = {"kind": OrganisationKind.OTHER.value, "parent_id": request.args.get("parent", "")}
    values = _form_values(("slug", "parent_id", *PROFILE_FIELDS), defaults)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        # Blank optional fields are left out, as an API client would: a blank slug is made from the name.
        data = {k: v for k, v in values.items() if v or k == "name"}
        try:
            organisation = organisations.create_organisation(actor=user, **CreateOrganisationSchema().load(data))
        except SchemaValidationError as exc:
            errors = _form_errors(flatten_messages(exc.messages))
        except ServiceError as exc:
            db.session.rollback()
            errors = _form_errors(exc.errors) or {"_form": [exc.detail]}
        else:
            flash(
                _(
                    "%(name)s is created and you are its admin. Work through the checklist below.",
                    name=organisation.name,
                )
            )
            return redirect(url_for("orgadmin.overview", organisation_id=organisation.id))
    html = render_template(
        "orgadmin/new.html",
        allowed=True,
        values=values,
        errors=errors,
        kinds=KIND_LABELS,
        parents=[("", "None: an organisation of its own")] * bool(may_create) + [(str(o.id), o.name) for o in parents],
    )
    return (html, 422) if errors else html


def checklist_url(step: checklist.Step, organisation: Organisation) -> str | None:
    """The page that does ``step``, when its domain is installed."""
    if step.endpoint not in current_app.view_functions:
        return None
    return url_for(step.endpoint, **step.params(organisation))


@bp.get("/<uuid:organisation_id>")
def overview(organisation_id: uuid.UUID) -> Page:
    """The organisation's home for its admins: the first-run checklist, each step ticked from real data."""
    user = _user()
    progress = checklist.first_run_checklist(actor=user, organisation_id=organisation_id)
    steps = [(step, done, checklist_url(step, progress.organisation)) for step, done in progress.steps]
    return render_template(
        "orgadmin/overview.html",
        organisation=progress.organisation,
        progress=progress,
        steps=steps,
        kinds=KIND_LABELS,
        units=organisations.list_units(actor=user, organisation_id=organisation_id),
    )


@bp.route("/<uuid:organisation_id>/profile", methods=["GET", "POST"])
def profile(organisation_id: uuid.UUID) -> Page:
    """Edit the organisation's record, which is its issuer profile on every badge."""
    user = _user()
    organisation = organisations.get_organisation(actor=user, organisation_id=organisation_id)
    if not can(user, "organisation.update", organisation):
        abort(403, "Only the organisation's admins edit its profile.")
    current = {name: getattr(organisation, name) or "" for name in EDIT_FIELDS}
    values = _form_values(EDIT_FIELDS, current)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = {k: (v or None) if k in {"url", "email", "evidence_retention_days"} else v for k, v in values.items()}
        try:
            changes = UpdateOrganisationSchema().load(data)
            organisations.update_organisation(
                actor=user,
                organisation_id=organisation_id,
                changes=changes,
                expected_version=request.form.get("version", type=int),
            )
        except SchemaValidationError as exc:
            errors = _form_errors(flatten_messages(exc.messages))
        except ServiceError as exc:
            db.session.rollback()
            errors = _form_errors(exc.errors) or {"_form": [exc.detail]}
        else:
            flash(_("Profile saved. Badges issued from now on carry it."))
            return redirect(url_for("orgadmin.overview", organisation_id=organisation_id))
    html = render_template(
        "orgadmin/profile.html", organisation=organisation, values=values, errors=errors, kinds=KIND_LABELS
    )
    return (html, 422) if errors else html


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
        units=placement.unit_choices(organisation.id),
        job_roles=placement.job_roles_in_use(organisation.id),
        invite_errors=invite_errors or {},
        invite_values={
            "email": request.form.get("email", ""),
            "roles": request.form.getlist("roles"),
            "unit_id": request.form.get("unit_id", ""),
            "job_role": request.form.get("job_role", ""),
        },
    ), status


def _form_unit() -> uuid.UUID | None:
    """The unit picked in a form (empty: none); something that is not an id is a 422 naming the field."""
    raw = (request.form.get("unit_id") or "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed.field("unit_id", "Choose this organisation or one of its units.") from None


@bp.post("/<uuid:organisation_id>/members/<uuid:user_id>/placement")
def set_placement(organisation_id: uuid.UUID, user_id: uuid.UUID) -> Page:
    try:
        placement.set_member_placement(
            actor=_user(),
            organisation_id=organisation_id,
            user_id=user_id,
            unit_id=_form_unit(),
            job_role=request.form.get("job_role"),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(
            _("Unit and job role not changed: %(errors)s", errors=exc.errors[0]["detail"] if exc.errors else exc.detail)
        )
    else:
        flash(_("Unit and job role saved."))
    return redirect(url_for("orgadmin.members", organisation_id=organisation_id))


@bp.post("/<uuid:organisation_id>/members/<uuid:user_id>")
def set_roles(organisation_id: uuid.UUID, user_id: uuid.UUID) -> Page:
    try:
        organisations.set_member_roles(
            actor=_user(), organisation_id=organisation_id, user_id=user_id, roles=request.form.getlist("roles")
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Roles not changed: %(detail)s", detail=exc.detail))
    else:
        flash(_("Roles saved.") if request.form.getlist("roles") else _("Removed from the organisation."))
    return redirect(url_for("orgadmin.members", organisation_id=organisation_id))


@bp.post("/<uuid:organisation_id>/invitations")
def invite(organisation_id: uuid.UUID) -> Page:
    email = (request.form.get("email") or "").strip()
    roles = request.form.getlist("roles")
    errors: dict[str, list[str]] = {}
    if not email or "@" not in email or len(email) > 254:
        errors["email"] = [_("Enter the email address of the person to invite.")]
    if not roles:
        errors["roles"] = [_("Choose at least one role.")]
    if not errors:
        try:
            organisations.invite(
                actor=_user(),
                organisation_id=organisation_id,
                email=email,
                roles=roles,
                unit_id=_form_unit(),
                job_role=request.form.get("job_role"),
            )
        except ServiceError as exc:
            db.session.rollback()
            for e in exc.errors:
                errors.setdefault(e["field"].split(".")[0] or "email", []).append(e["detail"])
            if not exc.errors:
                errors["email"] = [exc.detail]
        else:
            flash(_("Invitation sent to %(email)s.", email=email))
            return redirect(url_for("orgadmin.members", organisation_id=organisation_id))
    return members(organisation_id, invite_errors=errors, status=422)


@bp.post("/<uuid:organisation_id>/invitations/<uuid:invitation_id>/revoke")
def revoke(organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> Page:
    try:
        organisations.revoke_invitation(actor=_user(), organisation_id=organisation_id, invitation_id=invitation_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not revoked: %(detail)s", detail=exc.detail))
    else:
        flash(_("Invitation revoked."))
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
        flash(_("Not sent again: %(detail)s", detail=exc.detail))
    else:
        flash(_("The message to %(to)s is queued again.", to=row.to))
    return redirect(url_for("outbox.outbox"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(outbox_bp)
    register_nav(_l("Organisation"), "orgadmin.index", visible=is_org_admin, order=60)
    register_nav(_l("Mail"), "outbox.outbox", visible=lambda user: bool(user and user.is_platform_admin), order=70)
