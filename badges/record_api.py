"""HTTP API for CLR 2.0 transcripts and endorsements (thin: the rules are in ``badges.clr`` and
``badges.endorsements``)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from badges import clr, endorsements
from core.auth import require_user
from core.http import api_blueprint, register
from core.schemas import StrictSchema, Text

blp = api_blueprint("transcripts-endorsements", __name__, "", "CLR 2.0 transcripts and endorsements")


class TranscriptArgsSchema(StrictSchema):
    stack_id = fields.UUID(load_default=None, metadata={"description": "Only the badges of this published stack"})


class TranscriptSchema(Schema):
    id = fields.Function(lambda v: v.credential["id"].rsplit("/", 1)[-1], metadata={"description": "Record id"})
    url = fields.Function(lambda v: v.credential["id"], metadata={"description": "Stable URL of the transcript"})
    version_id = fields.UUID(attribute="id")
    member_count = fields.Integer(metadata={"description": "Badges in it"})
    issued_at = fields.DateTime()
    credential = fields.Dict(metadata={"description": "The signed ClrCredential (Data Integrity proof)"})
    jwt = fields.String(metadata={"description": "The same credential as an RS256 VC-JWT"})


@blp.route("/me/transcripts/<uuid:organisation_id>")
class MyTranscript(MethodView):
    @blp.arguments(TranscriptArgsSchema)
    @blp.response(200, TranscriptSchema)
    @blp.alt_response(404, description="No valid, public badge from this organisation (or stack) to put in it")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Your signed CLR 2.0 transcript of your badges from this organisation (signed anew only when the set of
        badges changed; the previous version is then marked revoked in the status list)."""
        actor = require_user()
        return clr.transcript(
            actor=actor, organisation_id=organisation_id, earner_id=actor.id, stack_id=data["stack_id"]
        )


@blp.route("/organisations/<uuid:organisation_id>/earners/<uuid:earner_id>/transcript")
class EarnerTranscript(MethodView):
    @blp.arguments(TranscriptArgsSchema)
    @blp.response(200, TranscriptSchema)
    @blp.alt_response(404, description="Not an admin of the organisation, or no badge to put in it")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, earner_id: uuid.UUID) -> Any:
        """One earner's signed CLR 2.0 transcript from the organisation (org admins)."""
        return clr.transcript(
            actor=require_user(), organisation_id=organisation_id, earner_id=earner_id, stack_id=data["stack_id"]
        )


class CreateEndorsementSchema(StrictSchema):
    target_kind = fields.String(required=True, validate=validate.OneOf(["achievement", "issuer"]))
    target_id = fields.UUID(
        required=True, metadata={"description": "A published micro-credential version id, or an organisation id"}
    )
    comment = Text(required=True, multiline=True, validate=validate.Length(min=1, max=endorsements.MAX_COMMENT))


class WithdrawSchema(StrictSchema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class EndorsementSchema(Schema):
    id = fields.UUID()
    url = fields.Function(lambda e: endorsements.endorsement_url(e.id))
    endorser_id = fields.UUID()
    target_kind = fields.String()
    target_id = fields.UUID()
    comment = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    credential = fields.Dict(metadata={"description": "The signed EndorsementCredential"})


@blp.route("/organisations/<uuid:organisation_id>/endorsements")
class Endorsements(MethodView):
    @blp.response(200, EndorsementSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The endorsements this organisation made, newest first (org admins)."""
        return endorsements.given(actor=require_user(), endorser_id=organisation_id)

    @blp.arguments(CreateEndorsementSchema)
    @blp.response(201, EndorsementSchema)
    @blp.alt_response(404, description="No such published micro-credential or issuer")
    @blp.alt_response(409, description="This organisation already endorses it")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Endorse another organisation's published micro-credential or its issuer profile (org admins): a signed
        EndorsementCredential, embedded in the target's Achievement or Profile and shown on its pages. An
        organisation cannot endorse itself (422)."""
        return endorsements.endorse(actor=require_user(), endorser_id=organisation_id, **data)


@blp.route("/organisations/<uuid:organisation_id>/endorsements/<uuid:endorsement_id>/withdraw")
class WithdrawEndorsement(MethodView):
    @blp.arguments(WithdrawSchema)
    @blp.response(200, EndorsementSchema)
    @blp.alt_response(409, description="Already withdrawn")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID, endorsement_id: uuid.UUID) -> Any:
        """Withdraw an endorsement with a reason (org admins): its status-list bit is set."""
        return endorsements.withdraw(
            actor=require_user(), endorser_id=organisation_id, endorsement_id=endorsement_id, reason=data["reason"]
        )


def init_app(app: Flask) -> None:
    register(app, blp)
