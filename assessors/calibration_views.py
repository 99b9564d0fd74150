"""The assessor's calibration page (score the anchors, the result in words) and the anchors page where org
admins, authors and lead assessors mark decided submissions as anchors. Routes of the review blueprint, kept
apart from ``views`` so each module stays one idea."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from assessors import access
from assessors import calibration as calibration_rules
from assessors.views import CsrfForm, Page, _user, bp
from core.authz import can
from core.db import db
from core.errors import NotFound, ServiceError


@bp.route("/calibration/<uuid:micro_credential_id>", methods=["GET", "POST"])
def calibration(micro_credential_id: uuid.UUID) -> Page:
    actor = _user()
    calibration_set = calibration_rules.calibration_set(actor=actor, micro_credential_id=micro_credential_id)
    form = CsrfForm()
    attempt = None
    errors: list[dict[str, str]] = []
    levels: dict[str, dict[str, int]] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            return Response("The form expired; reload the page.", status=400)
        for item in calibration_set["anchors"]:
            anchor_id = str(item["anchor_id"])
            levels[anchor_id] = {}
            for criterion in item["submission"]["rubric"]:
                value = request.form.get(f"level-{anchor_id}-{criterion['key']}", type=int)
                if value is not None:
                    levels[anchor_id][criterion["key"]] = value
        try:
            attempt = calibration_rules.calibrate(actor=actor, micro_credential_id=micro_credential_id, levels=levels)
        except ServiceError as exc:
            db.session.rollback()
            status = exc.status
            # ``/levels/<anchor id>/<criterion key>`` → the id of that criterion's fieldset on the page.
            errors = [
                {**e, "anchor": "c-" + "-".join(e.get("field", "").strip("/").split("/")[1:])}
                for e in (exc.errors or [{"field": "", "detail": exc.detail}])
            ]
    html = render_template(
        "assessors/calibration.html",
        calibration=calibration_set,
        attempt=attempt,
        report=calibration_rules.attempt_report(attempt) if attempt else [],
        chosen=levels,  # the levels just sent stay chosen, whatever the outcome
        form=form,
        errors=errors,
    )
    return html, status  # type: ignore[return-value]


@bp.route("/anchors/<uuid:micro_credential_id>", methods=["GET", "POST"])
def anchors(micro_credential_id: uuid.UUID) -> Page:
    """Choose the calibration set: mark decided submissions as anchors with the agreed levels, change, remove."""
    actor = _user()
    choices = calibration_rules.anchor_choices(actor=actor, micro_credential_id=micro_credential_id)
    form = CsrfForm()
    errors: list[dict[str, str]] = []
    posted: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            return Response("The form expired; reload the page.", status=400)
        try:
            if request.form.get("action") == "remove":
                calibration_rules.remove_anchor(actor=actor, anchor_id=_form_uuid("anchor_id"))
                flash(_("Anchor removed from the calibration set."))
            else:
                submission_id = _form_uuid("submission_id")
                posted = {"submission_id": str(submission_id), "rationale": request.form.get("rationale", "")}
                levels = {
                    name.removeprefix("level-"): value
                    for name in request.form
                    if name.startswith("level-") and (value := request.form.get(name, type=int)) is not None
                }
                posted["levels"] = levels
                anchor = calibration_rules.mark_anchor(
                    actor=actor,
                    submission_id=submission_id,
                    agreed_levels=levels,
                    rationale=posted["rationale"].strip(),
                    micro_credential_id=micro_credential_id,
                )
                flash(
                    _("%(reference)s is an anchor with the levels you agreed.", reference=anchor.submission.reference)
                )
            return redirect(url_for("review.anchors", micro_credential_id=micro_credential_id))
        except ServiceError as exc:
            db.session.rollback()
            errors = _anchor_errors(exc.errors or [{"field": "", "detail": exc.detail}], posted)
            choices = calibration_rules.anchor_choices(actor=actor, micro_credential_id=micro_credential_id)
            status = exc.status
    versions = choices["micro_credential"].versions
    html = render_template(
        "assessors/anchors.html",
        choices=choices,
        title=versions[-1].title if versions else "this micro-credential",
        organisation=access.organisation_of(choices["micro_credential"].organisation_id),
        may_manage=can(actor, "review.manage", choices["micro_credential"].organisation_id),
        errors=errors,
        posted=posted,
        form=form,
    )
    return (html, status) if errors else html  # type: ignore[return-value]


def _anchor_errors(errors: list[dict[str, str]], posted: dict[str, Any]) -> list[dict[str, str]]:
    """The service's errors with the id of the field each concerns on the page (``/agreed_levels/<key>`` or
    ``/agreed_levels/<n>/level`` → that criterion's fieldset in the submission's form)."""
    keys = list(posted.get("levels", {}))
    prefix = f"a-{posted['submission_id']}" if posted.get("submission_id") else "anchors-heading"
    out = []
    for error in errors:
        parts = error.get("field", "").strip("/").split("/")
        key = ""
        if parts[0] == "agreed_levels" and len(parts) == 2:
            key = parts[1]
        elif parts[0] == "agreed_levels" and len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(keys):
            key = keys[int(parts[1])]
        target = f"{prefix}-{key}" if key else (f"{prefix}-rationale" if parts == ["rationale"] else prefix)
        out.append({**error, "anchor": target, "criterion_key": key})
    return out


def _form_uuid(name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.form.get(name, ""))
    except ValueError:
        raise NotFound("No such submission." if name == "submission_id" else "No such calibration anchor.") from None
