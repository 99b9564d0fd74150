"""Schemas for authoring: the content document clients send, and what we return."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.schemas import ListArgsSchema, SearchArgsSchema, StrictSchema, Text
from credentials.authoring.models import ACHIEVEMENT_TYPES, FILE_TYPES, EvidenceKind

KEY_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_key = validate.Regexp(KEY_RE, error="Use 1-64 lower-case letters, digits and hyphens.")
_url = {"schemes": {"http", "https"}, "validate": validate.Length(max=2048)}


def _achievement_type(value: str) -> None:
    if value not in ACHIEVEMENT_TYPES and not re.fullmatch(r"ext:[A-Za-z0-9_-]{1,60}", value):
        raise ValidationError("Use an Open Badges achievementType (e.g. MicroCredential) or ext:Name.")


def _nonneg(maximum: int = 1_000_000) -> validate.Range:
    return validate.Range(min=0, max=maximum)


class MethodComponentSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(max=200))
    description = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=5000))


class CitationSchema(StrictSchema):
    citation = Text(required=True, multiline=True, validate=validate.Length(max=2000))
    url = fields.URL(allow_none=True, **_url)


class ResourceSchema(StrictSchema):
    title = Text(required=True, validate=validate.Length(max=200))
    url = fields.URL(required=True, **_url)
    description = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=2000))


class RequirementInSchema(StrictSchema):
    key = fields.String(required=True, validate=_key)
    title = Text(required=True, validate=validate.Length(max=200))
    prompt = Text(required=True, multiline=True, validate=validate.Length(max=10000))
    evidence_kind = fields.String(required=True, validate=validate.OneOf([k.value for k in EvidenceKind]))
    required = fields.Boolean(load_default=True)
    min_words = fields.Integer(allow_none=True, validate=_nonneg(100_000))
    max_words = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))
    allowed_file_types = fields.List(
        fields.String(validate=validate.OneOf(sorted(FILE_TYPES))),
        validate=validate.Length(max=len(FILE_TYPES)),
    )
    min_files = fields.Integer(allow_none=True, validate=_nonneg(100))
    max_files = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data["evidence_kind"]
        if kind != EvidenceKind.TEXT and (data.get("min_words") is not None or data.get("max_words") is not None):
            raise ValidationError("Word limits apply to text evidence only.", "min_words")
        if kind != EvidenceKind.FILE and (
            data.get("allowed_file_types") or data.get("min_files") is not None or data.get("max_files") is not None
        ):
            raise ValidationError("File settings apply to file evidence only.", "allowed_file_types")
        if kind == EvidenceKind.FILE and not data.get("allowed_file_types"):
            raise ValidationError("Name at least one allowed file type.", "allowed_file_types")
        for low, high in (("min_words", "max_words"), ("min_files", "max_files")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ValidationError(f"Must not exceed {high}.", low)


class LevelInSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(max=100))
    descriptor = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=5000))
    points = fields.Integer(load_default=0, validate=_nonneg(1000))


class CriterionInSchema(StrictSchema):
    key = fields.String(required=True, validate=_key)
    name = Text(required=True, validate=validate.Length(max=200))
    description = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=5000))
    requirements = fields.List(fields.String(validate=_key), load_default=list, validate=validate.Length(max=50))
    levels = fields.List(
        fields.Nested(LevelInSchema),
        required=True,
        validate=validate.Length(min=2, max=10, error="A criterion needs between {min} and {max} levels."),
    )

    @validates_schema
    def _unique_level_names(self, data: dict[str, Any], **kwargs: Any) -> None:
        names = [level["name"].lower() for level in data.get("levels", [])]
        if len(names) != len(set(names)):
            raise ValidationError("Level names must differ within a criterion.", "levels")


class PassingRuleSchema(StrictSchema):
    level = Text(
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "Every criterion must be scored at or above the level of this name."},
    )
    points = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={"description": "The total of the criteria's points must reach this."},
    )

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("level") is None and data.get("points") is None:
            raise ValidationError("Give a level, a points threshold, or both.", "level")


class RenewalInSchema(StrictSchema):
    """Renewal: badges are valid for ``every_months`` and are renewed by evidence against this lighter set."""

    every_months = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=240),
        metadata={"description": "Badges of this version are valid this many months (validUntil) and then renewed."},
    )
    requirements = fields.List(fields.Nested(RequirementInSchema), load_default=list, validate=validate.Length(max=30))
    rubric = fields.List(fields.Nested(CriterionInSchema), load_default=list, validate=validate.Length(max=30))
    passing_rule = fields.Nested(PassingRuleSchema, allow_none=True, load_default=None)


class VersionContentSchema(StrictSchema):
    """The content of a draft. On update every field is optional and replaces the stored one whole."""

    title = Text(required=True, validate=validate.Length(max=200))
    short_description = Text(allow_blank=True, validate=validate.Length(max=500))
    competency_statement = Text(multiline=True, allow_blank=True, validate=validate.Length(max=5000))
    key_method = Text(multiline=True, allow_blank=True, validate=validate.Length(max=10000))
    method_components = fields.List(fields.Nested(MethodComponentSchema), validate=validate.Length(max=30))
    supporting_research = fields.List(fields.Nested(CitationSchema), validate=validate.Length(max=50))
    resources = fields.List(fields.Nested(ResourceSchema), validate=validate.Length(max=50))
    tags = fields.List(Text(validate=validate.Length(max=50)), validate=validate.Length(max=20))
    achievement_type = fields.String(validate=_achievement_type)
    estimated_hours = fields.Float(allow_none=True, validate=validate.Range(min=0, max=10_000))
    credits = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1000))
    validity_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=36500))
    max_attempts = fields.Integer(validate=validate.Range(min=1, max=20))
    passing_rule = fields.Nested(PassingRuleSchema, allow_none=True)
    requirements = fields.List(fields.Nested(RequirementInSchema), validate=validate.Length(max=30))
    rubric = fields.List(fields.Nested(CriterionInSchema), validate=validate.Length(max=30))
    renewal = fields.Nested(
        RenewalInSchema,
        allow_none=True,
        metadata={"description": "Null: badges of this version need no renewal."},
    )
    alignments = fields.List(
        fields.UUID(),
        validate=validate.Length(max=50),
        metadata={"description": "Ids of standard items (see /api/v1/standards)."},
    )


class UpdateVersionSchema(VersionContentSchema):
    title = Text(validate=validate.Length(max=200))


class CommentInSchema(StrictSchema):
    body = Text(required=True, multiline=True, validate=validate.Length(max=10000))


class OptionalCommentSchema(StrictSchema):
    comment = Text(multiline=True, validate=validate.Length(max=10000))


class RequiredCommentSchema(StrictSchema):
    comment = Text(required=True, multiline=True, validate=validate.Length(max=10000))


class RetireSchema(StrictSchema):
    reason = Text(required=True, validate=validate.Length(max=500))


# --- output ------------------------------------------------------------------------------------------


class RequirementSchema(Schema):
    id = fields.UUID()
    key = fields.String()
    title = fields.String()
    prompt = fields.String()
    evidence_kind = fields.String()
    required = fields.Boolean()
    min_words = fields.Integer(allow_none=True)
    max_words = fields.Integer(allow_none=True)
    allowed_file_types = fields.List(fields.String())
    min_files = fields.Integer(allow_none=True)
    max_files = fields.Integer(allow_none=True)


class LevelSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    descriptor = fields.String()
    points = fields.Integer()


class CriterionSchema(Schema):
    id = fields.UUID()
    key = fields.String()
    name = fields.String()
    description = fields.String()
    requirements = fields.List(fields.String(), attribute="requirement_keys")
    levels = fields.List(fields.Nested(LevelSchema))


class AlignedItemSchema(Schema):
    id = fields.UUID()
    framework_id = fields.UUID()
    framework_title = fields.String()
    code = fields.String(allow_none=True)
    statement = fields.String()
    url = fields.String()


class VersionSummarySchema(Schema):
    id = fields.UUID()
    micro_credential_id = fields.UUID()
    organisation_id = fields.UUID()
    number = fields.Integer()
    state = fields.String()
    title = fields.String()
    short_description = fields.String()
    tags = fields.List(fields.String())
    achievement_type = fields.String()
    estimated_hours = fields.Float(allow_none=True)
    credits = fields.Float(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class VersionSchema(VersionSummarySchema):
    competency_statement = fields.String()
    key_method = fields.String()
    method_components = fields.List(fields.Dict())
    supporting_research = fields.List(fields.Dict())
    resources = fields.List(fields.Dict())
    validity_days = fields.Integer(allow_none=True)
    max_attempts = fields.Integer()
    passing_rule = fields.Method("_passing_rule")
    requirements = fields.List(fields.Nested(RequirementSchema))
    rubric = fields.List(fields.Nested(CriterionSchema), attribute="criteria")
    renewal = fields.Method("_renewal", metadata={"description": "Null: no renewal."})
    alignments = fields.Method("_alignments")
    has_custom_image = fields.Method("_has_image")
    review_requested_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    changes_requested_at = fields.DateTime(allow_none=True)
    stage = fields.String(
        metadata={"description": "The state as people see it: a draft sent back by review reads changes_requested"}
    )
    team_id = fields.Function(
        lambda v: str(v.micro_credential.team_id) if v.micro_credential.team_id else None,
        metadata={"description": "The design team that owns and drafts it; null: the organisation's authors"},
    )
    retired_at = fields.DateTime(allow_none=True)
    retired_reason = fields.String(allow_none=True)
    lock_version = fields.Integer()

    def _passing_rule(self, version: Any) -> dict[str, Any] | None:
        if version.passing_level is None and version.passing_points is None:
            return None
        return {"level": version.passing_level, "points": version.passing_points}

    def _renewal(self, version: Any) -> dict[str, Any] | None:
        if version.renewal_months is None:
            return None
        passing = None
        if version.renewal_passing_level is not None or version.renewal_passing_points is not None:
            passing = {"level": version.renewal_passing_level, "points": version.renewal_passing_points}
        return {
            "every_months": version.renewal_months,
            "requirements": RequirementSchema(many=True).dump(version.renewal_requirements),
            "rubric": CriterionSchema(many=True).dump(version.renewal_criteria),
            "passing_rule": passing,
        }

    def _alignments(self, version: Any) -> list[dict[str, Any]]:
        from credentials.authoring.catalogue import aligned_items

        return AlignedItemSchema(many=True).dump(aligned_items(version))

    def _has_image(self, version: Any) -> bool:
        return version.image_id is not None


class VersionRefSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    state = fields.String()
    title = fields.String()
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class MicroCredentialSchema(Schema):
    id = fields.UUID()
    organisation_id = fields.UUID()
    team_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    versions = fields.List(fields.Nested(VersionRefSchema))


class CommentSchema(Schema):
    id = fields.UUID()
    version_id = fields.UUID()
    author_id = fields.UUID(allow_none=True)
    author_name = fields.Function(lambda c: c.author.name if c.author else None)
    kind = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class ChangeSchema(Schema):
    path = fields.String(metadata={"description": "Dotted path, e.g. rubric.planning.levels"})
    change = fields.String(metadata={"description": "added, removed or changed"})
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class DiffSchema(Schema):
    from_version = fields.UUID()
    to_version = fields.UUID()
    changes = fields.List(fields.Nested(ChangeSchema))


class CatalogueArgsSchema(SearchArgsSchema):
    tag = fields.String(validate=validate.Length(max=50))
    standard = fields.UUID(metadata={"description": "A standard item id: credentials aligned to it"})
    framework = fields.UUID(metadata={"description": "A framework id: credentials aligned to any of its items"})
    organisation = fields.UUID()


class OrgCredentialArgsSchema(SearchArgsSchema):
    state = fields.String(validate=validate.OneOf(["draft", "in_review", "approved", "published", "retired"]))


class DiffArgsSchema(StrictSchema):
    against = fields.UUID(required=True, metadata={"description": "The other version (of the same credential)"})


# --- stacks ------------------------------------------------------------------------------------------


class StackInSchema(StrictSchema):
    title = Text(required=True, validate=validate.Length(max=200))
    description = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=5000))
    micro_credentials = fields.List(fields.UUID(), required=True, validate=validate.Length(min=2, max=50))
    required_count = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "How many of the micro-credentials earn the stack; omit or null for all of them."},
    )
    validity_days = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=36500))

    @validates_schema
    def _count_fits(self, data: dict[str, Any], **kwargs: Any) -> None:
        # On update the members may be left out; the service then checks the count against the stored ones.
        count, members = data.get("required_count"), data.get("micro_credentials")
        if members is None:
            return
        if count is not None and count > len(members):
            raise ValidationError("Cannot exceed the number of micro-credentials in the stack.", "required_count")
        if len(set(members)) != len(members):
            raise ValidationError("Each micro-credential may appear once.", "micro_credentials")


class UpdateStackSchema(StackInSchema):
    title = Text(validate=validate.Length(max=200))
    micro_credentials = fields.List(fields.UUID(), validate=validate.Length(min=2, max=50))


class StackSchema(Schema):
    id = fields.UUID()
    organisation_id = fields.UUID()
    title = fields.String()
    description = fields.String()
    state = fields.String()
    required_count = fields.Integer(allow_none=True)
    validity_days = fields.Integer(allow_none=True)
    micro_credentials = fields.Function(lambda s: [str(m.micro_credential_id) for m in s.members])
    published_at = fields.DateTime(allow_none=True)
    lock_version = fields.Integer()


__all__ = ["ListArgsSchema"]
