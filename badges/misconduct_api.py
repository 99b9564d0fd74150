"""The misconduct API: record a decision against a badge, appeal it (the earner), rule on the appeal (another
admin), and list an organisation's cases. The rules are in ``badges.misconduct``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from badges import misconduct
from core.auth import require_user
from core.http import api_blueprint, register
from core.schemas import StrictSchema

blp = api_blueprint("misconduct-cases", __name__, "", "Misconduct: a decision against a badge, the appeal, the outcome")


class MisconductCaseSchema(Schema):
    id = fields.UUID()
    badge_id = fields.UUID()
    organisation_id = fields.UUID()
    state = fields.String(metadata={"description": "open, appealed, overturned or revoked"})
    finding = fields.String()
    policy = fields.String(allow_none=True)
    decided_by_id = fields.UUID(allow_none=True)
    decided_at = fields.DateTime()
    appeal_by = fields.DateTime(metadata={"description": "The last moment the earner may appeal"})
    appeal_statement = fields.String(allow_none=True)
    appealed_at = fields.DateTime(allow_none=True)
    outcome_by_id = fields.UUID(allow_none=True)
    outcome_at = fields.DateTime(allow_none=True)
    outcome_reason = fields.String(allow_none=True)


class MisconductDecisionSchema(StrictSchema):
    finding = fields.String(
        required=True,
        validate=validate.Length(max=misconduct.MAX_FINDING),
        metadata={"description": "What was found and on what evidence (the earner reads it; the public does not)"},
    )
    policy = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=misconduct.MAX_POLICY),
        metadata={"description": "The policy or rule the decision rests on"},
    )


class MisconductAppealSchema(StrictSchema):
    statement = fields.String(required=True, validate=validate.Length(max=misconduct.MAX_STATEMENT))


class MisconductRulingSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(misconduct.OUTCOMES))
    reason = fields.String(required=True, validate=validate.Length(max=misconduct.MAX_STATEMENT))


class MisconductListArgsSchema(StrictSchema):
    state = fields.String(validate=validate.OneOf(["open", "appealed", "overturned", "revoked"]))


@blp.route("/badges/<uuid:badge_id>/misconduct")
class Decide(MethodView):
    @blp.arguments(MisconductDecisionSchema)
    @blp.response(201, MisconductCaseSchema)
    @blp.alt_response(409, description="The badge is revoked, or a decision about it is already open")
    def post(self, data: dict[str, Any], badge_id: uuid.UUID) -> Any:
        """Record a misconduct decision (org admins): the badge is suspended at once and its earner mailed the
        finding and the deadline to appeal; without an appeal it is revoked when the deadline passes."""
        return misconduct.decide(actor=require_user(), badge_id=badge_id, **data)


@blp.route("/organisations/<uuid:organisation_id>/misconduct-cases")
class Cases(MethodView):
    @blp.arguments(MisconductListArgsSchema, location="query")
    @blp.response(200, MisconductCaseSchema(many=True))
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """The organisation's misconduct cases, appeals waiting for a ruling first (org admins)."""
        return misconduct.list_cases(actor=require_user(), organisation_id=organisation_id, state=args.get("state"))


@blp.route("/misconduct-cases/<uuid:case_id>")
class Case(MethodView):
    @blp.response(200, MisconductCaseSchema)
    def get(self, case_id: uuid.UUID) -> Any:
        """One case, for the badge's earner or the organisation's admins."""
        return misconduct.get_case(actor=require_user(), case_id=case_id)


@blp.route("/misconduct-cases/<uuid:case_id>/appeal")
class Appeal(MethodView):
    @blp.arguments(MisconductAppealSchema)
    @blp.response(200, MisconductCaseSchema)
    @blp.alt_response(409, description="Already appealed, decided, or past the deadline")
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Appeal the decision (the badge's earner, once, before `appeal_by`)."""
        return misconduct.appeal(actor=require_user(), case_id=case_id, statement=data["statement"])


@blp.route("/misconduct-cases/<uuid:case_id>/ruling")
class Ruling(MethodView):
    @blp.arguments(MisconductRulingSchema)
    @blp.response(200, MisconductCaseSchema)
    @blp.alt_response(409, description="No appeal waiting, or you made the decision")
    def post(self, data: dict[str, Any], case_id: uuid.UUID) -> Any:
        """Rule on an appeal (an org admin, or an admin of an organisation above, who did not make the decision):
        `uphold` revokes the badge, `overturn` lifts its suspension."""
        return misconduct.rule(actor=require_user(), case_id=case_id, **data)


def init_app(app: Flask) -> None:
    register(app, blp)
