"""Endorsements on the web: the endorsing organisation's admin page (what it endorses, a form to endorse another
organisation's published micro-credential or its issuer profile, withdrawing with a reason), and each
endorsement's public URL (the signed credential as JSON, or its VC-JWT by ``Accept``). The rules are in
``badges.endorsements``."""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from badges import endorsements, issuers
from badges.views import JSON_TYPES, JWT_TYPES, SHORT_CACHE, _json, _negotiate, _text
from core.db import db
from core.errors import ServiceError
from core.views import require_sign_in, signed_in_user

admin = Blueprint("endorsement_views", __name__, url_prefix="/organisations")
public = Blueprint("endorsement_public", __name__)
require_sign_in(admin)
Page = str | WerkzeugResponse | tuple[str, int]


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _page(organisation_id: uuid.UUID, *, errors: dict[str, list[str]], form: dict[str, str], status: int) -> Page:
    actor = signed_in_user()
    made = endorsements.given(actor=actor, endorser_id=organisation_id)
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    choices = endorsements.endorsable(actor=actor, endorser_id=organisation_id)
    html = render_template(
        "badges/admin_endorsements.html",
        organisation=organisation,
        made=made,
        choices=choices,
        errors=errors,
        form=form,
    )
    return html, status


@admin.get("/<uuid:organisation_id>/endorsements")
def new_endorsement(organisation_id: uuid.UUID) -> Page:
    """What the organisation endorses, and the form to endorse (``?achievement=<version id>`` preselects one)."""
    form = {"target": f"achievement:{request.args['achievement']}"} if request.args.get("achievement") else {}
    return _page(organisation_id, errors={}, form=form, status=200)


@admin.post("/<uuid:organisation_id>/endorsements")
def endorse(organisation_id: uuid.UUID) -> Page:
    form = {key: request.form.get(key, "") for key in ("target", "comment")}
    kind, _sep, target_text = form["target"].partition(":")
    target_id = _uuid_or_none(target_text)
    if target_id is None or kind not in ("achievement", "issuer"):
        return _page(organisation_id, errors={"target": ["Choose what to endorse."]}, form=form, status=422)
    try:
        made = endorsements.endorse(
            actor=signed_in_user(),
            endorser_id=organisation_id,
            target_kind=kind,
            target_id=target_id,
            comment=form["comment"],
        )
    except ServiceError as exc:
        db.session.rollback()
        if exc.status in (401, 403):
            raise
        errors = {("target" if e["field"] == "target_id" else e["field"]): [e["detail"]] for e in exc.errors}
        return _page(organisation_id, errors=errors or {"target": [exc.detail]}, form=form, status=exc.status)
    flash(_("Endorsed: %(name)s.", name=made.credential["name"]))
    return redirect(url_for("endorsement_views.new_endorsement", organisation_id=organisation_id))


@admin.route("/<uuid:organisation_id>/endorsements/<uuid:endorsement_id>/withdraw", methods=["GET", "POST"])
def withdraw(organisation_id: uuid.UUID, endorsement_id: uuid.UUID) -> Page:
    """The confirmation page of withdrawing an endorsement (GET changes nothing), and its form."""
    actor = signed_in_user()
    made = {e.id: e for e in endorsements.given(actor=actor, endorser_id=organisation_id)}
    endorsement = made.get(endorsement_id)
    if endorsement is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    reason, status = "", 200
    if request.method == "POST":
        reason = request.form.get("reason", "")
        try:
            endorsements.withdraw(
                actor=actor, endorser_id=organisation_id, endorsement_id=endorsement_id, reason=reason
            )
        except ServiceError as exc:
            db.session.rollback()
            errors = exc.messages_by_field()
            status = exc.status
        else:
            flash(_("Endorsement withdrawn: %(name)s.", name=endorsement.credential["name"]))
            return redirect(url_for("endorsement_views.new_endorsement", organisation_id=organisation_id))
    organisation, _profile = issuers.issuer_profile(organisation_id=organisation_id)
    html = render_template(
        "badges/admin_endorsement_withdraw.html",
        organisation=organisation,
        endorsement=endorsement,
        errors=errors,
        reason=reason,
    )
    return html, status


@public.get("/endorsements/<uuid:endorsement_id>")
def endorsement(endorsement_id: uuid.UUID) -> Response:
    """The signed EndorsementCredential (JSON by default, its VC-JWT by ``Accept``); withdrawn ones stay here, their
    status list says they are revoked."""
    found = endorsements.get(endorsement_id=endorsement_id)
    wanted = _negotiate(*JSON_TYPES, *JWT_TYPES, "text/html")
    if wanted in JWT_TYPES:
        return _text(found.jwt, wanted, SHORT_CACHE)
    return _json(found.credential, wanted if wanted in JSON_TYPES else "application/json", SHORT_CACHE)


@public.get("/endorsements/<uuid:endorsement_id>.json")
def endorsement_json(endorsement_id: uuid.UUID) -> Response:
    return _json(endorsements.get(endorsement_id=endorsement_id).credential, "application/json", SHORT_CACHE)


@public.get("/endorsements/<uuid:endorsement_id>.jwt")
def endorsement_jwt(endorsement_id: uuid.UUID) -> Response:
    return _text(endorsements.get(endorsement_id=endorsement_id).jwt, "text/plain", SHORT_CACHE)


def init_app(app: Flask) -> None:
    app.register_blueprint(admin)
    app.register_blueprint(public)
