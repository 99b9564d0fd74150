"""Public pages for frameworks and items, at stable URLs: HTML for people, JSON for machines.

``/standards/frameworks/<id>`` and ``/standards/items/<id>`` answer with JSON when the client asks for
``application/json`` (or adds ``.json`` to the URL); Open Badges alignments link the item pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from core.auth import current_user
from core.db import clamp_page
from core.errors import ServiceError, problem
from standards import frameworks as reading
from standards import schemas as s
from standards.import_views import may_import

bp = Blueprint(
    "standards_web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/standards/static",
)
PAGE_SIZE = 50
# Above this many items the framework page shows the top levels only (search finds the rest).
FULL_TREE_LIMIT = 3000


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _page_number() -> int:
    return clamp_page(request.args.get("page", 1, type=int))


def _query() -> str:
    return (request.args.get("q") or "").strip()[:200]


def _json(build: Callable[[], Any]) -> Response:
    """A JSON answer, or a problem document (never an HTML error page) when the service refuses."""
    try:
        body = build()
    except ServiceError as exc:
        return problem(exc.status, exc.title, exc.detail, type_slug=exc.type_slug, errors=exc.errors)
    response = jsonify(body)
    response.vary.add("Accept")
    return response


def _html(template: str, **context: Any) -> Response:
    response = Response(render_template(template, **context), mimetype="text/html")
    response.vary.add("Accept")
    return response


@bp.get("/standards")
def index() -> Response:
    """Every framework; with ``q``, the items and frameworks that match."""
    q = _query()
    page = _page_number()
    frameworks = reading.list_frameworks(q=q or None, page=1 if q else page, page_size=PAGE_SIZE)
    items = reading.search_items(q=q, page=page, page_size=PAGE_SIZE) if q else None
    return _html(
        "standards/index.html",
        q=q,
        page=page,
        page_size=PAGE_SIZE,
        frameworks=frameworks,
        items=items,
        may_import=may_import(current_user()),
    )


@bp.get("/standards/frameworks/<uuid:framework_id>")
def framework(framework_id: uuid.UUID) -> Response:
    if _wants_json():
        return framework_json(framework_id)
    framework = reading.get_framework(framework_id=framework_id)
    q = _query()
    page = _page_number()
    if q:
        results = reading.search_items(q=q, framework_id=framework.id, page=page, page_size=PAGE_SIZE)
        nodes = None
    else:
        results = None
        limited = framework.item_count > FULL_TREE_LIMIT
        nodes = reading.tree(framework_id=framework.id, max_depth=1 if limited else None)
    return _html(
        "standards/framework.html",
        framework=framework,
        nodes=nodes,
        limited=not q and framework.item_count > FULL_TREE_LIMIT,
        q=q,
        page=page,
        page_size=PAGE_SIZE,
        results=results,
    )


@bp.get("/standards/frameworks/<uuid:framework_id>.json")
def framework_json(framework_id: uuid.UUID) -> Response:
    def build() -> dict[str, Any]:
        framework = reading.get_framework(framework_id=framework_id)
        nodes = reading.tree(framework_id=framework_id)
        return {**s.FrameworkSchema().dump(framework), "tree": s.StandardTreeNodeSchema(many=True).dump(nodes)}

    return _json(build)


@bp.get("/standards/items/<uuid:item_id>")
def item(item_id: uuid.UUID) -> Response:
    if _wants_json():
        return item_json(item_id)
    detail = reading.item_detail(item_id=item_id)
    return _html("standards/item.html", detail=detail, item=detail.item, framework=detail.framework)


@bp.get("/standards/items/<uuid:item_id>.json")
def item_json(item_id: uuid.UUID) -> Response:
    return _json(lambda: s.StandardItemDetailSchema().dump(reading.item_detail(item_id=item_id)))


def init_app(app: Flask) -> None:
    from core.views import register_nav

    app.register_blueprint(bp)
    register_nav(_l("Standards"), "standards_web.index", order=40)

    @app.template_global("standards_link")
    def standards_link(url: str | None) -> str | None:
        """``url`` if it is safe to link (http or https), else None: package data decides no ``href``."""
        return url if url and url.lower().startswith(("http://", "https://")) else None

    app.add_template_global(reading.alignment_url, "standards_alignment_url")
