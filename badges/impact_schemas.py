"""What a client may send to the impact reports (query parameters, shared by the page, its downloads and the API)
and what the API returns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from badges.impact import DIMENSIONS
from core.errors import ValidationFailed, flatten_messages
from core.schemas import StrictSchema


class ImpactArgsSchema(StrictSchema):
    date_from = fields.Date(data_key="from", metadata={"description": "First day counted (default: 11 months back)"})
    date_to = fields.Date(data_key="to", metadata={"description": "Last day counted, inclusive (default: today)"})
    include_children = fields.Boolean(
        load_default=False, metadata={"description": "Count the organisation's units too, at any depth"}
    )
    micro_credential_id = fields.UUID()
    unit_id = fields.UUID(metadata={"description": "The earner's unit: this one or a unit below it"})
    job_role = fields.String(validate=validate.Length(max=100), metadata={"description": "The earner's job role"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class BadgesArgsSchema(ImpactArgsSchema):
    by = fields.String(load_default="month", validate=validate.OneOf(DIMENSIONS))


def load_page_args(args: Mapping[str, str], *, badges: bool = True) -> dict[str, Any]:
    """The page's filter form as the API reads it: empty fields are left out; refusals name the field (422)."""
    data = {k: v for k, v in args.items() if v.strip() and k != "format"}
    try:
        return (BadgesArgsSchema if badges else ImpactArgsSchema)().load(data)
    except ValidationError as refused:
        errors = flatten_messages(refused.messages)
        raise ValidationFailed("; ".join(f"{e['field']}: {e['detail']}" for e in errors), errors=errors) from None


class FiltersSchema(Schema):
    organisation_id = fields.UUID()
    include_children = fields.Boolean()
    date_from = fields.String(data_key="from")
    date_to = fields.String(data_key="to")
    micro_credential_id = fields.UUID(allow_none=True)
    unit_id = fields.UUID(allow_none=True)
    job_role = fields.String(allow_none=True)


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    filters = dict(data["filters"])
    filters["date_from"], filters["date_to"] = filters.pop("from"), filters.pop("to")
    return filters


class _Report(Schema):
    figure = fields.String()
    filters = fields.Function(lambda d: FiltersSchema().dump(_filters(d)))


class MonthCountSchema(Schema):
    month = fields.String(metadata={"description": "YYYY-MM (UTC)"})
    badges = fields.Integer()
    earners = fields.Integer(metadata={"description": "Distinct earners"})


class GroupCountSchema(Schema):
    key = fields.String(
        allow_none=True, metadata={"description": "Unit, standard item or micro-credential id, job role"}
    )
    label = fields.String()
    badges = fields.Integer()
    earners = fields.Integer()


class CellSchema(GroupCountSchema):
    month = fields.String()


class TotalSchema(Schema):
    badges = fields.Integer()
    earners = fields.Integer()


class BadgesReportSchema(_Report):
    by = fields.String()
    months = fields.List(fields.Nested(MonthCountSchema))
    total = fields.Nested(TotalSchema)
    groups = fields.List(fields.Nested(GroupCountSchema))
    rows = fields.List(fields.Nested(CellSchema))


class FunnelFiguresSchema(Schema):
    started = fields.Integer()
    submitted = fields.Integer()
    decided = fields.Integer()
    passed = fields.Integer()
    not_yet = fields.Integer()
    withdrawn = fields.Integer()
    submitted_rate = fields.Float(allow_none=True)
    passed_rate = fields.Float(allow_none=True)


class CohortSchema(FunnelFiguresSchema):
    cohort = fields.String(metadata={"description": "The month the submissions were started, YYYY-MM (UTC)"})


class FunnelReportSchema(_Report):
    cohorts = fields.List(fields.Nested(CohortSchema))
    total = fields.Nested(FunnelFiguresSchema)


class EarnFiguresSchema(Schema):
    passed = fields.Integer()
    first_attempt = fields.Integer()
    first_attempt_rate = fields.Float(allow_none=True)
    median_days = fields.Float(allow_none=True)
    p90_days = fields.Float(allow_none=True)


class EarnRowSchema(EarnFiguresSchema):
    micro_credential_id = fields.UUID()
    title = fields.String()


class TimeToEarnReportSchema(_Report):
    micro_credentials = fields.List(fields.Nested(EarnRowSchema))
    total = fields.Nested(EarnFiguresSchema)


class RetentionFiguresSchema(Schema):
    earners = fields.Integer()
    attempted_second = fields.Integer()
    earned_second = fields.Integer()
    attempted_rate = fields.Float(allow_none=True)
    earned_rate = fields.Float(allow_none=True)


class RetentionCohortSchema(RetentionFiguresSchema):
    cohort = fields.String(metadata={"description": "The month of the earners' first pass, YYYY-MM (UTC)"})


class RetentionReportSchema(_Report):
    cohorts = fields.List(fields.Nested(RetentionCohortSchema))
    total = fields.Nested(RetentionFiguresSchema)


REPORT_SCHEMAS = {
    "badges": BadgesReportSchema,
    "funnel": FunnelReportSchema,
    "time-to-earn": TimeToEarnReportSchema,
    "retention": RetentionReportSchema,
}
