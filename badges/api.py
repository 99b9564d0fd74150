"""HTTP API for issuing: my badges, revoking, suspending and renewing, signing keys, bulk import of past awards."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, current_app
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from badges import consent, imports, issuers, issuing, presentation, renewal, revocation
from core.auth import require_user
from core.authz import authorize
from core.http import accepts, api_blueprint, register, set_page, uploaded_bytes
from core.schemas import ListArgsSchema, SearchArgsSchema, StrictSchema, Text
from credentials.portfolios.schemas import SubmissionSchema

blp = api_blueprint("issued-badges", __name__, "", "Issued badges: revocation, suspension, keys, bulk import")

IMPORT_TYPES = ("text/csv", "multipart/form-data")
LOGO_TYPES = ("multipart/form-data", "image/png", "image/svg+xml")


class BadgeSchema(Schema):
    id = fields.UUID()
    title = fields.String()
    status = fields.Function(lambda b: b.status())
    source = fields.String()
    organisation_id = fields.UUID()
    version_id = fields.UUID(allow_none=True)
    stack_id = fields.UUID(allow_none=True)
    earner_id = fields.UUID(allow_none=True)
    recipient_name = fields.String()
    awarded_at = fields.DateTime()
    valid_from = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    issued_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    suspension_reason = fields.String(allow_none=True)
    renewed_from_id = fields.UUID(allow_none=True)
    acceptance = fields.String(metadata={"description": "The earner's answer: pending, accepted or declined"})
    hidden_at = fields.DateTime(allow_none=True, metadata={"description": "When the earner hid it from public view"})
    links = fields.Function(lambda b: _links(b))


def _links(badge: Any) -> dict[str, str]:
    url = f"{current_app.config['BASE_URL']}/badges/{badge.id}"
    links = {"page": url, **{kind: f"{url}.{kind}" for kind in ("json", "jwt", "png", "svg")}}
    links["linkedin"] = presentation.linkedin_url(badge.credential, url)
    return links


class RevokeSchema(StrictSchema):
    reason = Text(required=True, validate=lambda s: len(s) <= 500)


class DidSchema(StrictSchema):
    did = fields.String(required=True, allow_none=True)


class KeySchema(Schema):
    kid = fields.String()
    algorithm = fields.String()
    state = fields.String()
    created_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)
    public_jwk = fields.Dict()
    url = fields.Function(lambda k: issuers.key_url(k))


class ImportRowSchema(Schema):
    line = fields.Integer()
    result = fields.String()
    badge_id = fields.UUID()


class ImportReportSchema(Schema):
    issued = fields.Integer()
    skipped = fields.Integer()
    rows = fields.List(fields.Nested(ImportRowSchema))


@blp.route("/me/badges")
class MyBadges(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, BadgeSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Your badges, newest first, with share links (page, downloads, LinkedIn)."""
        page = issuing.list_my_badges(
            actor=require_user(), page=pagination_parameters.page, page_size=pagination_parameters.page_size
        )
        return set_page(pagination_parameters, page)


@blp.route("/me/badges/<uuid:badge_id>/<any(accept, decline, hide, show):change>")
class MyBadgeConsent(MethodView):
    @blp.response(200, BadgeSchema)
    @blp.alt_response(404, description="Not one of your badges")
    @blp.alt_response(409, description="Not possible in the badge's state (e.g. declining an accepted badge)")
    def post(self, badge_id: uuid.UUID, change: str) -> Any:
        """Accept or decline one of your pending badges, or hide an accepted one from public view (and show it
        again): a pending or declined badge is not public; a hidden one's page says only whether it is valid."""
        return consent.CHANGES[change](actor=require_user(), badge_id=badge_id)


class IssuingSettingsSchema(StrictSchema):
    require_acceptance = fields.Boolean(required=True)


