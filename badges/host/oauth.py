"""The OAuth 2.0 authorization server of the OB 3.0 API, built on Authlib: dynamic client registration
(RFC 7591), the authorization code grant with PKCE (S256 only, RFC 7636), refresh tokens, token revocation
(RFC 7009) and the bearer-token check of the resource endpoints. Authlib does the protocol; this module only
says where clients, codes and tokens are kept."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask
from sqlalchemy import select, update

from badges.host.models import OAuthApproval, OAuthClient, OAuthCode, OAuthToken
from core import clock
from core.auth import token_digest
from core.db import db
from core.models import User

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ = SCOPE_PREFIX + "credential.readonly"
CREDENTIAL_UPSERT = SCOPE_PREFIX + "credential.upsert"
PROFILE_READ = SCOPE_PREFIX + "profile.readonly"
PROFILE_UPDATE = SCOPE_PREFIX + "profile.update"
# The scopes of OB 3.0 § 6.2.1, each with what the consent page tells the earner.
SCOPES = {
    CREDENTIAL_READ: "Permission to read OpenBadgeCredentials for the authenticated entity.",
    CREDENTIAL_UPSERT: "Permission to create or update OpenBadgeCredentials for the authenticated entity.",
    PROFILE_READ: "Permission to read the profile for the authenticated entity.",
    PROFILE_UPDATE: "Permission to update the profile for the authenticated entity.",
}
CODE_LIFETIME = timedelta(minutes=5)
GRANT_TYPES = ["authorization_code", "refresh_token"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _query_client(client_id: str) -> OAuthClient | None:
    if not isinstance(client_id, str) or len(client_id) > 64:
        return None
    return db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def _approval(user_id: Any, client: OAuthClient) -> OAuthApproval | None:
    return db.session.scalar(
        select(OAuthApproval).where(OAuthApproval.user_id == user_id, OAuthApproval.client_pk == client.id)
    )


def _approved(user: User, client: OAuthClient) -> bool:
    approval = _approval(user.id, client)
    return approval is not None and approval.revoked_at is None


def _save_token(token: dict[str, Any], request: Any) -> None:
    refresh = token.get("refresh_token")
    db.session.add(
        OAuthToken(
            access_token_digest=token_digest(token["access_token"]),
            refresh_token_digest=token_digest(refresh) if refresh else None,
            client_pk=request.client.id,
            user_id=request.user.id,
            scope=token.get("scope", ""),
            issued_at=int(clock.now().timestamp()),
            expires_in=int(token["expires_in"]),
        )
    )
    db.session.flush()


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload
        db.session.add(
            OAuthCode(
                code_digest=token_digest(code),
                client_pk=request.client.id,
                user_id=request.user.id,
                redirect_uri=payload.redirect_uri or "",
                scope=request.scope or "",
                code_challenge=payload.data.get("code_challenge") or "",
                code_challenge_method=payload.data.get("code_challenge_method") or "S256",
                auth_time=int(clock.now().timestamp()),
                expires_at=clock.now() + CODE_LIFETIME,
            )
        )
        db.session.flush()

    def query_authorization_code(self, code: str, client: OAuthClient) -> OAuthCode | None:
        if not isinstance(code, str) or len(code) > 200:
            return None
        row = db.session.scalar(
            select(OAuthCode).where(OAuthCode.code_digest == token_digest(code), OAuthCode.client_pk == client.id)
        )
        if row is None or row.expires_at < clock.now():
            return None
        return row

    def delete_authorization_code(self, authorization_code: OAuthCode) -> None:
        db.session.delete(authorization_code)
        db.session.flush()

    def authenticate_user(self, authorization_code: OAuthCode) -> User | None:
        user = authorization_code.user
        # A code issued before the earner revoked the client is worth nothing.
        if not user.is_active or not _approved(user, self.request.client):
            return None
        return user


class S256Challenge(CodeChallenge):
    """PKCE on every authorization request (OB 3.0 § 7.2.3), with S256: "plain", also what an absent method
    means (RFC 7636 § 4.3), would show the verifier to whoever sees the request."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': this service requires PKCE.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Use 'code_challenge_method=S256'.")
        super().validate_code_challenge(grant, redirect_uri)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        if not isinstance(refresh_token, str) or len(refresh_token) > 200:
            return None
        row = db.session.scalar(
            select(OAuthToken).where(OAuthToken.refresh_token_digest == token_digest(refresh_token))
        )
        if row is None or row.revoked_at is not None:
            return None
        return row

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        user = refresh_token.user
        if not user.is_active or not _approved(user, refresh_token.client):
            return None
        return user

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        refresh_token.revoked_at = clock.now()
        db.session.flush()


