"""HTTP API for the impact reports (org admins, and the admins of organisations above): one endpoint per figure,
JSON or (``format=csv``) a spreadsheet."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response
from flask.views import MethodView

from assessors.reports import to_csv
from badges import impact
from badges import impact_schemas as s
from core.auth import require_user
from core.http import api_blueprint, register

blp = api_blueprint("impact-reports", __name__, "", "Impact reports: badges, funnel, time to earn, retention")


def answer(figure: str, organisation_id: uuid.UUID, args: dict[str, Any]) -> Any:
    """The figure for the filters in ``args`` (loaded by ``impact_schemas``): a dict, or a CSV response."""
    args = dict(args)
    output, by = args.pop("format", "json"), args.pop("by", "month")
    scope = impact.scope(actor=require_user(), organisation_id=organisation_id, **args)
    data = impact.figure(figure, scope=scope, by=by)
    if output == "csv":
        return csv_response(figure, data)
    return data


def csv_response(figure: str, data: dict[str, Any]) -> Response:
    suffix = f"-by-{data['by']}" if figure == "badges" and data["by"] != "month" else ""
    return Response(
        to_csv(impact.csv_rows(figure, data)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="impact-{figure}{suffix}.csv"'},
    )


_NOT_FOUND = "No such organisation, or a filter names a micro-credential or unit outside it"


@blp.route("/organisations/<uuid:organisation_id>/impact/badges")
class BadgesReport(MethodView):
    @blp.arguments(s.BadgesArgsSchema, location="query")
    @blp.response(200, s.BadgesReportSchema)
    @blp.alt_response(404, description=_NOT_FOUND)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Badges awarded and distinct earners per month; with `by`, also per unit, job role, standard or
        micro-credential (`groups` over the range, `rows` per month). `format=csv` for a spreadsheet."""
        return answer("badges", organisation_id, args)


@blp.route("/organisations/<uuid:organisation_id>/impact/funnel")
class FunnelReport(MethodView):
    @blp.arguments(s.ImpactArgsSchema, location="query")
    @blp.response(200, s.FunnelReportSchema)
    @blp.alt_response(404, description=_NOT_FOUND)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Submissions started → submitted → decided → passed per cohort (the month they were started)."""
        return answer("funnel", organisation_id, args)


@blp.route("/organisations/<uuid:organisation_id>/impact/time-to-earn")
class TimeToEarnReport(MethodView):
    @blp.arguments(s.ImpactArgsSchema, location="query")
    @blp.response(200, s.TimeToEarnReportSchema)
    @blp.alt_response(404, description=_NOT_FOUND)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Days from the start of the first attempt to the pass, median and 90th percentile, per micro-credential."""
        return answer("time-to-earn", organisation_id, args)


@blp.route("/organisations/<uuid:organisation_id>/impact/retention")
class RetentionReport(MethodView):
    @blp.arguments(s.ImpactArgsSchema, location="query")
    @blp.response(200, s.RetentionReportSchema)
    @blp.alt_response(404, description=_NOT_FOUND)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Per cohort of earners (the month of their first pass): how many attempted and earned a second one."""
        return answer("retention", organisation_id, args)


def init_app(app: Flask) -> None:
    register(app, blp)
