"""The author's renewal page of a draft (``/authoring/versions/<id>/renewal``): whether badges of the version are
renewed by evidence, every how many months (their validity), and the lighter renewal requirements, rubric and
passing rule. Its inputs are named as the editor's, so the same form code and script serve both."""

from __future__ import annotations

import uuid

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError as SchemaValidationError

from core.db import db
from core.errors import ServiceError, flatten_messages
from core.i18n import label
from credentials.authoring import schemas as s
from credentials.authoring import versions as version_rules
from credentials.authoring.forms import field_errors, parse_renewal, renewal_rows_from_form, renewal_rows_of
from credentials.authoring.models import FILE_TYPES, EvidenceKind
from credentials.authoring.views import Page, _render_version, _user, _version, bp


@bp.route("/versions/<uuid:version_id>/renewal", methods=["GET", "POST"])
def renewal(version_id: uuid.UUID) -> Page:
    version = _version(version_id)
    if not version.is_editable:
        flash(
            _(
                "Version %(number)s is %(state)s; only drafts can be edited.",
                number=version.number,
                state=label(version.state),
            )
        )
        return redirect(url_for("authoring.overview", version_id=version.id))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        rows = renewal_rows_from_form(request.form)
        parsed = parse_renewal(rows)
        try:
            if parsed.errors:
                raise ServiceError("Some numbers are not numbers.", errors=parsed.errors)
            changes = s.UpdateVersionSchema().load(parsed.content)
            version_rules.update_draft(
                actor=_user(),
                version_id=version.id,
                changes=changes,
                expected_version=request.form.get("lock_version", type=int),
            )
        except SchemaValidationError as exc:
            errors = field_errors(flatten_messages(exc.messages), parsed)
        except ServiceError as exc:
            errors = field_errors(exc.errors, parsed) or {"_form": [exc.detail]}
        else:
            flash(_("Renewal saved.") if rows["enabled"] else _("Saved: badges of this version need no renewal."))
            return redirect(url_for("authoring.renewal", version_id=version.id))
        db.session.rollback()
        version = _version(version_id)
    else:
        rows = renewal_rows_of(version)
    return _render_version(
        "credentials/authoring/renewal.html",
        version,
        "renewal",
        rows=rows,
        errors=errors,
        renewal=True,
        evidence_kinds=[k.value for k in EvidenceKind],
        file_types=sorted(FILE_TYPES),
    ), (422 if errors else 200)
