"""Schemas for earners' submissions: what an earner may send, and what we return."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from core.schemas import ListArgsSchema, StrictSchema
from credentials.portfolios.models import SubmissionState


class StartSubmissionSchema(StrictSchema):
    version_id = fields.UUID(required=True, metadata={"description": "A published credential version"})
    adoption_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "Start through this organisation's adoption of the version (it then reviews the "
            "submission and issues the badge); omit to submit to the version's owner"
        },
    )


class SubmissionArgsSchema(ListArgsSchema):
    state = fields.String(validate=validate.OneOf([s.value for s in SubmissionState]))


class UpdateSubmissionSchema(StrictSchema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.String(allow_none=True),
        metadata={
            "description": "Requirement key → the text (text requirements) or http(s) URL (link requirements); "
            "empty or null clears it. Drafts only."
        },
    )
    evidence_public = fields.Boolean(metadata={"description": "Show this evidence on the public badge page"})


class UploadSchema(StrictSchema):
    """The multipart/form-data body of an evidence upload."""

    requirement_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    file = fields.List(Upload(), required=True, metadata={"description": "One or more files (repeat the field)"})


class AnswerSchema(Schema):
    requirement_key = fields.String()
    text = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class EvidenceFileSchema(Schema):
    id = fields.UUID()
    requirement_key = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    filename = fields.String()
    created_at = fields.DateTime()
    metadata_status = fields.String(
        allow_none=True,
        metadata={
            "description": "What blind assessors get: `cleaned` (a copy without identifying metadata), `none_found`"
            " (nothing to remove), `unsupported` or `failed` (they get the file as it is: check it), null (not"
            " checked yet; checked when first opened)",
            "enum": ["cleaned", "none_found", "unsupported", "failed", None],
        },
    )
    metadata_removed = fields.List(fields.String(), allow_none=True)
    metadata_problem = fields.String(allow_none=True)
    identity_found = fields.List(
        fields.String(),
        allow_none=True,
        metadata={
            "description": "Where the earner's own name or e-mail appears in the file's text (PDF and .docx), e.g."
            " `your name “Elin Jones” (page 2)`: blind assessors would read it. Empty: nowhere; null: not checked"
        },
    )


class FeedbackSchema(Schema):
    criterion_key = fields.String()
    level_position = fields.Integer()
    level_name = fields.String()
    points = fields.Integer(allow_none=True)
    feedback = fields.String()


class OpeningSchema(Schema):
    occurred_at = fields.DateTime()
    who = fields.String(metadata={"description": '"an assessor", an admin by name and role, or "you"'})
    file = fields.String(metadata={"description": "The file's name"})
    copy = fields.String(metadata={"description": "The original, or the copy without hidden details"})


class SubmissionSummarySchema(Schema):
    id = fields.UUID()
    reference = fields.String()
    micro_credential_id = fields.UUID()
    version_id = fields.UUID()
    organisation_id = fields.UUID(
        metadata={"description": "The organisation that reviews it and issues the badge (an adopter, or the owner)"}
    )
    title = fields.String(attribute="version.title")
    attempt = fields.Integer()
    kind = fields.String(metadata={"description": "award, or renewal (answers the version's renewal requirements)"})
    renews_badge_id = fields.UUID(allow_none=True, metadata={"description": "The badge a renewal renews"})
    state = fields.String()
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)
    evidence_public = fields.Boolean()
    lock_version = fields.Integer()


class SubmissionSchema(SubmissionSummarySchema):
    previous_id = fields.UUID(allow_none=True)
    answers = fields.List(fields.Nested(AnswerSchema))
    files = fields.List(fields.Nested(EvidenceFileSchema))
    feedback_summary = fields.String(allow_none=True)
    feedback = fields.Method("_feedback")
    problems = fields.Method("_problems", metadata={"description": "What still stops a draft from being submitted"})

    def _feedback(self, submission: Any) -> list[dict[str, Any]]:
        # Feedback is released with the decision; nothing shows while review is under way.
        if submission.decided_at is None:
            return []
        return FeedbackSchema(many=True).dump(submission.feedback)  # type: ignore[no-any-return]

    def _problems(self, submission: Any) -> list[dict[str, str]]:
        from credentials.portfolios.services import problems

        return problems(submission) if submission.state == SubmissionState.DRAFT.value else []
