"""The endpoints a wallet calls: Credential Issuer and Authorization Server metadata, the offer by reference, the
token, nonce and credential endpoints of OID4VCI 1.0, and the VC-API exchange of the Learner Credential Wallet.

The token endpoint is written here rather than registered with the OB 3.0 API's Authlib server: the
pre-authorized code grant is anonymous (no ``client_id``, OID4VCI § 6.1), which Authlib's client authentication
does not admit. What it does is small: one digest lookup, one single-use code, one random token.
Errors are ``{"error": …, "error_description": …}`` with ``Cache-Control: no-store`` (RFC 6749 § 5.2).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, url_for

from badges.documents import CONTEXTS
from badges.oid4vci import holder, services
from badges.oid4vci.services import JWT_VC, LDP_VC, PRE_AUTHORIZED, WalletError
from core.db import db
from core.errors import ServiceError
from core.extensions import csrf, limiter

bp = Blueprint("oid4vci", __name__)
TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def issuer_identifier() -> str:
    """Our Credential Issuer Identifier (and Authorization Server issuer): the public base URL."""
    return current_app.config["BASE_URL"].rstrip("/")


def absolute(endpoint: str, **values: Any) -> str:
    return issuer_identifier() + url_for(endpoint, **values)


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def credential_issuer_metadata() -> dict[str, Any]:
    """OID4VCI § 12.2: what we issue (an OpenBadgeCredential, as ``ldp_vc`` and as ``jwt_vc_json``) and how."""
    binding = {
        "cryptographic_binding_methods_supported": ["did:key", "did:jwk", "jwk"],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(holder.PROOF_ALGORITHMS)}},
    }
    display = {
        "display": [
            {
                "name": "Open Badge",
                "locale": "en",
                "description": "A micro-credential earned by assessed evidence (Open Badges 3.0).",
            }
        ]
    }
    return {
        "credential_issuer": issuer_identifier(),
        "credential_endpoint": absolute("oid4vci.credential"),
        "nonce_endpoint": absolute("oid4vci.nonce"),
        "display": [{"name": current_app.config.get("SITE_NAME") or "Micro-credentials", "locale": "en"}],
        "credential_configurations_supported": {
            LDP_VC: {
                "format": "ldp_vc",
                "scope": "OpenBadgeCredential",
                "credential_signing_alg_values_supported": ["eddsa-rdfc-2022"],
                "credential_definition": {"@context": list(CONTEXTS), "type": list(TYPES)},
                "credential_metadata": display,
                **binding,
            },
            JWT_VC: {
                "format": "jwt_vc_json",
                "scope": "OpenBadgeCredential",
                "credential_signing_alg_values_supported": ["RS256"],
                "credential_definition": {"type": list(TYPES)},
                "credential_metadata": display,
                **binding,
            },
        },
    }


@bp.get("/.well-known/openid-credential-issuer")
def issuer_metadata() -> Response:
    return _json(credential_issuer_metadata())


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    """RFC 8414, for the wallet to find our token endpoint (the credential issuer is its own authorization
    server); only the anonymous pre-authorized code grant is offered here."""
    return _json(
        {
            "issuer": issuer_identifier(),
            "token_endpoint": absolute("oid4vci.token"),
            "grant_types_supported": [PRE_AUTHORIZED],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        }
    )


@bp.get("/oid4vci/offers/<code>")
def offer(code: str) -> Response:
    """The Credential Offer by reference (``credential_offer_uri``), while its code is unused and unexpired."""
    try:
        return _json(services.offer_by_reference(issuer=issuer_identifier(), code=code))
    except ServiceError as exc:
        return _json({"error": "invalid_request", "error_description": exc.detail}, 404)


@bp.post("/oid4vci/token")
@csrf.exempt
@limiter.limit(_limit)
def token() -> Response:
    form = request.form
    access_token, _ = services.redeem_code(
        grant_type=form.get("grant_type"), code=form.get("pre-authorized_code"), tx_code=form.get("tx_code")
    )
    return _json(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(services.TOKEN_TTL.total_seconds()),
            "authorization_details": [
                {"type": "openid_credential", "credential_configuration_id": c} for c in services.CONFIGURATIONS
            ],
        }
    )


@bp.post("/oid4vci/nonce")
@csrf.exempt
@limiter.limit(_limit)
def nonce() -> Response:
    return _json({"c_nonce": services.new_nonce()})


@bp.post("/oid4vci/credential")
@csrf.exempt
def credential() -> Response:
    body = request.get_json(silent=True) if request.mimetype == "application/json" else None
    if body is None:
        raise WalletError("invalid_credential_request", "Send the credential request as application/json.")
    return _json(
        services.issue_credential(
            authorization=request.headers.get("Authorization"), body=body, issuer=issuer_identifier()
        )
    )


@bp.post("/oid4vci/exchanges/<exchange>")
@csrf.exempt
@limiter.limit(_limit)
def exchange(exchange: str) -> Response:
    body = request.get_json(silent=True) if request.mimetype == "application/json" else None
    if body is None and not request.get_data():
        body = {}  # the wallet's first POST may come without a body
    url = absolute("oid4vci.exchange", exchange=exchange)
    return _json(services.exchange_step(exchange=exchange, body=body, issuer=issuer_identifier(), url=url))


@bp.errorhandler(WalletError)
def _wallet_error(exc: WalletError) -> Response:
    if exc.keep:  # a wrong PIN is counted even though the request fails
        db.session.commit()
    response = _json({"error": exc.error, "error_description": exc.description}, exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
