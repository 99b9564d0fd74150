"""What clients may send (``Create…``/``Update…`` schemas, unknown fields refused) and what we return."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from core.models import OrganisationKind, Role

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """True if ``text`` holds a control character (other than newlines and tabs when ``multiline``)."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


class Text(fields.String):
    """A string that is trimmed, not blank, and holds no control characters (newlines only if multiline)."""

    def __init__(self, *, multiline: bool = False, allow_blank: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiline = multiline
        self.allow_blank = allow_blank

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if has_control_characters(text, multiline=self.multiline):
            raise ValidationError("Must not contain control characters.")
        if not text and not self.allow_blank:
            raise ValidationError("Must not be blank.")
        return text


def with_extra(obj: Any, schema: type[Schema], **extra: Any) -> dict[str, Any]:
    """``obj``'s attributes that ``schema`` returns, plus values only this response carries (a secret shown
    once), for the response schema to dump; never pre-dumped, or dates would be serialised twice."""
    return {name: getattr(obj, field.attribute or name) for name, field in schema().fields.items()} | extra


class StrictSchema(Schema):
    """Refuses fields it does not declare (marshmallow's default, stated so nobody turns it off)."""

    class Meta:
        unknown = "raise"


class ListArgsSchema(StrictSchema):
    """Query arguments of a list. flask-smorest reads ``page``/``page_size`` itself; they are dropped
    here so that any other unknown argument (a typo in a filter) is still refused."""

    @pre_load
    def _drop_paging(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if key not in {"page", "page_size"}}


class SearchArgsSchema(ListArgsSchema):
    q = Text(validate=validate.Length(max=200), metadata={"description": "Case-insensitive substring"})


def password_field(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=1024), load_only=True, **kwargs)


def email_field(**kwargs: Any) -> fields.Email:
    return fields.Email(validate=validate.Length(max=254), **kwargs)


# --- auth --------------------------------------------------------------------------------------------


class TokenRequestSchema(StrictSchema):
    email = Text(required=True, validate=validate.Length(max=254))
    password = password_field(required=True)


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class RegisterSchema(StrictSchema):
    email = email_field(required=True)
    name = Text(required=True, validate=validate.Length(max=200))
    password = password_field(required=True)


class PasswordResetRequestSchema(StrictSchema):
    email = Text(required=True, validate=validate.Length(max=254))


class AcceptedSchema(Schema):
    detail = fields.String()


class PasswordResetSchema(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = password_field(required=True)


class AcceptInvitationSchema(StrictSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name = Text(validate=validate.Length(max=200))
    password = password_field()


# --- users -------------------------------------------------------------------------------------------


class MembershipSchema(Schema):
    organisation_id = fields.UUID()
    role = fields.String()


class UserSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    is_platform_admin = fields.Boolean()
    is_active = fields.Boolean()
    created_at = fields.DateTime()
    last_login_at = fields.DateTime(allow_none=True)


class MeSchema(UserSchema):
    memberships = fields.List(fields.Nested(MembershipSchema))


class UpdateMeSchema(StrictSchema):
    name = Text(validate=validate.Length(max=200))
    password = password_field()
    current_password = password_field()

    @validates_schema
    def _password_needs_current(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "password" in data and "current_password" not in data:
            raise ValidationError("Required to change the password.", "current_password")


class CreateUserSchema(StrictSchema):
    email = email_field(required=True)
    name = Text(required=True, validate=validate.Length(max=200))
    password = password_field(metadata={"description": "Omit to email the user a link to set one."})
    is_platform_admin = fields.Boolean(load_default=False)


class UpdateUserSchema(StrictSchema):
    name = Text(validate=validate.Length(max=200))
    is_active = fields.Boolean()
    is_platform_admin = fields.Boolean()


# --- organisations -----------------------------------------------------------------------------------

_slug = fields.String(validate=validate.Regexp(SLUG_RE, error="Use 1-64 lower-case letters, digits and hyphens."))
_kind = fields.String(validate=validate.OneOf([k.value for k in OrganisationKind]))


class CreateOrganisationSchema(StrictSchema):
    slug = fields.String(
        validate=_slug.validators, metadata={"description": "Web address; made from the name when left out"}
    )
    name = Text(required=True, validate=validate.Length(max=200))
    kind = fields.String(load_default=OrganisationKind.OTHER.value, validate=_kind.validators)
    url = fields.URL(schemes={"http", "https"}, validate=validate.Length(max=2048), allow_none=True)
    email = email_field(allow_none=True)
    description = Text(multiline=True, allow_blank=True, validate=validate.Length(max=5000), load_default="")
    admin_user_id = fields.UUID(metadata={"description": "First org admin (default: you)"})
    parent_id = fields.UUID(metadata={"description": "Create it as a unit of this organisation (its admins)"})


class UpdateOrganisationSchema(StrictSchema):
    slug = fields.String(validate=_slug.validators)
    name = Text(validate=validate.Length(max=200))
    kind = fields.String(validate=_kind.validators)
    url = fields.URL(schemes={"http", "https"}, validate=validate.Length(max=2048), allow_none=True)
    email = email_field(allow_none=True)
    description = Text(multiline=True, allow_blank=True, validate=validate.Length(max=5000))
    evidence_retention_days = fields.Integer(
        allow_none=True,
        validate=validate.Range(min=30, max=36500),
        metadata={"description": "days after a decision that evidence files are kept (30 or more); null: kept"},
    )


class OrganisationSchema(Schema):
    id = fields.UUID()
    slug = fields.String()
    name = fields.String()
    kind = fields.String()
    url = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    description = fields.String()
    parent_id = fields.UUID(allow_none=True, metadata={"description": "The organisation this one is a unit of"})
    evidence_retention_days = fields.Integer(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SetParentSchema(StrictSchema):
    parent_id = fields.UUID(required=True, allow_none=True, metadata={"description": "None makes it a root"})


class ChecklistStepSchema(Schema):
    key = fields.String(metadata={"description": "Stable name of the step, e.g. `issuer_profile`, `first_badge`"})
    label = fields.String()
    hint = fields.String()
    done = fields.Boolean(metadata={"description": "Judged from the organisation's data at the time of the request"})


class OrganisationArgsSchema(SearchArgsSchema):
    kind = _kind


_roles = fields.List(
    fields.String(validate=validate.OneOf([r.value for r in Role])), validate=validate.Length(max=len(Role))
)


class UserSummarySchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()


class MemberSchema(Schema):
    user = fields.Nested(UserSummarySchema)
    roles = fields.List(fields.String())
    unit_id = fields.Function(lambda m: str(m["unit"].id) if m.get("unit") else None, allow_none=True)
    unit_name = fields.Function(lambda m: m["unit"].name if m.get("unit") else None, allow_none=True)
    job_role = fields.String(allow_none=True)


class SetPlacementSchema(StrictSchema):
    unit_id = fields.UUID(
        required=True, allow_none=True, metadata={"description": "This organisation or one of its units; null: none"}
    )
    job_role = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"description": "teacher, administrator, support staff, coach, other, or the organisation's own"},
    )


class SetRolesSchema(StrictSchema):
    roles = fields.List(
        fields.String(validate=validate.OneOf([r.value for r in Role])),
        required=True,
        validate=validate.Length(max=len(Role)),
    )


class MemberArgsSchema(SearchArgsSchema):
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))


