"""Schemas for review: what assessors, admins and earners send, and what they get back (never the earner's
identity in anything an assessor receives)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from marshmallow import ValidationError as MarshmallowValidationError

from assessors.models import BreachAction
from core.db import MAX_PAGE
from core.errors import ValidationFailed
from core.schemas import StrictSchema, Text

_feedback = {"multiline": True, "allow_blank": True, "validate": validate.Length(max=10_000)}


# --- what clients send -------------------------------------------------------------------------------


class QueueArgsSchema(StrictSchema):
    micro_credential_id = fields.UUID()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ClaimSchema(StrictSchema):
    micro_credential_id = fields.UUID(allow_none=True, load_default=None)


class ScoreInSchema(StrictSchema):
    criterion_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # A level's position in the criterion (0 is the lowest); null clears a saved score.
    level = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=0, max=100))
    feedback = Text(**_feedback)


class SaveScoresSchema(StrictSchema):
    scores = fields.List(fields.Nested(ScoreInSchema), load_default=list, validate=validate.Length(max=200))
    summary = Text(**_feedback)


class QualifySchema(StrictSchema):
    micro_credential_id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    is_lead = fields.Boolean(load_default=False)


class SettingsInSchema(StrictSchema):
    turnaround_hours = fields.Integer(validate=validate.Range(min=1, max=24 * 365))
    double_share = fields.Float(validate=validate.Range(min=0, max=1))
    double_first_n = fields.Integer(validate=validate.Range(min=0, max=10_000))
    calibration_threshold = fields.Float(validate=validate.Range(min=0, max=1))
    recalibration_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=3650))
    conflict_by_unit = fields.Boolean()
    conflict_by_parent = fields.Boolean()
    turnaround_business_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=365))
    reminder_business_days = fields.Integer(validate=validate.Range(min=0, max=60))
    breach_action = fields.String(validate=validate.OneOf([a.value for a in BreachAction]))


def load_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings page's values through the API's schema: a 422 naming the refused fields."""
    try:
        return SettingsInSchema().load(values)
    except MarshmallowValidationError as exc:
        raise ValidationFailed(f"Not saved: check {', '.join(sorted(exc.messages))}.") from None


class NonWorkingDayInSchema(StrictSchema):
    day = fields.Date(required=True)
    label = Text(load_default="", validate=validate.Length(max=100))


class AnchorInSchema(StrictSchema):
    submission_id = fields.UUID(required=True)
    agreed_levels = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        values=fields.Integer(validate=validate.Range(min=0, max=100)),
        required=True,
        validate=validate.Length(min=1, max=200),
    )
    rationale = Text(**_feedback)


class CalibrateSchema(StrictSchema):
    # anchor id → {criterion key → level position}
    levels = fields.Dict(
        keys=fields.String(validate=validate.Length(max=64)),
        values=fields.Dict(
            keys=fields.String(validate=validate.Length(max=64)),
            values=fields.Integer(validate=validate.Range(min=0, max=100)),
        ),
        required=True,
        validate=validate.Length(max=200),
    )


class AppealSchema(StrictSchema):
    reason = Text(required=True, multiline=True, validate=validate.Length(min=1, max=5000))


class ReportArgsSchema(StrictSchema):
    since = fields.AwareDateTime(default_timezone=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class TrendArgsSchema(StrictSchema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=36))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


# --- what we return ----------------------------------------------------------------------------------


class TaskSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    slot = fields.Integer()
    state = fields.String()
    micro_credential_id = fields.UUID()
    version_id = fields.UUID()
    queued_at = fields.DateTime()
    claimed_at = fields.DateTime()
    lease_expires_at = fields.DateTime()
    due_at = fields.DateTime()


class QueueItemSchema(Schema):
    task = fields.Nested(TaskSchema)
    reference = fields.String()
    kind = fields.String(metadata={"description": "award, or renewal (scored against the renewal rubric)"})
    age_hours = fields.Float()
    turnaround_hours = fields.Integer()
    overdue = fields.Boolean()
    claimed = fields.Boolean()
    due_at = fields.DateTime(allow_none=True)


class QueueSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema))
    total = fields.Integer()
    open = fields.Integer()
    claimed = fields.Integer()
    overdue = fields.Integer()
    oldest_age_hours = fields.Float(allow_none=True)


class ScoreSchema(Schema):
    criterion_key = fields.String()
    level = fields.Integer(attribute="level_position")
    feedback = fields.String()


class ReviewSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    state = fields.String()
    summary = fields.String()
    decision = fields.String(allow_none=True)
    total_points = fields.Integer(allow_none=True)
    scores = fields.List(fields.Nested(ScoreSchema))
    submitted_at = fields.DateTime(allow_none=True)


