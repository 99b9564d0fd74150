"""The impact reports page (org admins, and the admins of organisations above it across their units): filters,
charts with their tables, and each figure's CSV and JSON downloads for the same filters."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, Flask, Response, render_template, request
from sqlalchemy import select

from badges import impact
from badges.impact_api import csv_response
from badges.impact_schemas import REPORT_SCHEMAS, load_page_args
from core.db import db
from core.members import job_roles_in_use, unit_choices
from core.views import require_sign_in, signed_in_user
from credentials.authoring.models import MicroCredential

bp = Blueprint("impact", __name__, url_prefix="/organisations")
require_sign_in(bp)


def _scope() -> tuple[impact.Scope, str]:
    args = load_page_args(request.args)
    by = args.pop("by", "month")
    args.pop("format", None)
    return impact.scope(actor=signed_in_user(), **args, organisation_id=request.view_args["organisation_id"]), by


@bp.get("/<uuid:organisation_id>/impact")
def page(organisation_id: uuid.UUID) -> str:
    scope, by = _scope()
    by = "unit" if by == "month" else by  # the page always shows one split beside the monthly trend
    subtree = unit_choices(organisation_id)
    credential_ids = set(
        db.session.scalars(
            select(MicroCredential.id).where(MicroCredential.organisation_id.in_(scope.organisation_ids))
        )
    )
    names = impact.titles(credential_ids) if credential_ids else {}
    return render_template(
        "badges/impact.html",
        organisation=scope.organisation,
        scope=scope,
        by=by,
        has_units=len(subtree) > 1,
        units=subtree,
        job_roles=job_roles_in_use(organisation_id),
        credentials=sorted(names.items(), key=lambda kv: kv[1]),
        badges=impact.badges_over_time(scope=scope, by=by),
        funnel=impact.funnel(scope=scope),
        earn=impact.time_to_earn(scope=scope),
        retention=impact.retention(scope=scope),
        query={k: v for k, v in request.args.items() if v.strip() and k != "by"},
    )


@bp.get("/<uuid:organisation_id>/impact/<any(badges, funnel, 'time-to-earn', retention):figure>.<any(csv, json):kind>")
def download(organisation_id: uuid.UUID, figure: str, kind: str) -> Response:
    scope, by = _scope()
    data = impact.figure(figure, scope=scope, by=by)
    if kind == "csv":
        return csv_response(figure, data)
    suffix = f"-by-{by}" if figure == "badges" and by != "month" else ""
    return Response(
        json.dumps(REPORT_SCHEMAS[figure]().dump(data), indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="impact-{figure}{suffix}.json"'},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
