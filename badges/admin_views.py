"""Org admins' issuing pages: the issuer profile and signing keys (rotate), the badges the organisation
issued (revoke, suspend, reinstate, each with a reason), and the import of past awards from a CSV file.

Rotating keys and changing a badge's status each have a confirmation page (GET) that says what will happen;
only its form (POST) acts. The rules (who may rotate, revoke, import: ``badges.access``; a reason is required;
which change a badge's state allows) live in ``badges.issuers``, ``badges.revocation`` and ``badges.imports``;
these views translate forms and show refusals next to the field they concern.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import consent, imports, issuers, issuing, revocation
from badges.imports import IMPORT_COLUMNS
from core.authz import authorize
from core.db import clamp_page, db
from core.errors import ServiceError, ValidationFailed
from core.schemas import UpdateOrganisationSchema
from core.views import require_sign_in, signed_in_user, text_arg
from credentials.authoring.images import MAX_IMAGE_BYTES

bp = Blueprint("issuing", __name__, url_prefix="/organisations")
Page = str | WerkzeugResponse | tuple[str, int]
PAGE_SIZE = 50
PROFILE_SCHEMA = UpdateOrganisationSchema(only=issuers.PROFILE_FIELDS)
OPTIONAL = ("url", "email")


require_sign_in(bp)
_user = signed_in_user


@bp.get("/<uuid:organisation_id>/issuer")
def issuer(organisation_id: uuid.UUID) -> Page:
    """The public profile as verifiers see it, and every published key, active first."""
    actor = _user()
    organisation, profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "issuer.manage_keys", organisation)
    keys = sorted(issuers.list_keys(organisation_id=organisation_id), key=lambda k: (k.state != "active", k.created_at))
    html = render_template(
        "badges/admin_issuer.html",
        organisation=organisation,
        profile=profile,
        keys=keys,
        did=issuers.did_web(organisation_id),
        require_acceptance=consent.requires_acceptance(organisation_id),
    )
    return html


@bp.post("/<uuid:organisation_id>/issuer/consent")
def consent_settings(organisation_id: uuid.UUID) -> Page:
    """Turn "require acceptance" on or off."""
    require = request.form.get("require_acceptance") == "on"
    consent.set_requires_acceptance(actor=_user(), organisation_id=organisation_id, require=require)
    flash(
        _("New badges now wait for their earner's acceptance before they are public.")
        if require
        else _("New badges are public as soon as they are issued (imports to non-members still wait for acceptance).")
    )
    return redirect(url_for("issuing.issuer", organisation_id=organisation_id) + "#consent-heading")


@bp.route("/<uuid:organisation_id>/issuer/profile", methods=["GET", "POST"])
def edit_profile(organisation_id: uuid.UUID) -> Page:
    """Edit what verifiers see of the issuer: name, description, website, e-mail and the logo."""
    actor = _user()
    organisation, profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "organisation.update", organisation)
    errors: dict[str, list[str]] = {}
    status = 422
    values = {field: getattr(organisation, field) or "" for field in issuers.PROFILE_FIELDS}
    if request.method == "POST":
        values = {field: request.form.get(field, "") for field in issuers.PROFILE_FIELDS}
        upload = request.files.get("image")
        image = upload.read() if upload and upload.filename else None
        try:
            # Empty website or e-mail means "none"; the name stays required.
            changes = PROFILE_SCHEMA.load({k: (v.strip() or None) if k in OPTIONAL else v for k, v in values.items()})
        except ValidationError as exc:
            errors = {field: list(messages) for field, messages in exc.normalized_messages().items()}
        else:
            try:
                issuers.update_profile(
                    actor=actor,
                    organisation_id=organisation_id,
                    changes=changes,
                    image=image,
                    remove_image=request.form.get("remove_image") == "on",
                    expected_version=request.form.get("version", type=int),
                )
            except ServiceError as exc:
                db.session.rollback()
                status = exc.status
                for e in exc.errors or [{"field": "", "detail": exc.detail}]:
                    field = {"file": "image"}.get(e["field"].strip("/"), e["field"].strip("/")) or "_form"
                    errors.setdefault(field, []).append(e["detail"])
            else:
                flash(_("Issuer profile saved: verifiers see it now, and new badges carry it."))
                return redirect(url_for("issuing.issuer", organisation_id=organisation_id))
        organisation, profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/admin_issuer_profile.html",
        organisation=organisation,
        profile=profile,
        values=values,
        errors=errors,
        max_image_kib=MAX_IMAGE_BYTES // 1024,
    )
    return (html, status) if errors else html


@bp.route("/<uuid:organisation_id>/issuer/rotate", methods=["GET", "POST"])
def rotate(organisation_id: uuid.UUID) -> Page:
    if request.method == "GET":
        actor = _user()
        organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
        authorize(actor, "issuer.manage_keys", organisation)
        active = [k for k in issuers.list_keys(organisation_id=organisation_id) if k.state == "active"]
        return render_template("badges/admin_rotate.html", organisation=organisation, active=active)
    try:
        fresh = issuers.rotate_keys(actor=_user(), organisation_id=organisation_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Keys not rotated: %(detail)s", detail=exc.detail))
    else:
        flash(_("Keys rotated: %(count)s new active keys; the old ones stay published, retired.", count=len(fresh)))
    return redirect(url_for("issuing.issuer", organisation_id=organisation_id))


@bp.get("/<uuid:organisation_id>/badges")
def badges(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    page_number = clamp_page(request.args.get("page", 1, type=int))
    q = text_arg("q")
    acceptance = text_arg("acceptance", 16)
    if acceptance not in ("", "pending", "accepted", "declined"):
        raise ValidationFailed.field("acceptance", "Choose pending, accepted or declined.")
    listing = issuing.list_organisation_badges(
        actor=actor,
        organisation_id=organisation_id,
        page=page_number,
        page_size=PAGE_SIZE,
        q=q or None,
        acceptance=acceptance or None,
    )
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    return render_template(
        "badges/admin_badges.html",
        organisation=organisation,
        badges=listing.items,
        total=listing.total,
        q=q,
        acceptance=acceptance,
        page=page_number,
        pages=max(1, -(-listing.total // PAGE_SIZE)),
    )


_CHANGES = {
    "revoke": (revocation.revoke, _l("Badge revoked")),
    "suspend": (revocation.suspend, _l("Badge suspended")),
    "reinstate": (revocation.reinstate, _l("Suspension lifted")),
}


@bp.route(
    "/<uuid:organisation_id>/badges/<uuid:badge_id>/<any(revoke, suspend, reinstate):change>", methods=["GET", "POST"]
)
def change_status(organisation_id: uuid.UUID, badge_id: uuid.UUID, change: str) -> Page:
    """The confirmation page of revoking, suspending or reinstating one badge, and its form."""
    actor = _user()
    badge = issuing.get_badge(badge_id=badge_id)
    if badge.organisation_id != organisation_id:
        abort(404)
    authorize(actor, "badge.revoke", badge)
    errors: dict[str, list[str]] = {}
    reason, status = "", 200
    if request.method == "POST":
        reason = request.form.get("reason", "")
        act, done = _CHANGES[change]
        try:
            act(actor=actor, badge_id=badge_id, reason=reason)
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.messages_by_field()
            status = exc.status
        else:
            flash(
                _(
                    "%(done)s: %(title)s (%(value)s).",
                    done=done,
                    title=badge.title,
                    value=badge.recipient_name or _("recipient"),
                )
            )
            return redirect(url_for("issuing.badges", organisation_id=organisation_id))
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/admin_change_status.html",
        organisation=organisation,
        badge=badge,
        change=change,
        refusal=revocation.refusal(badge, change),
        errors=errors,
        reason=reason,
    )
    return html, status


@bp.route("/<uuid:organisation_id>/badges/import", methods=["GET", "POST"])
def import_awards(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "badge.import", organisation)
    errors: list[dict[str, str]] = []
    chosen = request.values.get("version", "")
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else b""
        try:
            if not data:
                errors = [{"field": "file", "detail": "Choose a CSV file."}]
            else:
                job = imports.start_import(
                    actor=actor, organisation_id=organisation_id, data=data, default_version_id=_version_choice()
                )
                return redirect(url_for("issuing.award_import", organisation_id=organisation_id, import_id=job.id))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors or [{"field": "file", "detail": exc.detail}]
    html = render_template(
        "badges/admin_import.html",
        organisation=organisation,
        errors=errors,
        file_errors=[e for e in errors if e.get("field") != "version"],
        version_errors=[e for e in errors if e.get("field") == "version"],
        columns=IMPORT_COLUMNS,
        versions=imports.importable_versions(actor=actor, organisation_id=organisation_id),
        chosen=chosen,
        imports=imports.recent_imports(actor=actor, organisation_id=organisation_id),
        max_size=current_app.config.get("MAX_CONTENT_LENGTH"),
    )
    return (html, 422) if errors else html


def _version_choice() -> uuid.UUID | None:
    """The micro-credential version chosen on the import page (none: each row names its own)."""
    value = request.values.get("version", "")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed.field("version", "Choose a published micro-credential of this organisation.") from None


@bp.get("/<uuid:organisation_id>/badges/import/template.csv")
def import_template(organisation_id: uuid.UUID) -> WerkzeugResponse:
    """An empty import file: the header line (without version_id when a micro-credential is chosen)."""
    actor = _user()
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "badge.import", organisation)
    try:
        version_id = _version_choice()
    except ServiceError:
        version_id = None
    version = next(
        (v for v in imports.importable_versions(actor=actor, organisation_id=organisation_id) if v.id == version_id),
        None,
    )
    name = "awards.csv" if version is None else f"awards-{version.id}.csv"
    return Response(
        imports.template_csv(version),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/<uuid:organisation_id>/badges/imports/<uuid:import_id>")
def award_import(organisation_id: uuid.UUID, import_id: uuid.UUID) -> Page:
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    job = imports.get_import(actor=_user(), organisation_id=organisation_id, import_id=import_id)
    return render_template(
        "badges/admin_import_progress.html",
        organisation=organisation,
        job=job,
        not_accepted=imports.not_accepted(job),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
