"""Schemas for shared definitions: what an owner or an adopter may send, and what we return."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.schemas import StrictSchema
from credentials.authoring.adoption_models import ShareMode, ShareScope
from credentials.authoring.schemas import VersionRefSchema


class ShareInSchema(StrictSchema):
    mode = fields.String(
        required=True,
        validate=validate.OneOf([m.value for m in ShareMode]),
        metadata={"description": "`adopt`: units adopt it and issue it themselves; `central`: the owner issues it"},
    )
    scope = fields.String(
        load_default=ShareScope.ALL.value,
        validate=validate.OneOf([s.value for s in ShareScope]),
        metadata={"description": "`all` organisations below the owner, or the `chosen` ones in `organisation_ids`"},
    )
    organisation_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=1000))

    @validates_schema
    def _chosen_need_ids(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("scope") == ShareScope.CHOSEN.value and not data.get("organisation_ids"):
            raise ValidationError("Choose at least one organisation to share with.", "organisation_ids")


class AdoptInSchema(StrictSchema):
    version_id = fields.UUID(required=True, metadata={"description": "The owner's published version to pin"})


class OrganisationRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    slug = fields.String()


class ShareSchema(Schema):
    id = fields.UUID()
    micro_credential_id = fields.UUID()
    organisation = fields.Nested(OrganisationRefSchema, metadata={"description": "The owner"})
    mode = fields.String()
    scope = fields.String()
    organisation_ids = fields.Method("_targets")
    active = fields.Boolean(attribute="is_active")
    stopped_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()

    def _targets(self, share: Any) -> list[str]:
        return [str(t.organisation_id) for t in share.targets]


class AdoptionSchema(Schema):
    id = fields.UUID()
    organisation = fields.Nested(OrganisationRefSchema, metadata={"description": "The adopter, who issues it"})
    micro_credential_id = fields.UUID()
    owner = fields.Nested(OrganisationRefSchema, attribute="micro_credential.organisation")
    version = fields.Nested(VersionRefSchema, metadata={"description": "The pinned version"})
    state = fields.String()
    adopted_at = fields.DateTime()
    upgraded_at = fields.DateTime(allow_none=True)
    withdrawn_at = fields.DateTime(allow_none=True)


class OfferSchema(Schema):
    share = fields.Nested(ShareSchema)
    version = fields.Nested(VersionRefSchema, metadata={"description": "The owner's current published version"})
    adoption = fields.Nested(AdoptionSchema, allow_none=True, metadata={"description": "Yours, when adopted"})
    newer_available = fields.Boolean()


class AdopterSchema(Schema):
    adoption = fields.Nested(AdoptionSchema)
    current = fields.Boolean(metadata={"description": "Pinned to the owner's current published version"})


class SharedCredentialSchema(Schema):
    share = fields.Nested(ShareSchema)
    version = fields.Nested(VersionRefSchema, allow_none=True)
    adoptions = fields.List(fields.Nested(AdopterSchema))
