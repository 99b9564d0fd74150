"""The page where org admins import a CASE package and platform admins load the bundled frameworks.

The rules (who may import what, and the checks of the package) live in ``standards.imports``; this view turns
the form into one call and shows the outcome, or the refusal beside the field it concerns.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response as WerkzeugResponse

from core.authz import can
from core.db import db
from core.errors import ServiceError, ValidationFailed
from core.models import Organisation, Role, User
from core.views import require_sign_in, signed_in_user
from standards import imports
from standards.api import upload_limit

bp = Blueprint("standards_import", __name__, url_prefix="/standards/import", template_folder="templates")
require_sign_in(bp)
MAX_ERRORS_SHOWN = 20


class CsrfForm(FlaskForm):
    """Only the CSRF check; the fields are read as the API reads them."""


def _owning_organisations(user: User) -> list[Organisation]:
    """The organisations a framework imported by ``user`` may belong to."""
    if user.is_platform_admin:
        return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    return sorted((m.organisation for m in user.memberships if m.role == Role.ORG_ADMIN.value), key=lambda o: o.name)


def may_import(user: User | None) -> bool:
    """Whether to offer the import page (the service checks again on every import)."""
    return user is not None and can(user, "framework.import", None)


def _summary(report: imports.ImportReport) -> str:
    if report.unchanged:
        return _("“%(title)s” is already up to date: nothing changed.", title=report.title)
    counts = {
        "title": report.title,
        "items": report.items,
        "added": report.items_added,
        "updated": report.items_updated,
        "obsoleted": report.items_obsoleted,
        "associations": report.associations,
    }
    if report.created:
        return _(
            "Imported “%(title)s”: %(items)s items (%(added)s new, %(updated)s changed, %(obsoleted)s now "
            "obsolete), %(associations)s associations.",
            **counts,
        )
    return _(
        "Updated “%(title)s”: %(items)s items (%(added)s new, %(updated)s changed, %(obsoleted)s now "
        "obsolete), %(associations)s associations.",
        **counts,
    )


@bp.route("", methods=["GET", "POST"])
@upload_limit
def index() -> Any:
    user = signed_in_user()
    form = CsrfForm()
    errors: list[dict[str, str]] = []
    status = 200
    if not may_import(user):
        return render_template("standards/import.html", allowed=False, form=form), 403
    organisations = _owning_organisations(user)
    if request.method == "POST":
        if not form.validate_on_submit():
            errors = [{"field": "file", "detail": "The form expired; choose the file again and import."}]
            status = 400
        else:
            try:
                return _import(user)
            except ServiceError as exc:
                db.session.rollback()
                errors = exc.errors or [{"field": "file", "detail": exc.detail}]
                status = exc.status
    return (
        render_template(
            "standards/import.html",
            allowed=True,
            form=form,
            organisations=organisations,
            platform_admin=user.is_platform_admin,
            errors=errors[:MAX_ERRORS_SHOWN],
            more_errors=max(len(errors) - MAX_ERRORS_SHOWN, 0),
            chosen=request.form.get("organisation_id", ""),
            max_mb=current_app.config["STANDARDS_MAX_UPLOAD"] // (1024 * 1024),
        ),
        status,
    )


def _import(user: User) -> WerkzeugResponse:
    if request.form.get("action") == "bundled":
        reports = imports.load_bundled(actor=user)
        for report in reports:
            flash(_summary(report))
        return redirect(url_for("standards_web.index"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed.field("file", "Choose a CASE package (a .json file) to import.")
    owner = request.form.get("organisation_id") or None
    organisation_id = None
    if owner is not None:
        organisation_id = next((o.id for o in _owning_organisations(user) if str(o.id) == owner), None)
        if organisation_id is None:
            raise ValidationFailed.field("organisation_id", "Choose one of the organisations listed.")
    report = imports.import_package(
        actor=user,
        data=upload.read(),
        organisation_id=organisation_id,
        source_note=f"Uploaded on the import page as {secure_filename(upload.filename) or 'a file'}.",
    )
    flash(_summary(report))
    return redirect(url_for("standards_web.framework", framework_id=report.framework_id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