class CreateInvitationSchema(StrictSchema):
    email = email_field(required=True)
    roles = fields.List(
        fields.String(validate=validate.OneOf([r.value for r in Role])),
        required=True,
        validate=validate.Length(min=1, max=len(Role)),
    )
    unit_id = fields.UUID(allow_none=True, metadata={"description": "The unit the invitee works in"})
    job_role = fields.String(allow_none=True, validate=validate.Length(max=40))


class InvitationSchema(Schema):
    id = fields.UUID()
    organisation_id = fields.UUID()
    email = fields.String()
    roles = fields.List(fields.String())
    unit_id = fields.UUID(allow_none=True)
    job_role = fields.String(allow_none=True)
    state = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)


class CreatedInvitationSchema(InvitationSchema):
    accept_url = fields.String(metadata={"description": "Also emailed to the invitee; shown once."})


# --- API tokens --------------------------------------------------------------------------------------


class CreateApiTokenSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(max=100))
    expires_at = fields.AwareDateTime(allow_none=True, default_timezone=None)


class ApiTokenSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class CreatedApiTokenSchema(ApiTokenSchema):
    token = fields.String(metadata={"description": "The secret; shown once, store it now."})


# --- personal data -----------------------------------------------------------------------------------


class CreateErasureRequestSchema(StrictSchema):
    reason = Text(
        multiline=True,
        allow_blank=True,
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "Optional: why, in your words (removed once the erasure is carried out)"},
    )


class MyErasureRequestSchema(Schema):
    id = fields.UUID()
    state = fields.String()
    reason = fields.String()
    requested_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)


class ErasurePersonSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()


class ErasureRequestSchema(MyErasureRequestSchema):
    person = fields.Nested(ErasurePersonSchema, attribute="user")
    pseudonym = fields.String(allow_none=True)
    summary = fields.Dict(allow_none=True, metadata={"description": "What was removed, counted per kind"})


class ErasureArgsSchema(ListArgsSchema):
    state = fields.String(validate=validate.OneOf(["pending", "completed", "cancelled"]))
    organisation_id = fields.UUID(metadata={"description": "Only people this organisation holds data about"})


# --- audit -------------------------------------------------------------------------------------------


class AuditEventSchema(Schema):
    id = fields.UUID()
    occurred_at = fields.DateTime()
    actor_id = fields.UUID(allow_none=True)
    organisation_id = fields.UUID(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AuditArgsSchema(ListArgsSchema):
    action = Text(validate=validate.Length(max=100))
    object_type = Text(validate=validate.Length(max=64))
    object_id = Text(validate=validate.Length(max=64))
    actor_id = fields.UUID()
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
