"""HTTP API for accounts, organisations, members, invitations, tokens and the audit log.

Each view loads input with a schema, calls one service function and returns what the schema dumps.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response, abort, current_app, make_response, render_template, send_from_directory
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from swagger_ui_bundle import swagger_ui_path

from core import accounts, checklist, erasure, exports, organisations
from core import members as placement
from core import schemas as s
from core.auth import current_user, require_user, token_response
from core.errors import NotFound
from core.extensions import limiter
from core.http import (
    PUBLIC,
    api_blueprint,
    expected_version,
    export_limit,
    organisation_creation_limit,
    register,
    set_page,
    streamed_attachment,
    version_etag,
)

auth_blp = api_blueprint("auth", __name__, "/auth", "Sign in, sign up, password reset, invitations")
me_blp = api_blueprint("me", __name__, "/me", "The signed-in user and their personal API tokens")
users_blp = api_blueprint("users", __name__, "/users", "Accounts (platform admins)")
orgs_blp = api_blueprint("organisations", __name__, "/organisations", "Organisations, members, invitations")
audit_blp = api_blueprint("audit", __name__, "/audit-events", "The audit log across organisations")
erasure_blp = api_blueprint("erasure", __name__, "/erasure-requests", "People's requests to have their data erased")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# --- auth --------------------------------------------------------------------------------------------


@auth_blp.route("/token")
class Token(MethodView):
    @auth_blp.doc(security=PUBLIC)
    @auth_blp.arguments(s.TokenRequestSchema)
    @auth_blp.response(200, s.TokenSchema)
    @auth_blp.alt_response(401, description="Wrong email or password")
    @auth_blp.alt_response(429, description="Too many attempts")
    @limiter.limit(_login_limit)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange email and password for a short-lived bearer token."""
        return token_response(*accounts.issue_token(**data))


@auth_blp.route("/register")
class Register(MethodView):
    @auth_blp.doc(security=PUBLIC)
    @auth_blp.arguments(s.RegisterSchema)
    @auth_blp.response(201, s.UserSchema)
    @limiter.limit(_login_limit)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an (earner) account."""
        return accounts.register(**data)


@auth_blp.route("/password-reset")
class PasswordResetRequest(MethodView):
    @auth_blp.doc(security=PUBLIC)
    @auth_blp.arguments(s.PasswordResetRequestSchema)
    @auth_blp.response(202, s.AcceptedSchema)
    @limiter.limit(_login_limit)
    def post(self, data: dict[str, Any]) -> dict[str, str]:
        """Email a reset link if the account exists. Always 202: the answer never reveals accounts."""
        accounts.request_password_reset(**data)
        return {"detail": "If an account uses this address, a link to choose a new password is on its way."}


@auth_blp.route("/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @auth_blp.doc(security=PUBLIC)
    @auth_blp.arguments(s.PasswordResetSchema)
    @auth_blp.response(204)
    @limiter.limit(_login_limit)
    def post(self, data: dict[str, Any]) -> None:
        """Set a new password with the token from the reset link; signs out every other session."""
        accounts.reset_password(**data)


@auth_blp.route("/invitations/accept")
class AcceptInvitation(MethodView):
    @auth_blp.doc(security=[{"bearerAuth": []}, {}])
    @auth_blp.arguments(s.AcceptInvitationSchema)
    @auth_blp.response(200, s.MeSchema)
    @limiter.limit(_login_limit)
    def post(self, data: dict[str, Any]) -> Any:
        """Accept an invitation: signed in as the invitee, or with a name and password for a new account."""
        return organisations.accept_invitation(actor=current_user(), **data)


# --- me ----------------------------------------------------------------------------------------------


@me_blp.route("")
class Me(MethodView):
    @me_blp.response(200, s.MeSchema)
    def get(self) -> Any:
        """The signed-in user with their memberships."""
        return require_user()

    @me_blp.arguments(s.UpdateMeSchema)
    @me_blp.response(200, s.MeSchema)
    def patch(self, data: dict[str, Any]) -> Any:
        """Change your name or password (the latter needs `current_password` and signs out other sessions)."""
        return accounts.update_profile(actor=require_user(), **data)


@me_blp.route("/tokens")
class ApiTokens(MethodView):
    @me_blp.response(200, s.ApiTokenSchema(many=True))
    def get(self) -> Any:
        """Your personal API tokens (never their secrets)."""
        return accounts.list_api_tokens(actor=require_user())

    @me_blp.arguments(s.CreateApiTokenSchema)
    @me_blp.response(201, s.CreatedApiTokenSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a personal API token for scripts; the secret is in this response only."""
        api_token, secret = accounts.create_api_token(actor=require_user(), **data)
        return s.with_extra(api_token, s.ApiTokenSchema, token=secret)


