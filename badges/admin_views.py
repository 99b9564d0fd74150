"""Org admins' issuing pages: the issuer profile and signing keys (rotate), the badges the organisation
issued (revoke, with a reason), and the import of past awards from a CSV file.

The rules (who may rotate, revoke, import: ``badges.access``; a reason is required) live in ``badges.issuers``,
``badges.revocation`` and ``badges.imports``; these views translate forms and show refusals next to the field
they concern.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import imports, issuers, issuing, revocation
from badges.imports import IMPORT_COLUMNS
from core.authz import authorize
from core.db import clamp_page, db
from core.errors import ServiceError
from core.views import require_sign_in, signed_in_user

bp = Blueprint("issuing", __name__, url_prefix="/organisations")
Page = str | WerkzeugResponse | tuple[str, int]
PAGE_SIZE = 50


require_sign_in(bp)
_user = signed_in_user


@bp.get("/<uuid:organisation_id>/issuer")
def issuer(organisation_id: uuid.UUID) -> Page:
    """The public profile as verifiers see it, and every published key, active ones first."""
    actor = _user()
    organisation, profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "issuer.manage_keys", organisation)
    keys = sorted(issuers.list_keys(organisation_id=organisation_id), key=lambda k: (k.state != "active", k.created_at))
    return render_template(
        "badges/admin_issuer.html",
        organisation=organisation,
        profile=profile,
        keys=keys,
        did=issuers.did_web(organisation_id),
    )


@bp.post("/<uuid:organisation_id>/issuer/rotate")
def rotate(organisation_id: uuid.UUID) -> Page:
    try:
        fresh = issuers.rotate_keys(actor=_user(), organisation_id=organisation_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(f"Keys not rotated: {exc.detail}")
    else:
        flash(f"Keys rotated: {len(fresh)} new active keys; the old ones stay published, retired.")
    return redirect(url_for("issuing.issuer", organisation_id=organisation_id))


@bp.get("/<uuid:organisation_id>/badges")
def badges(
    organisation_id: uuid.UUID, errors: dict[str, str] | None = None, reasons: dict[str, str] | None = None
) -> Page:
    actor = _user()
    page_number = clamp_page(request.args.get("page", 1, type=int))
    listing = issuing.list_organisation_badges(
        actor=actor, organisation_id=organisation_id, page=page_number, page_size=PAGE_SIZE
    )
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/admin_badges.html",
        organisation=organisation,
        badges=listing.items,
        total=listing.total,
        page=page_number,
        pages=max(1, -(-listing.total // PAGE_SIZE)),
        errors=errors or {},
        reasons=reasons or {},
    )
    return (html, 422) if errors else html


@bp.post("/<uuid:organisation_id>/badges/<uuid:badge_id>/revoke")
def revoke(organisation_id: uuid.UUID, badge_id: uuid.UUID) -> Page:
    reason = request.form.get("reason", "")
    try:
        badge = issuing.get_badge(badge_id=badge_id)
        if badge.organisation_id != organisation_id:
            abort(404)
        revocation.revoke(actor=_user(), badge_id=badge_id, reason=reason)
    except ServiceError as exc:
        db.session.rollback()
        detail = exc.errors[0]["detail"] if exc.errors else exc.detail
        return badges(organisation_id, errors={str(badge_id): detail}, reasons={str(badge_id): reason})
    flash(f"Badge revoked: {badge.title} ({badge.recipient_name or 'recipient'}).")
    return redirect(url_for("issuing.badges", organisation_id=organisation_id))


@bp.route("/<uuid:organisation_id>/badges/import", methods=["GET", "POST"])
def import_awards(organisation_id: uuid.UUID) -> Page:
    actor = _user()
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    authorize(actor, "badge.import", organisation)
    errors: list[dict[str, str]] = []
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else b""
        try:
            if not data:
                errors = [{"field": "file", "detail": "Choose a CSV file."}]
            else:
                job = imports.start_import(actor=actor, organisation_id=organisation_id, data=data)
                return redirect(url_for("issuing.award_import", organisation_id=organisation_id, import_id=job.id))
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.errors or [{"field": "file", "detail": exc.detail}]
    html = render_template(
        "badges/admin_import.html",
        organisation=organisation,
        errors=errors,
        columns=IMPORT_COLUMNS,
        imports=imports.recent_imports(actor=actor, organisation_id=organisation_id),
        max_size=current_app.config.get("MAX_CONTENT_LENGTH"),
    )
    return (html, 422) if errors else html


@bp.get("/<uuid:organisation_id>/badges/imports/<uuid:import_id>")
def award_import(organisation_id: uuid.UUID, import_id: uuid.UUID) -> Page:
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    job = imports.get_import(actor=_user(), organisation_id=organisation_id, import_id=import_id)
    return render_template("badges/admin_import_progress.html", organisation=organisation, job=job)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
