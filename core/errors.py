"""Domain errors and their one HTTP shape, RFC 9457 ``application/problem+json``.

Services raise subclasses of ``ServiceError``; the handlers here translate them (and every werkzeug
HTTP error) once, at the edge. Web pages get an HTML error page instead.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, json, render_template, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from core.db import PageOutOfRange, db

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"


class ServiceError(Exception):
    """A rule was broken; carries the HTTP status and problem type the edge answers with."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra

    def messages_by_field(self) -> dict[str, list[str]]:
        """The errors as a page shows them beside their fields; ``_form`` holds a refusal that names no field."""
        return {e["field"]: [e["detail"]] for e in self.errors} or {"_form": [self.detail]}


class Unauthorized(ServiceError):
    status, type_slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(ServiceError):
    status, type_slug, title = 403, "forbidden", "Not allowed"


class NotFound(ServiceError):
    status, type_slug, title = 404, "not-found", "Not found"


class Conflict(ServiceError):
    status, type_slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(ServiceError):
    status, type_slug, title = 412, "precondition-failed", "The resource has changed"

    @classmethod
    def unless_current(cls, expected: int | None, actual: int, message: str) -> None:
        """Optimistic concurrency: refuse when the client's copy (``expected``, from If-Match) is outdated."""
        if expected is not None and expected != actual:
            raise cls(message)


class ValidationFailed(ServiceError):
    status, type_slug, title = 422, "validation-error", "Invalid input"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[field_error(field, message)])


def field_error(field: str, message: str) -> dict[str, str]:
    pointer = "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in field.split(".")) if field else ""
    return {"field": field, "pointer": "#" + pointer, "detail": message}


def flatten_messages(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """Turn marshmallow's nested error dict into a flat list naming each offending field."""
    out: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            out.extend(flatten_messages(value, f"{prefix}.{name}".strip(".") if name else prefix))
    elif isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            out.extend(field_error(prefix, m) for m in messages)
        else:
            for item in messages:
                out.extend(flatten_messages(item, prefix))
    else:
        out.append(field_error(prefix, str(messages)))
    return out


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": f"{current_app.config['BASE_URL']}/problems/{type_slug}" if type_slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE)


def wants_problem_json() -> bool:
    if request.path.startswith("/api/") or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_MIMETYPE])
    return best in {"application/json", PROBLEM_MIMETYPE}


_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
}


def handle_service_error(exc: ServiceError) -> Response:
    if wants_problem_json():
        return problem(exc.status, exc.title, exc.detail, type_slug=exc.type_slug, errors=exc.errors, **exc.extra)
    return _html_error(exc.status, exc.title, exc.detail)


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        log.exception("server error", exc_info=getattr(exc, "original_exception", exc))
    detail = exc.description or ""
    errors: list[dict[str, str]] = []
    data = getattr(exc, "data", None)  # webargs/flask-smorest put marshmallow messages here
    if isinstance(data, dict) and "messages" in data:
        messages = data["messages"]
        # strip webargs' location level ("json", "query", "files") so fields are named as the client sent them
        if isinstance(messages, dict):
            for location in ("json", "query", "form", "files", "multipart", "headers", "view_args"):
                if location in messages and len(messages) == 1:
                    messages = messages[location]
        errors = flatten_messages(messages)
        if status == 400 and any("Invalid JSON body" in e["detail"] for e in errors):
            detail, errors = "The request body is not valid JSON.", []
        elif errors:
            detail = "; ".join(f"{e['field'] or 'body'}: {e['detail']}" for e in errors[:5])
    if wants_problem_json():
        response = problem(status, exc.name, detail, type_slug=_SLUGS.get(status), errors=errors)
    else:
        response = _html_error(status, exc.name, detail)
    for header, value in exc.get_headers():
        if header.lower() not in {"content-type", "content-length"}:
            response.headers[header] = value
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and retry_after and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    return handle_http_exception(InternalServerError())


def _html_error(status: int, title: str, detail: str) -> Response:
    html = render_template("error.html", status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def handle_page_out_of_range(exc: PageOutOfRange) -> Response:
    return handle_service_error(ValidationFailed.field(exc.field, exc.message))


def handle_write_conflict(exc: Exception) -> Response:
    """A write lost a race (a unique key taken, or a row changed meanwhile): 409, never a 500."""
    log.warning("write conflict: %s", type(exc).__name__, exc_info=exc)
    db.session.rollback()
    return handle_service_error(Conflict("Someone else changed this at the same moment; reload it and try again."))


def init_app(app: Flask) -> None:
    app.register_error_handler(IntegrityError, handle_write_conflict)
    app.register_error_handler(StaleDataError, handle_write_conflict)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(PageOutOfRange, handle_page_out_of_range)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