@me_blp.route("/tokens/<uuid:token_id>")
class ApiTokenItem(MethodView):
    @me_blp.response(204)
    def delete(self, token_id: uuid.UUID) -> None:
        """Revoke a personal API token at once."""
        accounts.revoke_api_token(actor=require_user(), token_id=token_id)


@me_blp.route("/export")
class Export(MethodView):
    @me_blp.doc(responses={"200": {"description": "A ZIP archive", "content": {"application/zip": {"schema": {}}}}})
    @me_blp.alt_response(429, description="Too many archives downloaded")
    @export_limit
    def get(self) -> Response:
        """Everything the service holds about you as one ZIP (streamed): account, memberships, submissions with
        their files, feedback, reviews of your work (assessors unnamed), badges, audit entries, token names."""
        archive = exports.export(actor=require_user())
        return streamed_attachment(archive.chunks, filename=archive.filename, mimetype="application/zip")


@me_blp.route("/erasure-request")
class MyErasureRequest(MethodView):
    @me_blp.response(200, s.MyErasureRequestSchema)
    def get(self) -> Any:
        """Your pending request to have your data erased (404 when there is none)."""
        request = erasure.pending_request(actor=require_user())
        if request is None:
            raise NotFound("You have no pending erasure request.")
        return request

    @me_blp.arguments(s.CreateErasureRequestSchema)
    @me_blp.response(201, s.MyErasureRequestSchema)
    @me_blp.alt_response(409, description="A request is already pending")
    def post(self, data: dict[str, Any]) -> Any:
        """Ask for your data to be erased; an administrator carries it out (see docs/security.md for what stays)."""
        return erasure.request_erasure(actor=require_user(), **data)

    @me_blp.response(204)
    def delete(self) -> None:
        """Withdraw your pending erasure request."""
        erasure.cancel_erasure(actor=require_user())


# --- erasure requests (admins) -----------------------------------------------------------------------


@erasure_blp.route("")
class ErasureRequests(MethodView):
    @erasure_blp.arguments(s.ErasureArgsSchema, location="query")
    @erasure_blp.response(200, s.ErasureRequestSchema(many=True))
    @erasure_blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Erasure requests you may carry out, oldest first (org admins: people your organisations hold data
        about; platform admins: everyone)."""
        page = erasure.list_requests(
            actor=require_user(),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **_filters(args),
        )
        return set_page(pagination_parameters, page)


@erasure_blp.route("/<uuid:request_id>")
class ErasureRequestItem(MethodView):
    @erasure_blp.response(200, s.ErasureRequestSchema)
    def get(self, request_id: uuid.UUID) -> Any:
        return erasure.get_request(actor=require_user(), request_id=request_id)


@erasure_blp.route("/<uuid:request_id>/carry-out")
class CarryOutErasure(MethodView):
    @erasure_blp.response(200, s.ErasureRequestSchema)
    @erasure_blp.alt_response(409, description="The request is not pending")
    def post(self, request_id: uuid.UUID) -> Any:
        """Erase the person: evidence deleted from storage, submissions emptied, the account anonymised; badges
        stay valid without the name; audit rows stay, pseudonymised."""
        return erasure.carry_out(actor=require_user(), request_id=request_id)


# --- users (platform admins) -------------------------------------------------------------------------


@users_blp.route("")
class Users(MethodView):
    @users_blp.arguments(s.SearchArgsSchema, location="query")
    @users_blp.response(200, s.UserSchema(many=True))
    @users_blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """All accounts, oldest first; `q` matches email or name."""
        page = accounts.list_users(
            actor=require_user(),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            q=args.get("q"),
        )
        return set_page(pagination_parameters, page)

    @users_blp.arguments(s.CreateUserSchema)
    @users_blp.response(201, s.UserSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an account; without a password the user is emailed a link to choose one."""
        return accounts.create_user(actor=require_user(), **data)


