"""Schemas of the design team API: teams and their members, the changes history, the programme page."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from core.schemas import StrictSchema, Text
from credentials.authoring.programme import STAGES
from credentials.authoring.schemas import VersionContentSchema
from credentials.authoring.teams import NAME_MAX


class TeamInSchema(StrictSchema):
    name = Text(required=True, validate=validate.Length(max=NAME_MAX))
    description = Text(multiline=True, allow_blank=True, load_default="", validate=validate.Length(max=5000))
    member_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=200))


class UpdateTeamSchema(StrictSchema):
    name = Text(validate=validate.Length(max=NAME_MAX))
    description = Text(multiline=True, allow_blank=True, validate=validate.Length(max=5000))


class TeamMemberSchema(Schema):
    user_id = fields.UUID()
    name = fields.Function(lambda m: m.user.name)
    added_at = fields.DateTime()
    unit = fields.Method("_unit")
    job_role = fields.Method("_job_role")

    def _placement(self, row: Any) -> Any:
        return next(
            (m for m in row.user.memberships if m.organisation_id == row.team.organisation_id and m.unit_id), None
        ) or next((m for m in row.user.memberships if m.job_role), None)

    def _unit(self, row: Any) -> str | None:
        placed = self._placement(row)
        return placed.unit.name if placed is not None and placed.unit is not None else None

    def _job_role(self, row: Any) -> str | None:
        placed = self._placement(row)
        return placed.job_role if placed is not None else None


class TeamSchema(Schema):
    id = fields.UUID()
    organisation_id = fields.UUID()
    name = fields.String()
    description = fields.String()
    members = fields.List(fields.Nested(TeamMemberSchema))
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TeamCredentialSchema(VersionContentSchema):
    """The content of the new micro-credential's first version (as for any new micro-credential)."""


class SetTeamSchema(StrictSchema):
    team_id = fields.UUID(required=True, allow_none=True, metadata={"description": "null: no team"})


class ChangeEntrySchema(Schema):
    at = fields.DateTime()
    actor = fields.String(allow_none=True)
    actor_id = fields.UUID(allow_none=True)
    action = fields.String()
    label = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields")
    state = fields.String(allow_none=True)
    approval_voided = fields.Boolean()


class ProgrammeArgsSchema(StrictSchema):
    state = fields.String(validate=validate.OneOf(STAGES))
    team = fields.UUID()


class ProgrammeVersionSchema(Schema):
    id = fields.UUID()
    micro_credential_id = fields.UUID()
    number = fields.Integer()
    title = fields.String()
    stage = fields.String()
    updated_at = fields.DateTime()


class ProgrammeTeamSchema(Schema):
    organisation_id = fields.Function(lambda r: str(r.organisation.id))
    organisation_name = fields.Function(lambda r: r.organisation.name)
    team_id = fields.Function(lambda r: str(r.team.id) if r.team else None)
    team_name = fields.Function(lambda r: r.team.name if r.team else None)
    member_count = fields.Function(lambda r: len(r.team.members) if r.team else None)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    last_activity = fields.DateTime(allow_none=True)
    micro_credentials = fields.List(fields.Nested(ProgrammeVersionSchema), attribute="versions")


class ProgrammeSchema(Schema):
    organisation_id = fields.Function(lambda p: str(p.organisation.id))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    teams = fields.List(fields.Nested(ProgrammeTeamSchema))
