"""HTTP API for standards: frameworks, their trees, item search and CASE import (org admins)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters
from werkzeug.utils import secure_filename

from core.auth import require_user
from core.http import PUBLIC, accepts, api_blueprint, register, set_page
from standards import frameworks, imports
from standards import schemas as s

blp = api_blueprint("standards", __name__, "/standards", "Standards frameworks (CASE), items and search")


def upload_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let this view's request body be as large as STANDARDS_MAX_UPLOAD (set before the body is parsed)."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        request.max_content_length = current_app.config["STANDARDS_MAX_UPLOAD"]
        return view(*args, **kwargs)

    return limited


@blp.route("/frameworks")
class Frameworks(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(s.FrameworkArgsSchema, location="query")
    @blp.response(200, s.FrameworkSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Every framework, by title; `q` matches title, creator, publisher or CASE identifier."""
        page = frameworks.list_frameworks(
            q=args.get("q"), page=pagination_parameters.page, page_size=pagination_parameters.page_size
        )
        return set_page(pagination_parameters, page)

    @accepts("multipart/form-data")
    @upload_limit
    @blp.arguments(s.FrameworkImportSchema, location="multipart")
    @blp.response(201, s.FrameworkImportReportSchema, description="A new framework was imported")
    @blp.alt_response(200, schema=s.FrameworkImportReportSchema, description="Updated in place")
    @blp.alt_response(403, description="Not an org admin of the owning organisation")
    @blp.alt_response(413, description="The file is larger than STANDARDS_MAX_UPLOAD")
    @blp.alt_response(422, description="The package is malformed; `errors` name each place as a JSON pointer")
    def post(self, form: dict[str, Any]) -> Any:
        """Import a CASE package (multipart `file`), or re-import one to update it in place.

        Items keep their ids; items missing from the new package become obsolete. Org admins import for
        their organisation (`organisation_id`) and may re-import only frameworks it owns.
        """
        upload = form["file"]
        report = imports.import_package(
            actor=require_user(),
            data=upload.read(),
            organisation_id=form.get("organisation_id"),
            source_note=form.get("source_note")
            or f"Uploaded through the API as {secure_filename(upload.filename or '') or 'a file'}.",
        )
        return report, 201 if report.created else 200


@blp.route("/frameworks/<uuid:framework_id>")
class FrameworkItem(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.response(200, s.FrameworkSchema)
    def get(self, framework_id: uuid.UUID) -> Any:
        """One framework with its source and rights notice."""
        return frameworks.get_framework(framework_id=framework_id)


@blp.route("/frameworks/<uuid:framework_id>/tree")
class FrameworkTree(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(s.TreeArgsSchema, location="query")
    @blp.response(200, s.StandardTreeNodeSchema(many=True))
    def get(self, args: dict[str, Any], framework_id: uuid.UUID) -> Any:
        """The framework's items as a tree, in order; obsolete items only with `include_obsolete`."""
        return frameworks.tree(framework_id=framework_id, include_obsolete=args["include_obsolete"])


@blp.route("/items")
class Items(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.arguments(s.StandardItemSearchArgsSchema, location="query")
    @blp.response(200, s.StandardItemSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Search items by code (`6.RP.A.1`) or words; best matches first. Without `q`: tree order."""
        page = frameworks.search_items(
            q=args.get("q"),
            framework_id=args.get("framework_id"),
            include_obsolete=args["include_obsolete"],
            page=pagination_parameters.page,
            page_size=pagination_parameters.page_size,
        )
        return set_page(pagination_parameters, page)


@blp.route("/items/<uuid:item_id>")
class ItemDetail(MethodView):
    @blp.doc(security=PUBLIC)
    @blp.response(200, s.StandardItemDetailSchema)
    def get(self, item_id: uuid.UUID) -> Any:
        """One item (obsolete ones too) with its parent chain, children and associations."""
        return frameworks.item_detail(item_id=item_id)


def init_app(app: Flask) -> None:
    register(app, blp)
