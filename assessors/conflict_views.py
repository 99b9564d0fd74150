"""The assessor's conflicts-of-interest page: declare a person whose work they are never given, or withdraw."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from assessors import conflicts as conflict_rules
from assessors.views import Page, _user, bp
from core.db import db
from core.errors import ServiceError


@bp.route("/conflicts", methods=["GET", "POST"])
def conflicts() -> Page:
    """The signed-in person's declared conflicts of interest, and the form to declare one."""
    actor = _user()
    values = {"email": request.form.get("email", ""), "reason": request.form.get("reason", "")}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            conflict_rules.declare(actor=actor, email=values["email"], reason=values["reason"])
        except ServiceError as exc:
            db.session.rollback()
            for e in exc.errors:
                errors.setdefault(e["field"], []).append(e["detail"])
            if not exc.errors:
                errors["email"] = [exc.detail]
        else:
            flash(_("Conflict declared: you will not be given this person's work."))
            return redirect(url_for("review.conflicts"))
    html = render_template(
        "assessors/conflicts.html", declared=conflict_rules.list_declared(actor=actor), values=values, errors=errors
    )
    return (html, 422) if errors else html


@bp.post("/conflicts/<uuid:conflict_id>/withdraw")
def withdraw_conflict(conflict_id: uuid.UUID) -> Page:
    try:
        conflict_rules.withdraw(actor=_user(), conflict_id=conflict_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not withdrawn: %(detail)s", detail=exc.detail))
    else:
        flash(_("Conflict withdrawn."))
    return redirect(url_for("review.conflicts"))