@users_blp.route("/<uuid:user_id>")
class UserItem(MethodView):
    @users_blp.response(200, s.MeSchema)
    def get(self, user_id: uuid.UUID) -> Any:
        return accounts.get_user(actor=require_user(), user_id=user_id)

    @users_blp.arguments(s.UpdateUserSchema)
    @users_blp.response(200, s.UserSchema)
    def patch(self, data: dict[str, Any], user_id: uuid.UUID) -> Any:
        """Rename, deactivate (signs the user out everywhere) or grant/withdraw platform admin."""
        return accounts.update_user(actor=require_user(), user_id=user_id, changes=data)


# --- organisations -----------------------------------------------------------------------------------


@orgs_blp.route("")
class Organisations(MethodView):
    @orgs_blp.arguments(s.OrganisationArgsSchema, location="query")
    @orgs_blp.response(200, s.OrganisationSchema(many=True))
    @orgs_blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Organisations you belong to (all of them for platform admins)."""
        page = organisations.list_organisations(
            actor=require_user(),
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **_filters(args),
        )
        return set_page(pagination_parameters, page)

    @orgs_blp.arguments(s.CreateOrganisationSchema)
    @orgs_blp.response(201, s.OrganisationSchema)
    @orgs_blp.alt_response(403, description="Self-service is off (`ALLOW_ORGANISATION_SIGNUP`) for non-admins")
    @orgs_blp.alt_response(409, description="The slug is taken")
    @orgs_blp.alt_response(429, description="Too many organisations created (`ORGANISATION_SIGNUP_RATE_LIMIT`)")
    @organisation_creation_limit()
    def post(self, data: dict[str, Any]) -> Any:
        """Create an organisation. Platform admins always may (and may name its first admin); anyone signed in may
        when the service allows self-service, becoming its org admin and author. Without `slug`, one is made from
        the name."""
        organisation = organisations.create_organisation(actor=require_user(), **data)
        return (
            organisation,
            201,
            {"ETag": version_etag("organisation", organisation.id, organisation.version)},
        )


@orgs_blp.route("/<uuid:organisation_id>")
class OrganisationItem(MethodView):
    @orgs_blp.response(200, s.OrganisationSchema)
    def get(self, organisation_id: uuid.UUID) -> Any:
        """One organisation, with an `ETag` to send back as `If-Match` when you update it."""
        organisation = organisations.get_organisation(actor=require_user(), organisation_id=organisation_id)
        return (
            organisation,
            200,
            {"ETag": version_etag("organisation", organisation.id, organisation.version)},
        )

    @orgs_blp.arguments(s.UpdateOrganisationSchema)
    @orgs_blp.response(200, s.OrganisationSchema)
    @orgs_blp.alt_response(412, description="If-Match names an older version")
    def patch(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Update the profile (org admins). Send `If-Match` to refuse overwriting someone else's change."""
        organisation = organisations.update_organisation(
            actor=require_user(),
            organisation_id=organisation_id,
            changes=data,
            expected_version=expected_version("organisation", organisation_id),
        )
        return (
            organisation,
            200,
            {"ETag": version_etag("organisation", organisation.id, organisation.version)},
        )


