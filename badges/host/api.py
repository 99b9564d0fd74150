"""The OB 3.0 API of the "Host" role under ``/ims/ob/v3p0``: the service description, the OAuth 2.0
endpoints, ``/credentials`` and ``/profile``. Resource errors are the spec's ``Imsx_StatusInfo`` documents;
the OAuth endpoints answer in RFC 6749 / RFC 7591 form, as OAuth clients expect."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from badges.host import services, upsert
from badges.host.oauth import (
    CREDENTIAL_READ,
    CREDENTIAL_UPSERT,
    PROFILE_READ,
    PROFILE_UPDATE,
    SCOPES,
    require_oauth,
    server,
)
from core.errors import ServiceError
from core.extensions import csrf, limiter
from core.models import User

bp = Blueprint("obapi", __name__, url_prefix="/ims/ob/v3p0", template_folder="templates")
PREFIX = "/ims/ob/v3p0"

_MINOR = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    415: "invalid_data",
    422: "invalid_data",
    429: "server_busy",
}


def status_info(status: int, description: str, minor: str | None = None) -> Response:
    """An ``Imsx_StatusInfo`` error document (OB 3.0 § 6 responses, 1EdTech's common status object)."""
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": minor or _MINOR.get(status, "internal_server_error"),
                }
            ]
        },
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


def is_api_path(path: str) -> bool:
    return path.startswith(PREFIX + "/") and not path.startswith(PREFIX + "/oauth/")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _user(*scopes: str) -> User:
    token = require_oauth.acquire_token(list(scopes))
    return token.user


def _absolute(endpoint: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint)


@bp.get("/discovery")
def discovery() -> Any:
    """The Service Description Document (OB 3.0 § 6.3): an OpenAPI 3.0 document naming our endpoints."""
    base = current_app.config["BASE_URL"].rstrip("/")
    token_url = _absolute("obapi.token")
    about = _absolute("obapi.about")
    privacy = current_app.config["OB_API_PRIVACY_POLICY_URL"] or about
    terms = current_app.config["OB_API_TERMS_URL"] or about
    secured = lambda scope: [{"OAuth2ACG": [scope]}]  # noqa: E731
    return {
        "openapi": "3.0.1",
        "info": {
            "title": "Open Badges API",
            "version": "3.0",
            "description": "The Open Badges 3.0 API of this micro-credential service (Host role).",
            "termsOfService": terms,
            "x-imssf-privacyPolicyUrl": privacy,
        },
        "servers": [{"url": base + PREFIX}],
        "tags": [{"name": "OpenBadgeCredentials"}, {"name": "Discovery"}],
        "paths": {
            "/credentials": {
                "get": {
                    "tags": ["OpenBadgeCredentials"],
                    "operationId": "getCredentials",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                    ],
                    "responses": {"200": {"description": "The earner's OpenBadgeCredentials."}},
                    "security": secured(CREDENTIAL_READ),
                },
                "post": {
                    "tags": ["OpenBadgeCredentials"],
                    "operationId": "upsertCredential",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {"description": "The credential replaced an earlier copy (or is one of our own)."},
                        "201": {"description": "The credential was added to the earner's backpack."},
                    },
                    "security": secured(CREDENTIAL_UPSERT),
                },
            },
            "/profile": {
                "get": {
                    "tags": ["Profile"],
                    "operationId": "getProfile",
                    "responses": {"200": {"description": "The earner's Profile."}},
                    "security": secured(PROFILE_READ),
                },
                "put": {
                    "tags": ["Profile"],
                    "operationId": "putProfile",
                    "responses": {"200": {"description": "The Profile as it now is."}},
                    "security": secured(PROFILE_UPDATE),
                },
            },
            "/discovery": {
                "get": {
                    "tags": ["Discovery"],
                    "operationId": "getServiceDescription",
                    "responses": {"200": {"description": "This document."}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "OAuth2ACG": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 Authorization Code Grant authorization",
                    "x-imssf-name": "Micro-credentials",
                    "x-imssf-privacyPolicyUrl": privacy,
                    "x-imssf-registrationUrl": _absolute("obapi.register"),
                    "x-imssf-termsOfServiceUrl": terms,
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": _absolute("obapi_pages.authorize"),
                            "tokenUrl": token_url,
                            "refreshUrl": token_url,
                            "scopes": SCOPES,
                        }
                    },
                }
            },
            "schemas": {},
        },
    }


@bp.get("/about")
def about() -> str:
    """For people: what an application gets through the API, how the earner stays in control."""
    return render_template("host/about.html", scopes=SCOPES)


@bp.post("/oauth/register")
@csrf.exempt
@limiter.limit(_login_limit)
def register() -> Any:
    """Dynamic client registration (RFC 7591; OB 3.0 § 7.2.1)."""
    if not request.is_json or not isinstance(request.get_json(silent=True), dict):
        return {"error": "invalid_client_metadata", "error_description": "Send the client metadata as JSON."}, 400
    return server.create_endpoint_response("client_registration")


