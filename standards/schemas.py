"""What clients may send to the standards API, and what it returns."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from core.schemas import ListArgsSchema, SearchArgsSchema, StrictSchema, Text
from standards import frameworks


class FrameworkArgsSchema(SearchArgsSchema):
    """``q`` matches title, creator, publisher or CASE identifier."""


class StandardItemSearchArgsSchema(ListArgsSchema):
    q = Text(
        validate=validate.Length(max=200),
        metadata={"description": "Words of a statement, or (part of) a code such as `6.RP.A.1`"},
    )
    framework_id = fields.UUID(metadata={"description": "Search one framework only"})
    include_obsolete = fields.Boolean(load_default=False)


class TreeArgsSchema(StrictSchema):
    include_obsolete = fields.Boolean(load_default=False)


class FrameworkImportSchema(StrictSchema):
    """The multipart/form-data body of a CASE import: the file part and two optional form fields."""

    file = Upload(required=True, metadata={"description": "A CASE CFPackage JSON file"})
    organisation_id = fields.UUID(
        metadata={"description": "The organisation that will own a new framework (org admins must name it)"}
    )
    source_note = Text(
        validate=validate.Length(max=2000),
        metadata={"description": "Where this copy comes from; shown with the framework's rights notice"},
    )


class FrameworkImportReportSchema(Schema):
    framework_id = fields.UUID()
    case_identifier = fields.String()
    title = fields.String()
    created = fields.Boolean(metadata={"description": "True for a new framework, false for a re-import"})
    unchanged = fields.Boolean(metadata={"description": "The same package was imported before: nothing changed"})
    items = fields.Integer()
    items_added = fields.Integer()
    items_updated = fields.Integer()
    items_obsoleted = fields.Integer()
    items_revived = fields.Integer()
    associations = fields.Integer()
    warnings = fields.List(fields.String())


class FrameworkSchema(Schema):
    id = fields.UUID()
    case_identifier = fields.String()
    uri = fields.String(allow_none=True)
    url = fields.Function(frameworks.public_framework_url, metadata={"description": "Our public page"})
    title = fields.String()
    creator = fields.String(allow_none=True)
    publisher = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    adoption_status = fields.String(allow_none=True)
    subject = fields.List(fields.String())
    official_source_url = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    rights = fields.String(allow_none=True)
    licence_uri = fields.String(allow_none=True)
    source_note = fields.String()
    imported_by_organisation_id = fields.UUID(allow_none=True)
    last_change = fields.DateTime(allow_none=True)
    last_imported_at = fields.DateTime(allow_none=True)
    item_count = fields.Integer()
    obsolete_item_count = fields.Integer()
    association_count = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class StandardItemRefSchema(Schema):
    """An item as a link: enough to show and follow it."""

    id = fields.UUID()
    human_coding_scheme = fields.String(allow_none=True)
    full_statement = fields.String()
    abbreviated_statement = fields.String(allow_none=True)
    item_type = fields.String(allow_none=True)
    obsolete = fields.Boolean(attribute="is_obsolete")
    url = fields.Function(frameworks.public_item_url)


class StandardItemSchema(StandardItemRefSchema):
    framework_id = fields.UUID()
    case_identifier = fields.String()
    uri = fields.String(allow_none=True)
    alignment_url = fields.Function(
        frameworks.alignment_url,
        metadata={"description": "What an Open Badges alignment should link: the item's URI or our page"},
    )
    list_enumeration = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    education_level = fields.List(fields.String())
    language = fields.String(allow_none=True)
    last_change = fields.DateTime(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    position = fields.Integer()
    depth = fields.Integer()
    obsolete_at = fields.DateTime(allow_none=True)


class FrameworkRefSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    url = fields.Function(frameworks.public_framework_url)


class StandardAssociationSchema(Schema):
    association_type = fields.String()
    direction = fields.String(metadata={"description": "`outgoing`: this item is the origin"})
    identifier = fields.String(metadata={"description": "CASE identifier of the other end"})
    uri = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    item = fields.Nested(StandardItemRefSchema, allow_none=True, metadata={"description": "The other end, if ours"})


class StandardItemDetailSchema(StandardItemSchema):
    framework = fields.Nested(FrameworkRefSchema)
    ancestors = fields.List(fields.Nested(StandardItemRefSchema))
    children = fields.List(fields.Nested(StandardItemRefSchema))
    associations = fields.List(fields.Nested(StandardAssociationSchema))


class StandardTreeNodeSchema(Schema):
    id = fields.UUID(attribute="item.id")
    human_coding_scheme = fields.String(attribute="item.human_coding_scheme", allow_none=True)
    full_statement = fields.String(attribute="item.full_statement")
    abbreviated_statement = fields.String(attribute="item.abbreviated_statement", allow_none=True)
    item_type = fields.String(attribute="item.item_type", allow_none=True)
    obsolete = fields.Boolean(attribute="item.is_obsolete")
    children = fields.List(fields.Nested(lambda: StandardTreeNodeSchema()))
