"""Web pages for personal data: a person downloads their archive and asks for erasure from ``/account``; admins
see the requests they may carry out at ``/organisations/erasure-requests`` and carry them out after a
confirmation page. The rules (who may see and erase whom, what erasure does) are in ``core.erasure``."""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from core import erasure, exports
from core.db import clamp_page, db
from core.errors import ServiceError
from core.http import export_limit, streamed_attachment
from core.models import ErasureState, User
from core.views import require_sign_in, signed_in_user

bp = Blueprint("privacy", __name__)
Page = str | WerkzeugResponse | tuple[str, int]
require_sign_in(bp)
_user = signed_in_user


@bp.get("/account/export")
@export_limit
def export() -> WerkzeugResponse:
    archive = exports.export(actor=_user())
    return streamed_attachment(archive.chunks, filename=archive.filename, mimetype="application/zip")


@bp.get("/account/erasure")
def erasure_page(errors: dict[str, list[str]] | None = None, status: int = 200) -> Page:
    user = _user()
    return render_template(
        "privacy/erasure.html",
        user=user,
        pending=erasure.pending_request(actor=user),
        errors=errors or {},
        reason=request.form.get("reason", ""),
    ), status


@bp.post("/account/erasure")
def request_erasure() -> Page:
    errors: dict[str, list[str]] = {}
    if request.form.get("confirm") != "yes":
        errors["confirm"] = [_("Tick the box to confirm that you want your data erased.")]
    else:
        try:
            erasure.request_erasure(actor=_user(), reason=request.form.get("reason", ""))
        except ServiceError as exc:
            db.session.rollback()
            for e in exc.errors:
                errors.setdefault(e["field"], []).append(e["detail"])
            if not exc.errors:
                errors["_form"] = [exc.detail]
        else:
            flash(_("Your request is sent. An administrator will carry it out; until then you can withdraw it."))
            return redirect(url_for("privacy.erasure_page"))
    return erasure_page(errors=errors, status=422)


@bp.post("/account/erasure/cancel")
def cancel_erasure() -> Page:
    try:
        erasure.cancel_erasure(actor=_user())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.detail)
    else:
        flash(_("Your erasure request is withdrawn. Nothing was erased."))
    return redirect(url_for("privacy.erasure_page"))


@bp.get("/organisations/erasure-requests")
def requests() -> Page:
    user = _user()
    organisation_id = request.args.get("organisation_id", type=uuid.UUID)
    state = request.args.get("state") or ErasureState.PENDING.value
    if state not in {s.value for s in ErasureState}:
        state = ErasureState.PENDING.value
    page = erasure.list_requests(
        actor=user,
        page=clamp_page(request.args.get("page", type=int)),
        page_size=100,
        state=state,
        organisation_id=organisation_id,
    )
    return render_template(
        "privacy/requests.html", requests=page.items, total=page.total, state=state, organisation_id=organisation_id
    )


@bp.get("/organisations/erasure-requests/<uuid:request_id>")
def request_page(request_id: uuid.UUID) -> Page:
    return render_template("privacy/request.html", item=erasure.get_request(actor=_user(), request_id=request_id))


@bp.post("/organisations/erasure-requests/<uuid:request_id>/carry-out")
def carry_out(request_id: uuid.UUID) -> Page:
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm before erasing."))
        return redirect(url_for("privacy.request_page", request_id=request_id))
    try:
        done = erasure.carry_out(actor=_user(), request_id=request_id)
    except ServiceError as exc:
        db.session.rollback()
        flash(_("Not erased: %(detail)s", detail=exc.detail))
        return redirect(url_for("privacy.request_page", request_id=request_id))
    flash(_("Erased. The person is now %(pseudonym)s in the records.", pseudonym=done.pseudonym))
    return redirect(url_for("privacy.requests"))


def pending_for(user: User) -> int:
    """How many erasure requests wait for ``user`` to carry them out (shown on their account page)."""
    return erasure.list_requests(actor=user, page=1, page_size=1, state=ErasureState.PENDING.value).total


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["erasure_requests_waiting"] = pending_for