@bp.post("/oauth/token")
@csrf.exempt
@limiter.limit(_login_limit)
def token() -> Any:
    """The token endpoint: an authorization code (with its PKCE verifier) or a refresh token for tokens."""
    return server.create_token_response()


@bp.post("/oauth/revoke")
@csrf.exempt
@limiter.limit(_login_limit)
def revoke() -> Any:
    """Token revocation (RFC 7009)."""
    return server.create_endpoint_response("revocation")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _BadQuery(f"'{name}' must be a whole number from {low} to {high}.")
    return int(raw)


class _BadQuery(Exception):
    pass


@bp.get("/credentials")
def get_credentials() -> Response:
    """getCredentials (OB 3.0 § 6.2.2) with the paging headers of § 6.4."""
    user = _user(CREDENTIAL_READ)
    unknown = sorted(set(request.args) - {"limit", "offset", "since"})
    if unknown:
        raise _BadQuery(f"Unknown query parameter '{unknown[0]}'.")
    limit = _int_arg("limit", 20, 1, services.MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 1_000_000)
    since = None
    if (raw := request.args.get("since")) is not None:
        try:
            since = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            raise _BadQuery("'since' must be a date-time with a time zone, e.g. 2024-01-01T00:00:00Z.")
    credentials, total = services.list_credentials(actor=user, limit=limit, offset=offset, since=since)
    response = Response(json.dumps({"credential": credentials}), mimetype="application/json")
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = _links(limit=limit, offset=offset, total=total, since=request.args.get("since"))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _links(*, limit: int, offset: int, total: int, since: str | None) -> str:
    url = _absolute("obapi.get_credentials")

    def at(rel: str, position: int) -> str:
        query = {"limit": limit, "offset": position} | ({"since": since} if since else {})
        return f'<{url}?{urlencode(query)}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = []
    if offset + limit < total:
        links.append(at("next", offset + limit))
    links.append(at("last", last))
    links.append(at("first", 0))
    if offset > 0:
        links.append(at("prev", max(0, min(offset - limit, last))))
    return ", ".join(links)


@bp.post("/credentials")
@csrf.exempt
def upsert_credential() -> Response:
    """upsertCredential (OB 3.0 § 6.2.3): a verified credential about the earner into their backpack; 201 when
    new, 200 when it replaced the earlier copy (see ``badges.host.upsert`` for what is accepted)."""
    user = _user(CREDENTIAL_UPSERT)
    if request.mimetype == "application/json":
        value: Any = request.get_json(silent=True)
        if not isinstance(value, dict):
            return status_info(400, "Send the OpenBadgeCredential as a JSON object.")
    elif request.mimetype == "text/plain":
        value = request.get_data(as_text=True)
    else:
        return status_info(415, "Send application/json (a credential) or text/plain (a compact VC-JWT).")
    base = current_app.config["BASE_URL"].rstrip("/")
    credential, created = upsert.upsert_credential(actor=user, value=value, base=base)
    response = _json(credential)
    response.status_code = 201 if created else 200
    return response


@bp.get("/profile")
def get_profile() -> Response:
    """getProfile (OB 3.0 § 6.2.4): the signed-in earner's Profile."""
    user = _user(PROFILE_READ)
    return _json(services.profile_of(user))


@bp.put("/profile")
@csrf.exempt
def put_profile() -> Response:
    """putProfile (OB 3.0 § 6.2.5): the whole Profile; only the name can change."""
    user = _user(PROFILE_UPDATE)
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        return status_info(400, "Send the whole Profile as a JSON object (Content-Type: application/json).")
    return _json(services.update_profile(actor=user, profile=body))


def _json(body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.errorhandler(OAuth2Error)
def _oauth_error(exc: OAuth2Error) -> Response:
    status = exc.status_code or 400
    if not is_api_path(request.path):
        return server.handle_error_response(None, exc)
    response = status_info(status, exc.description or exc.error or "Not authorized.")
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{exc.error or "invalid_token"}"'
    return response


@bp.errorhandler(_BadQuery)
def _bad_query(exc: _BadQuery) -> Response:
    return status_info(400, str(exc), "invalid_query_parameter")


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Response:
    status = 400 if exc.status == 422 else exc.status
    return status_info(status, exc.detail)


def http_error(exc: HTTPException) -> Response:
    """Routing errors under the prefix (404, 405) and limits (429), in the spec's form."""
    response = status_info(exc.code or 500, exc.description or exc.name)
    for header, value in exc.get_headers():
        if header.lower() not in {"content-type", "content-length"}:
            response.headers[header] = value
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    fallback = app.error_handler_spec[None][None][HTTPException]

    def _http_error(exc: HTTPException) -> Response:
        return http_error(exc) if is_api_path(request.path) else fallback(exc)

    app.register_error_handler(HTTPException, _http_error)