@blp.route("/organisations/<uuid:organisation_id>/issuing-settings")
class IssuingSettings(MethodView):
    @blp.response(200, IssuingSettingsSchema)
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's issuing policy (org admins)."""
        actor = require_user()
        authorize(actor, "badge.settings", organisation_id)
        return {"require_acceptance": consent.requires_acceptance(organisation_id)}

    @blp.arguments(IssuingSettingsSchema)
    @blp.response(200, IssuingSettingsSchema)
    def put(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """With `require_acceptance`, each new badge is pending until its earner accepts it (org admins)."""
        row = consent.set_requires_acceptance(
            actor=require_user(), organisation_id=organisation_id, require=data["require_acceptance"]
        )
        return {"require_acceptance": row.require_acceptance}


@blp.route("/me/did")
class MyDid(MethodView):
    @blp.arguments(DidSchema)
    @blp.response(200, DidSchema)
    def put(self, data: dict[str, Any]) -> Any:
        """The DID your future badges name you by (`null`: a salted hash of your email instead)."""
        return {"did": issuing.set_did(actor=require_user(), did=data["did"])}


class BadgeSearchArgsSchema(SearchArgsSchema):
    acceptance = fields.String(
        validate=validate.OneOf(["pending", "accepted", "declined"]),
        metadata={"description": "Only badges whose earner's answer is this (`pending`: not accepted yet)"},
    )


@blp.route("/organisations/<uuid:organisation_id>/badges")
class OrganisationBadges(MethodView):
    @blp.arguments(BadgeSearchArgsSchema, location="query")
    @blp.response(200, BadgeSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """Badges the organisation issued, newest first (org admins); ``q`` finds the earner's name or e-mail or
        the credential's title; ``acceptance=pending`` lists the badges their earners have not accepted yet."""
        page = issuing.list_organisation_badges(
            actor=require_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            q=args.get("q"),
            acceptance=args.get("acceptance"),
        )
        return set_page(pagination_parameters, page)


@blp.route("/badges/<uuid:badge_id>/revoke")
class Revoke(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(200, BadgeSchema)
    @blp.alt_response(409, description="Already revoked")
    def post(self, data: dict[str, Any], badge_id: uuid.UUID) -> Any:
        """Revoke a badge with a reason (org admins); its page and status list show it at once."""
        return revocation.revoke(actor=require_user(), badge_id=badge_id, reason=data["reason"])


@blp.route("/badges/<uuid:badge_id>/suspend")
class Suspend(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(200, BadgeSchema)
    @blp.alt_response(409, description="Already suspended, or revoked")
    def post(self, data: dict[str, Any], badge_id: uuid.UUID) -> Any:
        """Suspend a badge with a reason until it is reinstated (org admins); pages and verifiers say SUSPENDED."""
        return revocation.suspend(actor=require_user(), badge_id=badge_id, reason=data["reason"])


@blp.route("/badges/<uuid:badge_id>/reinstate")
class Reinstate(MethodView):
    @blp.arguments(RevokeSchema)
    @blp.response(200, BadgeSchema)
    @blp.alt_response(409, description="Not suspended, or revoked")
    def post(self, data: dict[str, Any], badge_id: uuid.UUID) -> Any:
        """Lift a badge's suspension, with a reason (org admins)."""
        return revocation.reinstate(actor=require_user(), badge_id=badge_id, reason=data["reason"])


@blp.route("/badges/<uuid:badge_id>/renew")
class Renew(MethodView):
    @blp.response(201, BadgeSchema)
    @blp.alt_response(409, description="Already renewed, or revoked")
    def post(self, badge_id: uuid.UUID) -> Any:
        """Re-issue a badge with new dates (org admins), without new evidence; once per badge, and not while its
        earner is renewing it by evidence (`/badges/<id>/renewal`)."""
        return renewal.renew(actor=require_user(), badge_id=badge_id), 201


class RenewalSchema(Schema):
    state = fields.String(
        allow_none=True,
        metadata={
            "description": "renewable, not_yet (opens at opens_at), draft or in_review (submission_id), renewed "
            "(renewed_by_id), or null: not renewed by evidence"
        },
    )
    opens_at = fields.DateTime(allow_none=True)
    submission_id = fields.UUID(allow_none=True)
    renewed_by_id = fields.Function(lambda r: r.renewed_by.id if r.renewed_by else None, allow_none=True)
    renews_id = fields.Function(lambda r: r.renews.id if r.renews else None, allow_none=True)


@blp.route("/badges/<uuid:badge_id>/renewal")
class Renewal(MethodView):
    @blp.response(200, RenewalSchema)
    def get(self, badge_id: uuid.UUID) -> Any:
        """Where one of my badges stands on renewal by evidence (its earner only; others get 404)."""
        return renewal.state(renewal.check_mine(actor=require_user(), badge_id=badge_id))

    @blp.response(201, SubmissionSchema)
    @blp.alt_response(200, schema=SubmissionSchema, description="A renewal of this badge is already open: that one")
    @blp.alt_response(409, description="Revoked, suspended, renewed, not renewed by evidence, or not open yet")
    def post(self, badge_id: uuid.UUID) -> Any:
        """Start renewing one of my badges by evidence: a renewal submission (kind `renewal`) answering the
        renewal requirements, filled in and submitted like any other (`/api/v1/submissions/<id>`)."""
        submission, new = renewal.start(actor=require_user(), badge_id=badge_id)
        return submission, 201 if new else 200


@blp.route("/organisations/<uuid:organisation_id>/signing-keys")
class SigningKeys(MethodView):
    @blp.response(200, KeySchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's public keys, active and retired."""
        actor = require_user()
        authorize(actor, "issuer.manage_keys", organisation_id)
        return issuers.list_keys(organisation_id=organisation_id)


@blp.route("/organisations/<uuid:organisation_id>/signing-keys/rotate")
class RotateKeys(MethodView):
    @blp.response(201, KeySchema(many=True))
    def post(self, organisation_id: uuid.UUID) -> Any:
        """Retire the active keys and make new ones (org admins); old badges keep verifying."""
        return issuers.rotate_keys(actor=require_user(), organisation_id=organisation_id), 201


class LogoSchema(Schema):
    url = fields.String(metadata={"description": "Public URL of the logo, the issuer Profile's `image.id`"})
    media_type = fields.String()


@blp.route("/organisations/<uuid:organisation_id>/issuer-logo")
class Logo(MethodView):
    @accepts(*LOGO_TYPES)
    @blp.doc(requestBody={"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in LOGO_TYPES}})
    @blp.response(200, LogoSchema)
    def put(self, organisation_id: uuid.UUID) -> Any:
        """Set the issuer's logo (org admins): a PNG (max 2048x2048) or an SVG, which is sanitised; badges issued
        from then on carry it as the issuer's `image`."""
        data = uploaded_bytes("the image")
        issuers.update_profile(actor=require_user(), organisation_id=organisation_id, changes={}, image=data)
        row = issuers.issuer_image(organisation_id=organisation_id)
        return {"url": issuers.image_url(organisation_id), "media_type": row.media_type}

    @blp.response(204)
    def delete(self, organisation_id: uuid.UUID) -> None:
        """Remove the issuer's logo (org admins)."""
        issuers.update_profile(actor=require_user(), organisation_id=organisation_id, changes={}, remove_image=True)


@blp.route("/organisations/<uuid:organisation_id>/badge-imports")
class Imports(MethodView):
    @accepts(*IMPORT_TYPES)
    @blp.doc(requestBody={"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMPORT_TYPES}})
    @blp.response(200, ImportReportSchema)
    def post(self, organisation_id: uuid.UUID) -> Any:
        """Issue badges for past awards from a CSV (docs/issuing.md); all or nothing; rows already issued
        from an earlier upload are reported as `skipped`."""
        data = uploaded_bytes("the CSV")
        return imports.import_awards(actor=require_user(), organisation_id=organisation_id, data=data)


def init_app(app: Flask) -> None:
    register(app, blp)