@orgs_blp.route("/<uuid:organisation_id>/parent")
class Parent(MethodView):
    @orgs_blp.arguments(s.SetParentSchema)
    @orgs_blp.response(200, s.OrganisationSchema)
    @orgs_blp.alt_response(409, description="The new parent is the organisation itself or one of its units")
    def put(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Make the organisation a unit of `parent_id` (admins of both sides), or a root with null."""
        return organisations.set_parent(actor=require_user(), organisation_id=organisation_id, **data)


@orgs_blp.route("/<uuid:organisation_id>/units")
class Units(MethodView):
    @orgs_blp.response(200, s.OrganisationSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The organisation's direct units (schools of a district …), by name."""
        return organisations.list_units(actor=require_user(), organisation_id=organisation_id)


@orgs_blp.route("/<uuid:organisation_id>/checklist")
class Checklist(MethodView):
    @orgs_blp.response(200, s.ChecklistStepSchema(many=True))
    def get(self, organisation_id: uuid.UUID) -> Any:
        """The first-run checklist (org admins): each step, in order, and whether the organisation has done it."""
        progress = checklist.first_run_checklist(actor=require_user(), organisation_id=organisation_id)
        return [
            {"key": st.key, "label": str(st.label), "hint": str(st.hint), "done": done} for st, done in progress.steps
        ]


@orgs_blp.route("/<uuid:organisation_id>/members")
class Members(MethodView):
    @orgs_blp.arguments(s.MemberArgsSchema, location="query")
    @orgs_blp.response(200, s.MemberSchema(many=True))
    @orgs_blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """Members and their roles (org admins); filter by `role` or `q`."""
        page = organisations.list_members(
            actor=require_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **_filters(args),
        )
        return set_page(pagination_parameters, page)


@orgs_blp.route("/<uuid:organisation_id>/members/<uuid:user_id>")
class MemberItem(MethodView):
    @orgs_blp.arguments(s.SetRolesSchema)
    @orgs_blp.response(200, s.MemberSchema)
    def put(self, data: dict[str, Any], organisation_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Replace a member's roles; an empty list removes the member."""
        return organisations.set_member_roles(
            actor=require_user(), organisation_id=organisation_id, user_id=user_id, **data
        )

    @orgs_blp.response(204)
    def delete(self, organisation_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Remove a member from the organisation."""
        organisations.set_member_roles(actor=require_user(), organisation_id=organisation_id, user_id=user_id, roles=[])


@orgs_blp.route("/<uuid:organisation_id>/members/<uuid:user_id>/placement")
class MemberPlacement(MethodView):
    @orgs_blp.arguments(s.SetPlacementSchema)
    @orgs_blp.response(200, s.MemberSchema)
    def put(self, data: dict[str, Any], organisation_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Set the unit a member works in and their job role (org admins)."""
        return placement.set_member_placement(
            actor=require_user(), organisation_id=organisation_id, user_id=user_id, **data
        )


@orgs_blp.route("/<uuid:organisation_id>/invitations")
class Invitations(MethodView):
    @orgs_blp.arguments(s.ListArgsSchema, location="query")
    @orgs_blp.response(200, s.InvitationSchema(many=True))
    @orgs_blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """Invitations, newest first."""
        page = organisations.list_invitations(
            actor=require_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        return set_page(pagination_parameters, page)

    @orgs_blp.arguments(s.CreateInvitationSchema)
    @orgs_blp.response(201, s.CreatedInvitationSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Invite someone by email with roles; the link is emailed and returned here once."""
        invitation, link = organisations.invite(actor=require_user(), organisation_id=organisation_id, **data)
        return s.with_extra(invitation, s.InvitationSchema, accept_url=link)


@orgs_blp.route("/<uuid:organisation_id>/invitations/<uuid:invitation_id>")
class InvitationItem(MethodView):
    @orgs_blp.response(200, s.InvitationSchema)
    def delete(self, organisation_id: uuid.UUID, invitation_id: uuid.UUID) -> Any:
        """Revoke a pending invitation."""
        return organisations.revoke_invitation(
            actor=require_user(), organisation_id=organisation_id, invitation_id=invitation_id
        )


@orgs_blp.route("/<uuid:organisation_id>/audit-events")
class OrganisationAudit(MethodView):
    @orgs_blp.arguments(s.AuditArgsSchema, location="query")
    @orgs_blp.response(200, s.AuditEventSchema(many=True))
    @orgs_blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """The organisation's audit log, newest first (org admins)."""
        page = organisations.list_audit_events(
            actor=require_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **_filters(args),
        )
        return set_page(pagination_parameters, page)


@audit_blp.route("")
class AuditEvents(MethodView):
    @audit_blp.arguments(s.AuditArgsSchema, location="query")
    @audit_blp.response(200, s.AuditEventSchema(many=True))
    @audit_blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Every audit event, newest first (platform admins)."""
        page = organisations.list_audit_events(
            actor=require_user(),
            organisation_id=None,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **_filters(args),
        )
        return set_page(pagination_parameters, page)


def _filters(args: dict[str, Any]) -> dict[str, Any]:
    """Query arguments minus the paging ones flask-smorest already handed to the view."""
    return {k: v for k, v in args.items() if k not in {"page", "page_size"}}


# Only what api_docs.html loads; the bundle's own index and initialiser (pointing at a demo site) stay unserved.
DOCS_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}


def init_app(app: Flask) -> None:
    register(app, auth_blp, me_blp, users_blp, orgs_blp, audit_blp, erasure_blp)

    @app.get("/api/v1/docs")
    def api_docs() -> Response:
        """Interactive API documentation (Swagger UI, served from bundled files)."""
        response = make_response(render_template("api_docs.html"))
        # Swagger UI sets inline styles; allow them on this page only.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
        )
        return response

    @app.get("/api/v1/docs/assets/<path:filename>")
    def api_docs_asset(filename: str) -> Response:
        if filename not in DOCS_ASSETS:
            abort(404)
        return send_from_directory(str(swagger_ui_path), filename, max_age=86400)
