"""Conventions every API blueprint shares: JSON-only bodies, pagination, ETags, security headers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

from apispec import BasePlugin
from flask import Flask, Response, current_app, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import PreconditionFailed, UnsupportedMediaType

from core.auth import is_platform_admin_request, per_user_limit_key
from core.db import Page
from core.errors import PROBLEM_MIMETYPE, ValidationFailed
from core.extensions import api, csrf, limiter
from core.storage import content_disposition

F = TypeVar("F", bound=Callable[..., Any])

BEARER = [{"bearerAuth": []}]
PUBLIC: list[dict[str, list[str]]] = []


class ApiArgumentsParser(FlaskParser):
    """webargs' parser, stricter: query arguments obey the schema's ``unknown`` (ours refuse strangers, so a
    mistyped filter is a 422 rather than silently ignored), and JSON the decoder chokes on is a 400.

    It adds the ``multipart`` location: the form fields and the file parts of one multipart/form-data body,
    read by one schema, so the OpenAPI document describes the body as one requestBody (OpenAPI 3 has no
    ``formData`` parameters, which two separate ``form`` and ``files`` schemas would produce)."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
        "multipart": None,
    }

    def load_multipart(self, req: Any, schema: Any) -> MultiDictProxy:
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as exc:  # nesting too deep, an integer literal too long
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document. `errors` names each offending field of a request.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem (`about:blank` when generic)"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "description": "Dotted name of the field, empty for the whole body"},
                    "pointer": {"type": "string", "description": "The same place as a JSON pointer fragment"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}
_PROBLEM_CONTENT = {PROBLEM_MIMETYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


class ProblemResponses(BasePlugin):
    """apispec plugin: document every error response as what ``core.errors`` sends, an
    ``application/problem+json`` document, instead of flask-smorest's ``application/json`` ``Error`` schema."""

    def init_spec(self, spec: Any) -> None:
        spec.components.schema("Problem", PROBLEM_SCHEMA)

    def operation_helper(self, path: Any = None, operations: Any = None, **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for code, response in list(responses.items()):
                if str(code) != "default" and not (str(code).isdigit() and int(code) >= 400):
                    continue
                if isinstance(response, str):  # a flask-smorest component (UNPROCESSABLE_ENTITY, DEFAULT_ERROR)
                    phrase = "Error" if str(code) == "default" else HTTPStatus(int(code)).phrase
                    responses[code] = {"description": phrase, "content": dict(_PROBLEM_CONTENT)}
                elif isinstance(response, dict):
                    response["content"] = dict(_PROBLEM_CONTENT)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }
    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 20, "max_page_size": 100}


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> ApiBlueprint:
    """A blueprint under /api/v1; bearer-authenticated, so exempt from the cookie CSRF check."""
    blp = ApiBlueprint(name, import_name, url_prefix="/api/v1" + url_prefix, description=description)
    csrf.exempt(blp)
    return blp


def register(app: Flask, *blueprints: ApiBlueprint) -> None:
    for blp in blueprints:
        api.register_blueprint(blp)


def accepts(*mimetypes: str) -> Callable[[F], F]:
    """Declare the request body types a view takes (default: application/json)."""

    def mark(fn: F) -> F:
        fn._accepts = mimetypes  # type: ignore[attr-defined]
        return fn

    return mark


def organisation_creation_limit(**options: Any) -> Callable[[F], F]:
    """The rate limit on creating organisations (``ORGANISATION_SIGNUP_RATE_LIMIT``), per person, for the page and
    the API alike: platform admins are exempt, and a refused attempt (a typo in the form) does not count."""
    return limiter.shared_limit(  # type: ignore[return-value]
        lambda: current_app.config["ORGANISATION_SIGNUP_RATE_LIMIT"],
        scope="organisation-create",  # one count for the page and the API
        key_func=per_user_limit_key,
        exempt_when=is_platform_admin_request,
        deduct_when=lambda response: response.status_code < 400,
        **options,
    )


def uploaded_bytes(what: str) -> bytes:
    """The body of an upload endpoint: the multipart field ``file``, or the raw body of any other accepted type;
    a multipart request without the field is a 422 naming it (``what``: "the image", "the CSV")."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed.field("file", f"Send {what} as the form field 'file'.")
        return upload.read()
    return request.get_data()


def _body_types_for_request() -> tuple[str, ...]:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return ("application/json",)
    view_class = getattr(view, "view_class", None)
    target = getattr(view_class, request.method.lower(), None) if view_class else view
    return getattr(target, "_accepts", ("application/json",))


def enforce_json_body() -> None:
    """415 for an API request whose body is not of a type the view takes (before any parsing)."""
    if not request.path.startswith("/api/") or request.method not in {"POST", "PUT", "PATCH"}:
        return
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
    if not has_body:
        return
    allowed = _body_types_for_request()
    if request.mimetype not in allowed and not ("application/json" in allowed and request.mimetype.endswith("+json")):
        raise UnsupportedMediaType(f"Send the body as {' or '.join(allowed)} (got {request.mimetype or 'none'}).")


def set_page(pagination_parameters: Any, page: Page[Any]) -> list[Any]:
    """Tell flask-smorest the total (for the X-Pagination header) and return the items."""
    pagination_parameters.item_count = page.total
    return page.items


def etag_of(*parts: Any) -> str:
    return '"' + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32] + '"'


def version_etag(kind: str, obj_id: Any, version: int) -> str:
    return f'W/"{kind}-{obj_id}-v{version}"'


def expected_version(kind: str, obj_id: Any, current_version: int | None = None) -> int | None:
    """The version named by If-Match, None when the header is absent; 412 if it names another object."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    if header.strip() == "*":
        return current_version
    for candidate in header.split(","):
        tag = candidate.strip().removeprefix("W/").strip('"')
        prefix = f"{kind}-{obj_id}-v"
        if tag.startswith(prefix) and tag[len(prefix) :].isdigit():
            return int(tag[len(prefix) :])
    raise PreconditionFailed("If-Match does not name a version of this resource.")


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
    )
    if current_app.config["BASE_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def streamed_attachment(chunks: Iterator[bytes], *, filename: str, mimetype: str) -> Response:
    """A download made while it is sent (an archive), never cached by anyone on the way."""
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _export_limit() -> str:
    return current_app.config["EXPORT_RATE_LIMIT"]


# Building an archive reads every file a person ever uploaded: the page and the API share one budget.
export_limit = limiter.shared_limit(_export_limit, scope="personal-data-export")