class BlindFileSchema(Schema):
    id = fields.UUID()
    requirement_key = fields.String()
    label = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class BlindSubmissionSchema(Schema):
    reference = fields.String()
    attempt = fields.Integer()
    kind = fields.String(metadata={"description": "award, or renewal: requirements and rubric are the renewal set"})
    submitted_at = fields.DateTime()
    version = fields.Dict()
    requirements = fields.List(fields.Dict())
    answers = fields.List(fields.Dict())
    files = fields.List(fields.Nested(BlindFileSchema))
    rubric = fields.List(fields.Dict())
    passing_level = fields.String(allow_none=True)
    passing_points = fields.Integer(allow_none=True)


class TaskViewSchema(Schema):
    task = fields.Nested(TaskSchema)
    submission = fields.Nested(BlindSubmissionSchema)
    review = fields.Nested(ReviewSchema, allow_none=True)
    # For adjudication: the two independent reviews (reviewers are not named).
    others = fields.List(fields.Nested(ReviewSchema))
    appeal_reason = fields.String(allow_none=True)


class QualificationSchema(Schema):
    id = fields.UUID()
    micro_credential_id = fields.UUID()
    user_id = fields.UUID()
    is_lead = fields.Boolean()
    created_at = fields.DateTime()


class SettingsSchema(Schema):
    turnaround_hours = fields.Integer()
    double_share = fields.Float()
    double_first_n = fields.Integer()
    calibration_threshold = fields.Float()
    recalibration_days = fields.Integer(allow_none=True)
    conflict_by_unit = fields.Boolean()
    conflict_by_parent = fields.Boolean()
    turnaround_business_days = fields.Integer(allow_none=True)
    reminder_business_days = fields.Integer()
    breach_action = fields.String()


class NonWorkingDaySchema(Schema):
    id = fields.UUID()
    day = fields.Date()
    label = fields.String()


class OverdueItemSchema(Schema):
    task = fields.Nested(TaskSchema)
    reference = fields.String()
    holder = fields.String(allow_none=True)
    overdue_hours = fields.Float()


class AnchorSchema(Schema):
    id = fields.UUID()
    micro_credential_id = fields.UUID()
    submission_id = fields.UUID()
    agreed_levels = fields.Dict()
    rationale = fields.String()
    created_at = fields.DateTime()


class CalibrationAnchorViewSchema(Schema):
    anchor_id = fields.UUID()
    submission = fields.Nested(BlindSubmissionSchema)


class CalibrationStatusSchema(Schema):
    required = fields.Boolean()
    current = fields.Boolean()
    lapsed = fields.Boolean()
    last_passed_at = fields.DateTime(allow_none=True)


class CalibrationSetSchema(Schema):
    micro_credential_id = fields.UUID()
    threshold = fields.Float()
    status = fields.Nested(CalibrationStatusSchema)
    anchors = fields.List(fields.Nested(CalibrationAnchorViewSchema))


class CalibrationAttemptSchema(Schema):
    id = fields.UUID()
    agreement = fields.Float()
    threshold = fields.Float()
    passed = fields.Boolean()
    divergences = fields.List(fields.Dict())
    completed_at = fields.DateTime()


class AppealOutSchema(Schema):
    id = fields.UUID()
    submission_id = fields.UUID()
    reason = fields.String()
    outcome = fields.String(allow_none=True)
    created_at = fields.DateTime()


class AgreementSchema(Schema):
    pairs = fields.Integer()
    exact = fields.Float(allow_none=True)
    adjacent = fields.Float(allow_none=True)
    kappa_quadratic = fields.Float(allow_none=True)
    kappa_meaning = fields.String(
        allow_none=True, metadata={"description": "the kappa in Landis and Koch's words, e.g. substantial"}
    )


class CalibrationSummarySchema(Schema):
    attempts = fields.Integer()
    passed = fields.Integer()
    mean_agreement = fields.Float(allow_none=True)


class CredentialReportSchema(Schema):
    micro_credential_id = fields.UUID()
    title = fields.String()
    received = fields.Integer()
    decided = fields.Integer()
    passed = fields.Integer()
    pass_rate = fields.Float(allow_none=True)
    turnaround_median_hours = fields.Float(allow_none=True)
    turnaround_p90_hours = fields.Float(allow_none=True)
    breached = fields.Integer()
    breach_rate = fields.Float(allow_none=True)
    queue_open = fields.Integer()
    queue_oldest_hours = fields.Float(allow_none=True)
    agreement = fields.Nested(AgreementSchema)
    calibration = fields.Nested(CalibrationSummarySchema)


class AssessorReportSchema(Schema):
    assessor_id = fields.UUID()
    name = fields.String()
    reviews = fields.Integer()
    pass_rate = fields.Float(allow_none=True)
    turnaround_median_hours = fields.Float(allow_none=True)
    turnaround_p90_hours = fields.Float(allow_none=True)
    agreement = fields.Nested(AgreementSchema)
    calibration = fields.Nested(CalibrationSummarySchema)


class TrendRowSchema(Schema):
    month = fields.String(metadata={"description": "calendar month in UTC, YYYY-MM"})
    decided = fields.Integer()
    passed = fields.Integer()
    pass_rate = fields.Float(allow_none=True)
    turnaround_median_hours = fields.Float(allow_none=True)
