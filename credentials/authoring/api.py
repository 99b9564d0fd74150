"""HTTP API for authoring: micro-credentials, versions and their review, images, diffs, stacks, catalogue."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, Response
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from core.auth import current_user, require_user
from core.http import (
    PUBLIC,
    accepts,
    api_blueprint,
    expected_version,
    register,
    set_page,
    uploaded_bytes,
    version_etag,
)
from credentials.authoring import catalogue, images, publication, stacks, versions
from credentials.authoring import schemas as s
from credentials.authoring.models import StackState

blp = api_blueprint("micro-credentials", __name__, "", "Authoring micro-credentials, review, stacks, catalogue")

IMAGE_TYPES = ("multipart/form-data", "image/png", "image/svg+xml")


def _etag(version: Any) -> dict[str, str]:
    return {"ETag": version_etag("credential-version", version.id, version.lock_version)}


@blp.route("/catalogue")
class Catalogue(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(s.CatalogueArgsSchema, location="query")
    @blp.response(200, s.VersionSummarySchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Published micro-credentials, newest first; filter by `q`, `tag`, `standard`, `framework`, `organisation`."""
        page = catalogue.catalogue(page=pagination_parameters.page, page_size=pagination_parameters.page_size, **args)
        return set_page(pagination_parameters, page)


@blp.route("/organisations/<uuid:organisation_id>/micro-credentials")
class OrganisationCredentials(MethodView):
    @blp.arguments(s.OrgCredentialArgsSchema, location="query")
    @blp.response(200, s.VersionSummarySchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """The newest version of each of the organisation's micro-credentials, drafts included (authors, admins)."""
        page = versions.list_organisation_credentials(
            actor=require_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
            **args,
        )
        return set_page(pagination_parameters, page)

    @blp.arguments(s.VersionContentSchema)
    @blp.response(201, s.VersionSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Create a micro-credential; its version 1 starts as a draft (authors)."""
        version = versions.create_micro_credential(actor=require_user(), organisation_id=organisation_id, content=data)
        return version, 201, _etag(version)


@blp.route("/micro-credentials/<uuid:micro_credential_id>")
class MicroCredentialItem(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}])
    @blp.response(200, s.MicroCredentialSchema)
    def get(self, micro_credential_id: uuid.UUID) -> Any:
        """A micro-credential and the versions you may see."""
        micro_credential = versions.get_micro_credential(actor=current_user(), micro_credential_id=micro_credential_id)
        return {
            "id": micro_credential.id,
            "organisation_id": micro_credential.organisation_id,
            "team_id": micro_credential.team_id,
            "created_at": micro_credential.created_at,
            "versions": versions.visible_versions(current_user(), micro_credential),
        }


@blp.route("/micro-credentials/<uuid:micro_credential_id>/versions")
class NewVersion(MethodView):
    @blp.response(201, s.VersionSchema)
    def post(self, micro_credential_id: uuid.UUID) -> Any:
        """Start the next version as a draft, copied from the newest published one."""
        version = versions.new_version(actor=require_user(), micro_credential_id=micro_credential_id)
        return version, 201, _etag(version)


@blp.route("/credential-versions/<uuid:version_id>")
class VersionItem(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}])
    @blp.response(200, s.VersionSchema)
    def get(self, version_id: uuid.UUID) -> Any:
        """A version: public once published; drafts for the organisation's authors and admins."""
        version = versions.get_version(actor=current_user(), version_id=version_id)
        return version, 200, _etag(version)

    @blp.arguments(s.UpdateVersionSchema)
    @blp.response(200, s.VersionSchema)
    @blp.alt_response(412, description="If-Match names an older save")
    def patch(self, data: dict[str, Any], version_id: uuid.UUID) -> Any:
        """Replace the given fields of a draft (lists are replaced whole). Send `If-Match` to detect conflicts."""
        version = versions.update_draft(
            actor=require_user(),
            version_id=version_id,
            changes=data,
            expected_version=expected_version("credential-version", version_id),
        )
        return version, 200, _etag(version)


def _transition_view(name: str, schema: type | None, call: Any, doc: str) -> None:
    """One POST endpoint per review step; they differ only in the service called and the body taken."""

    def post(self: MethodView, *args: Any, **kwargs: Any) -> Any:
        data = args[0] if args else {}
        version = call(actor=require_user(), version_id=kwargs["version_id"], **data)
        return version, 200, _etag(version)

    post.__doc__ = doc
    view = blp.response(200, s.VersionSchema)(post)
    if schema is not None:
        view = blp.arguments(schema)(view)
    blp.route(f"/credential-versions/<uuid:version_id>/{name}", endpoint=f"version_{name.replace('-', '_')}")(
        type(f"Version_{name}", (MethodView,), {"post": view})
    )


_transition_view(
    "request-review",
    s.OptionalCommentSchema,
    publication.request_review,
    "Ask another author to review this draft (it must be complete).",
)
_transition_view("withdraw-review", None, publication.withdraw_review, "Take the version back to draft.")
_transition_view(
    "approve",
    s.OptionalCommentSchema,
    publication.approve,
    "Approve for publication (an author other than the one who asked).",
)
_transition_view(
    "request-changes",
    s.RequiredCommentSchema,
    publication.request_changes,
    "Send the version back to draft with what to change.",
)
_transition_view(
    "publish",
    None,
    publication.publish,
    "Publish an approved version: immutable from now on; the previous version is retired.",
)
_transition_view(
    "retire",
    s.RetireSchema,
    publication.retire,
    "Retire a published version: no new submissions, issued badges stay valid.",
)


@blp.route("/credential-versions/<uuid:version_id>/comments")
class Comments(MethodView):
    @blp.response(200, s.CommentSchema(many=True))
    def get(self, version_id: uuid.UUID) -> Any:
        """Comments and review steps on the version, oldest first (the organisation's authors)."""
        return publication.list_comments(actor=require_user(), version_id=version_id)

    @blp.arguments(s.CommentInSchema)
    @blp.response(201, s.CommentSchema)
    def post(self, data: dict[str, Any], version_id: uuid.UUID) -> Any:
        return publication.add_comment(actor=require_user(), version_id=version_id, **data)


@blp.route("/credential-versions/<uuid:version_id>/diff")
class Diff(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}])
    @blp.arguments(s.DiffArgsSchema, location="query")
    @blp.response(200, s.DiffSchema)
    def get(self, args: dict[str, Any], version_id: uuid.UUID) -> Any:
        """What changed from version `against` to this one."""
        return versions.diff(actor=current_user(), version_id=version_id, against_id=args["against"])


