"""The shared-definitions page of an organisation, for its org admins: what it shares with its units (and which
unit adopted which version), and what the organisations above it share with it (adopt, upgrade, withdraw).

One page, one form per action; the rules live in ``adoption``.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from core.authz import ancestor_ids, authorize
from core.db import db
from core.errors import NotFound, ServiceError
from core.models import Organisation
from core.views import require_sign_in, signed_in_user
from credentials.authoring import adoption
from credentials.authoring.adoption_models import ShareMode, ShareScope
from credentials.authoring.models import CredentialVersion, VersionState

bp = Blueprint("adoption", __name__, url_prefix="/organisations", template_folder="templates")
require_sign_in(bp)
Page = str | WerkzeugResponse


def _organisation(organisation_id: uuid.UUID) -> Organisation:
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    return organisation


def _uuid(name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.form.get(name, ""))
    except ValueError:
        raise NotFound("No such micro-credential.") from None


def _act(organisation: Organisation) -> str:
    """Carry out the form's action; returns what to tell the admin."""
    actor = signed_in_user()
    action = request.form.get("action")
    if action == "share":
        mode, scope = request.form.get("mode", ""), request.form.get("scope", ShareScope.ALL.value)
        if mode not in {m.value for m in ShareMode} or scope not in {s.value for s in ShareScope}:
            return _("Choose how to share it.")
        chosen = [uuid.UUID(v) for v in request.form.getlist("organisation_ids") if _is_uuid(v)]
        share = adoption.share(
            actor=actor,
            micro_credential_id=_uuid("micro_credential_id"),
            mode=mode,
            scope=scope,
            organisation_ids=chosen,
        )
        whom = _("all units") if share.scope == ShareScope.ALL.value else _("the chosen units")
        if share.mode == ShareMode.ADOPT.value:
            return _("Shared with %(whom)s, to adopt.", whom=whom)
        return _("Shared with %(whom)s, issued centrally.", whom=whom)
    if action == "stop":
        adoption.stop_sharing(actor=actor, micro_credential_id=_uuid("micro_credential_id"))
        return _("No longer shared. Units that adopted it keep offering their version.")
    if action == "adopt":
        made = adoption.adopt(actor=actor, organisation_id=organisation.id, version_id=_uuid("version_id"))
        return _(
            "Adopted “%(title)s” (version %(number)s). Earners can now start it with you.",
            title=made.version.title,
            number=made.version.number,
        )
    if action == "upgrade":
        made = adoption.upgrade(actor=actor, adoption_id=_uuid("adoption_id"))
        return _(
            "Now offering version %(number)s. Submissions already started keep their version.",
            number=made.version.number,
        )
    if action == "withdraw":
        adoption.withdraw(actor=actor, adoption_id=_uuid("adoption_id"))
        return _("Adoption withdrawn: no new submissions. Badges already issued stay valid.")
    return _("Unknown action.")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@bp.route("/<uuid:organisation_id>/shared-definitions", methods=["GET", "POST"])
def page(organisation_id: uuid.UUID) -> Page:
    actor = signed_in_user()
    organisation = _organisation(organisation_id)
    authorize(actor, "credential.read_adoptions", organisation, hidden="No such organisation.")
    if request.method == "POST":
        try:
            flash(_act(organisation))
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.detail)
        return redirect(url_for("adoption.page", organisation_id=organisation.id))
    below = adoption.descendant_ids(organisation.id)
    units = (
        list(db.session.scalars(select(Organisation).where(Organisation.id.in_(below)).order_by(Organisation.name)))
        if below
        else []
    )
    published = list(
        db.session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.organisation_id == organisation.id,
                CredentialVersion.state == VersionState.PUBLISHED.value,
            )
            .order_by(CredentialVersion.title)
        )
    )
    report = {
        row["share"].micro_credential_id: row
        for row in adoption.sharing_report(actor=actor, organisation_id=organisation.id)
    }
    return render_template(
        "credentials/adoption/page.html",
        organisation=organisation,
        units=units,
        published=published,
        report=report,
        has_parent=bool(ancestor_ids(organisation.id)),
        offers=adoption.offered_to(actor=actor, organisation_id=organisation.id),
        adoptions=[a for a in adoption.list_adoptions(actor=actor, organisation_id=organisation.id) if not a.is_active],
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
