"""Pages of the OB 3.0 API: the consent page where an earner approves (or refuses) an application, and
``/account/applications`` where they see the applications they approved and revoke them."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from badges.host import services, upsert
from badges.host.oauth import server
from core.db import db
from core.errors import ServiceError
from core.http import security_headers
from core.views import require_sign_in, signed_in_user

bp = Blueprint("obapi_pages", __name__, template_folder="templates")
require_sign_in(bp)
Page = str | WerkzeugResponse | tuple[str, int]


@bp.route("/ims/ob/v3p0/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Page:
    """The authorization endpoint: show the application and what it asks for; on a decision, send the
    earner back to the application with a code (or with ``access_denied``)."""
    user = signed_in_user()
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as exc:
        if exc.redirect_uri:  # the client and its redirect URI are known: tell the application
            return server.handle_error_response(None, exc)
        return render_template("host/consent_error.html", error=exc), 400
    client = grant.client
    if request.method == "POST":
        if request.form.get("decision") == "approve":
            services.approve(actor=user, client=client, scope=grant.request.scope or "")
            return server.create_authorization_response(grant_user=user, grant=grant)
        return server.create_authorization_response(grant_user=None, grant=grant)
    response = make_response(
        render_template(
            "host/consent.html",
            client=client,
            scopes=services.describe_scopes(grant.request.scope or ""),
            redirect_host=urlsplit(grant.redirect_uri or "").netloc,
        )
    )
    response.headers["Content-Security-Policy"] = _policy_allowing(grant.redirect_uri)
    return response


def _policy_allowing(redirect_uri: str | None) -> str:
    """Our page policy, with the application's origin added to ``form-action``: browsers apply it to the
    redirect that follows the form, so without it the earner's "Allow" could never reach the application."""
    policy = security_headers(WerkzeugResponse()).headers["Content-Security-Policy"]
    parts = urlsplit(redirect_uri or "")
    origin = f"{parts.scheme}://{parts.netloc}"
    if re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?", origin):
        policy = policy.replace("form-action 'self'", f"form-action 'self' {origin}")
    return policy


@bp.get("/account/applications")
def applications() -> Page:
    return render_template(
        "host/applications.html",
        approvals=services.list_approvals(actor=signed_in_user()),
        describe_scopes=services.describe_scopes,
    )


@bp.post("/account/applications/<uuid:approval_id>/revoke")
def revoke(approval_id: uuid.UUID) -> Page:
    try:
        approval = services.revoke_approval(actor=signed_in_user(), approval_id=approval_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.detail)
    else:
        flash(_("%(client_name)s can no longer reach your badges or profile.", client_name=approval.client.client_name))
    return redirect(url_for("obapi_pages.applications"))


@bp.get("/my/badges/elsewhere")
def hosted() -> Page:
    """The credentials of other issuers that applications added through the OB 3.0 API (upsert)."""
    rows = upsert.list_hosted(actor=signed_in_user())
    return render_template("host/hosted.html", credentials=[upsert.display(row) for row in rows])


@bp.post("/my/badges/elsewhere/<uuid:hosted_id>/remove")
def remove_hosted(hosted_id: uuid.UUID) -> Page:
    removed = upsert.remove_hosted(actor=signed_in_user(), hosted_id=hosted_id)
    flash(_("Removed from your badges: %(display)s", display=upsert.display(removed)["name"]))
    return redirect(url_for("obapi_pages.hosted"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
