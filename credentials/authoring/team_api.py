"""HTTP API for design teams: teams and members, a team's new micro-credentials, giving a micro-credential to a
team, a version's changes history, and the programme overview (JSON; the page offers CSV)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.views import MethodView

from core.auth import require_user
from core.http import api_blueprint, register, version_etag
from credentials.authoring import changes, programme, teams
from credentials.authoring import schemas as s
from credentials.authoring import team_schemas as ts

blp = api_blueprint("design-teams", __name__, "", "Design teams, the changes history of drafts, the programme page")


@blp.route("/organisations/<uuid:organisation_id>/design-teams")
class Teams(MethodView):
    @blp.response(200, ts.TeamSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's design teams, by name."""
        return teams.list_teams(actor=require_user(), organisation_id=organisation_id)

    @blp.arguments(ts.TeamInSchema)
    @blp.response(201, ts.TeamSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Create a team (org admins); members are authors of the organisation or of its units."""
        return teams.create_team(actor=require_user(), organisation_id=organisation_id, **data)


@blp.route("/design-teams/<uuid:team_id>")
class TeamItem(MethodView):
    @blp.response(200, ts.TeamSchema)
    def get(self, team_id: uuid.UUID) -> Any:
        return teams.get_team(actor=require_user(), team_id=team_id)

    @blp.arguments(ts.UpdateTeamSchema)
    @blp.response(200, ts.TeamSchema)
    def patch(self, data: dict[str, Any], team_id: uuid.UUID) -> Any:
        """Rename the team or change its description (org admins)."""
        return teams.update_team(actor=require_user(), team_id=team_id, changes=data)


@blp.route("/design-teams/<uuid:team_id>/members/<uuid:user_id>")
class TeamMember(MethodView):
    @blp.response(200, ts.TeamSchema)
    def put(self, team_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Add an author to the team (org admins); they are told by mail."""
        return teams.add_member(actor=require_user(), team_id=team_id, user_id=user_id)

    @blp.response(200, ts.TeamSchema)
    def delete(self, team_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Take someone off the team (org admins): they no longer edit its drafts."""
        return teams.remove_member(actor=require_user(), team_id=team_id, user_id=user_id)


@blp.route("/design-teams/<uuid:team_id>/micro-credentials")
class TeamCredentials(MethodView):
    @blp.arguments(ts.TeamCredentialSchema)
    @blp.response(201, s.VersionSchema)
    def post(self, data: dict[str, Any], team_id: uuid.UUID) -> Any:
        """Create a micro-credential owned by the team (its members); version 1 starts as a draft."""
        version = teams.create_team_credential(actor=require_user(), team_id=team_id, content=data)
        return version, 201, {"ETag": version_etag("credential-version", version.id, version.lock_version)}


@blp.route("/micro-credentials/<uuid:micro_credential_id>/team")
class CredentialTeam(MethodView):
    @blp.arguments(ts.SetTeamSchema)
    @blp.response(200, s.MicroCredentialSchema)
    def put(self, data: dict[str, Any], micro_credential_id: uuid.UUID) -> Any:
        """Give the micro-credential to a design team of its organisation, or to none (org admins)."""
        micro_credential = teams.set_credential_team(
            actor=require_user(), micro_credential_id=micro_credential_id, team_id=data["team_id"]
        )
        return micro_credential


@blp.route("/credential-versions/<uuid:version_id>/changes")
class Changes(MethodView):
    @blp.response(200, ts.ChangeEntrySchema(many=True))
    def get(self, version_id: uuid.UUID) -> Any:
        """Every edit and review step of the version, newest first: who, when, which fields."""
        return changes.list_changes(actor=require_user(), version_id=version_id)


@blp.route("/organisations/<uuid:organisation_id>/programme")
class ProgrammeOverview(MethodView):
    @blp.arguments(ts.ProgrammeArgsSchema, location="query")
    @blp.response(200, ts.ProgrammeSchema)
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Every design team of the organisation and its units with its micro-credentials' stages, counts and
        last activity (admins and programme leads); filter by `state` and `team`."""
        return programme.programme(
            actor=require_user(), organisation_id=organisation_id, stage=args.get("state"), team_id=args.get("team")
        )


def init_app(app: Flask) -> None:
    register(app, blp)
