"""The earner's renewal pages: ``/my/badges/<id>/renew`` (where the invitation links) shows what renewing asks
for and starts the renewal submission, which the earner then fills in on the portfolio pages."""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import renewal
from badges.views import bp
from core.db import db
from core.errors import NotFound, ServiceError
from core.views import sign_in_redirect, signed_in_user


@bp.get("/my/badges/<uuid:badge_id>/renew")
def renewal_start(badge_id: uuid.UUID) -> WerkzeugResponse | tuple[str, int] | str:
    """What renewing this badge takes, and the button that starts it (or where the renewal already stands)."""
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    user = signed_in_user()
    badge = renewal.check_mine(actor=user, badge_id=badge_id)
    where = renewal.state(badge)
    if where.state == "draft" and where.submission_id is not None:
        return redirect(url_for("portfolio.submission", submission_id=where.submission_id))
    refused = None
    try:
        _badge, version = renewal.check_renewable(user, badge_id)
    except ServiceError as exc:
        refused, version = exc.detail, None
    html = render_template("badges/renewal_start.html", badge=badge, where=where, version=version, refused=refused)
    return (html, 409) if refused and where.state not in ("in_review", "renewed") else html


@bp.post("/my/badges/<uuid:badge_id>/renew")
def renewal_begin(badge_id: uuid.UUID) -> WerkzeugResponse:
    """Start (or go back to) the renewal submission of the earner's badge."""
    if (redirect_to_sign_in := sign_in_redirect()) is not None:
        return redirect_to_sign_in
    try:
        submission, new = renewal.start(actor=signed_in_user(), badge_id=badge_id)
    except NotFound:
        raise
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.detail)
        return redirect(url_for("badges.renewal_start", badge_id=badge_id))
    if new:
        flash(_("Your renewal has started. Answer the renewal requirements, then submit it for review."))
    return redirect(url_for("portfolio.submission", submission_id=submission.id))
