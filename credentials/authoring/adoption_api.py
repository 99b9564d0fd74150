"""HTTP API for shared definitions: sharing a micro-credential with units, adopting, upgrading, withdrawing."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.views import MethodView

from core.auth import require_user
from core.errors import NotFound
from core.http import api_blueprint, register
from credentials.authoring import adoption
from credentials.authoring import adoption_schemas as s

blp = api_blueprint(
    "shared-definitions", __name__, "", "Shared definitions: micro-credentials shared with units and adopted by them"
)


@blp.route("/micro-credentials/<uuid:micro_credential_id>/sharing")
class Sharing(MethodView):
    @blp.response(200, s.ShareSchema)
    def get(self, micro_credential_id: uuid.UUID) -> Any:
        """How the micro-credential is shared with the owner's units (its org admins)."""
        share = adoption.get_sharing(actor=require_user(), micro_credential_id=micro_credential_id)
        if share is None:
            raise NotFound("This micro-credential is not shared.")
        return share

    @blp.arguments(s.ShareInSchema)
    @blp.response(200, s.ShareSchema)
    @blp.alt_response(409, description="Not published, no units, or adopted units block central issuing")
    def put(self, data: dict[str, Any], micro_credential_id: uuid.UUID) -> Any:
        """Share a published micro-credential with all or chosen units, to adopt or issued centrally."""
        return adoption.share(actor=require_user(), micro_credential_id=micro_credential_id, **data)

    @blp.response(200, s.ShareSchema)
    def delete(self, micro_credential_id: uuid.UUID) -> Any:
        """Stop sharing: no new adoptions; units that adopted it keep their pinned version."""
        return adoption.stop_sharing(actor=require_user(), micro_credential_id=micro_credential_id)


@blp.route("/organisations/<uuid:organisation_id>/shared-credentials")
class SharedCredentials(MethodView):
    @blp.response(200, s.SharedCredentialSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """What the organisation shares, and which units adopted which version."""
        return adoption.sharing_report(actor=require_user(), organisation_id=organisation_id)


@blp.route("/organisations/<uuid:organisation_id>/offered-credentials")
class OfferedCredentials(MethodView):
    @blp.response(200, s.OfferSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """What the organisations above this one share with it, with its adoption of each."""
        return adoption.offered_to(actor=require_user(), organisation_id=organisation_id)


@blp.route("/organisations/<uuid:organisation_id>/adoptions")
class Adoptions(MethodView):
    @blp.response(200, s.AdoptionSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's adoptions, active first."""
        return adoption.list_adoptions(actor=require_user(), organisation_id=organisation_id)

    @blp.arguments(s.AdoptInSchema)
    @blp.response(201, s.AdoptionSchema)
    @blp.alt_response(409, description="Already adopted, issued centrally, or the version is not published")
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Adopt a shared micro-credential, pinned to the owner's published version (org admins)."""
        return adoption.adopt(actor=require_user(), organisation_id=organisation_id, **data), 201


@blp.route("/adoptions/<uuid:adoption_id>")
class AdoptionItem(MethodView):
    @blp.response(200, s.AdoptionSchema)
    def get(self, adoption_id: uuid.UUID) -> Any:
        return adoption.get_adoption(actor=require_user(), adoption_id=adoption_id)


@blp.route("/adoptions/<uuid:adoption_id>/upgrade")
class UpgradeAdoption(MethodView):
    @blp.response(200, s.AdoptionSchema)
    @blp.alt_response(409, description="Already on the newest version, withdrawn, or no longer shared")
    def post(self, adoption_id: uuid.UUID) -> Any:
        """Pin the owner's current published version; submissions already started keep theirs."""
        return adoption.upgrade(actor=require_user(), adoption_id=adoption_id)


@blp.route("/adoptions/<uuid:adoption_id>/withdraw")
class WithdrawAdoption(MethodView):
    @blp.response(200, s.AdoptionSchema)
    @blp.alt_response(409, description="Already withdrawn")
    def post(self, adoption_id: uuid.UUID) -> Any:
        """No new submissions through this adoption; badges already issued stay valid."""
        return adoption.withdraw(actor=require_user(), adoption_id=adoption_id)


def init_app(app: Flask) -> None:
    register(app, blp)