@blp.route("/credential-versions/<uuid:version_id>/image")
class Image(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}], responses={"200": {"description": "PNG or SVG"}})
    def get(self, version_id: uuid.UUID) -> Response:
        """The badge image: the uploaded one, or a generated default."""
        image = images.image_of(actor=current_user(), version_id=version_id)
        response = Response(image.data, mimetype=image.media_type)
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
        # A draft's image must not sit in a shared cache that could hand it to someone outside the team.
        response.headers["Cache-Control"] = "public, max-age=300" if image.public else "private, no-store"
        return response

    @accepts(*IMAGE_TYPES)
    @blp.doc(requestBody={"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}})
    @blp.response(200, s.VersionSchema)
    def put(self, version_id: uuid.UUID) -> Any:
        """Upload the badge image of a draft: a PNG (max 2048x2048) or an SVG, which is sanitised."""
        data = uploaded_bytes("the image")
        version = images.set_image(actor=require_user(), version_id=version_id, data=data)
        return version, 200, _etag(version)

    @blp.response(200, s.VersionSchema)
    def delete(self, version_id: uuid.UUID) -> Any:
        """Go back to the generated default image."""
        version = images.remove_image(actor=require_user(), version_id=version_id)
        return version, 200, _etag(version)


# --- stacks ------------------------------------------------------------------------------------------


@blp.route("/organisations/<uuid:organisation_id>/stacks")
class Stacks(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}])
    @blp.arguments(s.ListArgsSchema, location="query")
    @blp.response(200, s.StackSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], organisation_id: uuid.UUID, pagination_parameters: PaginationParameters) -> Any:
        """Published stacks (drafts too for the organisation's authors and admins)."""
        page = stacks.list_stacks(
            actor=current_user(),
            organisation_id=organisation_id,
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        return set_page(pagination_parameters, page)

    @blp.arguments(s.StackInSchema)
    @blp.response(201, s.StackSchema)
    def post(self, data: dict[str, Any], organisation_id: uuid.UUID) -> Any:
        """Create a draft stack of published micro-credentials."""
        return stacks.create_stack(actor=require_user(), organisation_id=organisation_id, **data)


@blp.route("/stacks/<uuid:stack_id>")
class StackItem(MethodView):
    @blp.doc(security=[{"bearerAuth": []}, {}])
    @blp.response(200, s.StackSchema)
    def get(self, stack_id: uuid.UUID) -> Any:
        stack = stacks.get_stack(actor=current_user(), stack_id=stack_id)
        return stack, 200, {"ETag": version_etag("stack", stack.id, stack.lock_version)}

    @blp.arguments(s.UpdateStackSchema)
    @blp.response(200, s.StackSchema)
    def patch(self, data: dict[str, Any], stack_id: uuid.UUID) -> Any:
        """Change a draft stack."""
        stack = stacks.update_stack(
            actor=require_user(),
            stack_id=stack_id,
            changes=data,
            expected_version=expected_version("stack", stack_id),
        )
        return stack, 200, {"ETag": version_etag("stack", stack.id, stack.lock_version)}


@blp.route("/stacks/<uuid:stack_id>/publish")
class PublishStack(MethodView):
    @blp.response(200, s.StackSchema)
    def post(self, stack_id: uuid.UUID) -> Any:
        return stacks.set_stack_state(actor=require_user(), stack_id=stack_id, state=StackState.PUBLISHED)


@blp.route("/stacks/<uuid:stack_id>/retire")
class RetireStack(MethodView):
    @blp.response(200, s.StackSchema)
    def post(self, stack_id: uuid.UUID) -> Any:
        return stacks.set_stack_state(actor=require_user(), stack_id=stack_id, state=StackState.RETIRED)


def init_app(app: Flask) -> None:
    register(app, blp)