class RegistrationEndpoint(ClientRegistrationEndpoint):
    """Open registration (OB 3.0 § 7.2.1): anyone may register; the earner's consent is what grants access."""

    def authenticate_token(self, request: Any) -> bool:
        return True

    def get_server_metadata(self) -> dict[str, Any]:
        return {
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "grant_types_supported": GRANT_TYPES,
            "token_endpoint_auth_methods_supported": AUTH_METHODS,
        }

    def generate_client_secret(self, request: Any) -> str:
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> OAuthClient:
        _check_metadata(client_metadata)
        client = OAuthClient(
            client_id=client_info["client_id"],
            client_secret_digest=token_digest(client_info["client_secret"]),
            client_name=client_metadata["client_name"].strip(),
            client_uri=client_metadata["client_uri"],
            redirect_uris=list(client_metadata["redirect_uris"]),
            scope=client_metadata["scope"],
            token_endpoint_auth_method=client_metadata.get("token_endpoint_auth_method") or "client_secret_basic",
            client_metadata=client_metadata,
        )
        db.session.add(client)
        db.session.flush()
        return client


def _check_metadata(metadata: dict[str, Any]) -> None:
    """What Authlib's claim checks leave to us: the members OB 3.0 needs, their sizes, safe redirect URIs."""
    for name in ("client_name", "client_uri", "redirect_uris", "scope"):
        if not metadata.get(name):
            raise InvalidClientMetadataError(f"'{name}' is required.")
    name = metadata["client_name"]
    if not isinstance(name, str) or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InvalidClientMetadataError("'client_name' must be text of at most 200 characters.")
    for key in ("client_uri", "logo_uri", "tos_uri", "policy_uri"):
        value = metadata.get(key)
        if value is not None and (
            not isinstance(value, str) or len(value) > 500 or urlsplit(value).scheme not in {"https", "http"}
        ):
            raise InvalidClientMetadataError(f"'{key}' must be an http(s) URL of at most 500 characters.")
    uris = metadata["redirect_uris"]
    if not isinstance(uris, list) or len(uris) > 10:
        raise InvalidRedirectURIError("Give 1 to 10 redirect URIs.")
    for uri in uris:
        parts = urlsplit(uri) if isinstance(uri, str) and len(uri) <= 500 else None
        loopback = parts is not None and parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts is None or not (parts.scheme == "https" or loopback) or not parts.hostname:
            raise InvalidRedirectURIError("Redirect URIs must be https URLs (http only to the loopback address).")
    if len(metadata["scope"]) > 1000:
        raise InvalidClientMetadataError("'scope' is too long.")


class TokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> OAuthToken | None:
        if not token_string or len(token_string) > 200:
            return None
        return db.session.scalar(select(OAuthToken).where(OAuthToken.access_token_digest == token_digest(token_string)))


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        digest = token_digest(token_string or "")
        return db.session.scalar(
            select(OAuthToken).where(
                (OAuthToken.access_token_digest == digest) | (OAuthToken.refresh_token_digest == digest)
            )
        )

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        token.revoked_at = clock.now()
        db.session.flush()


def revoke_all(user_id: Any, client: OAuthClient) -> None:
    """End every token and unused code of the earner for the client."""
    now = clock.now()
    db.session.execute(
        update(OAuthToken)
        .where(OAuthToken.user_id == user_id, OAuthToken.client_pk == client.id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    for code in db.session.scalars(
        select(OAuthCode).where(OAuthCode.user_id == user_id, OAuthCode.client_pk == client.id)
    ):
        db.session.delete(code)
    db.session.flush()


server = AuthorizationServer()
require_oauth = ResourceProtector()


def init_app(app: Flask) -> None:
    """Configure the one server for ``app`` (token lifetime from ``OB_API_TOKEN_TTL``)."""
    ttl = app.config["OB_API_TOKEN_TTL"]
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": ttl, "refresh_token": ttl}
    app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
    server.init_app(app, query_client=_query_client, save_token=_save_token)
    server.scopes_supported = list(SCOPES)
    if not server._authorization_grants:  # one server object serves every app built in this process
        server.register_grant(AuthorizationCodeGrant, [S256Challenge(required=True)])
        server.register_grant(RefreshTokenGrant)
        server.register_endpoint(RegistrationEndpoint)
        server.register_endpoint(TokenRevocation)
        require_oauth.register_token_validator(TokenValidator())
