"""The OB 3.0 API's OAuth 2.0 records: registered clients, each earner's approval of a client, authorization
codes and tokens. Secrets, codes and tokens are stored as SHA-256 digests only, as personal API tokens are."""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.auth import token_digest
from core.db import IdMixin, JSONType, TimestampMixin, db
from core.models import User


class OAuthClient(IdMixin, TimestampMixin, db.Model):
    """An application registered through dynamic client registration (RFC 7591)."""

    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_secret_digest: Mapped[str] = mapped_column(sa.String(64))
    client_name: Mapped[str] = mapped_column(sa.String(200))
    client_uri: Mapped[str] = mapped_column(sa.String(500))
    redirect_uris: Mapped[list[str]] = mapped_column(JSONType)
    scope: Mapped[str] = mapped_column(sa.String(1000))
    token_endpoint_auth_method: Mapped[str] = mapped_column(sa.String(32))
    client_metadata: Mapped[dict[str, Any]]

    # What Authlib asks of a client (authlib.oauth2.rfc6749.ClientMixin).
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scopes this client registered; None (``invalid_scope``) when that leaves nothing."""
        allowed = set(self.scope.split())
        granted = " ".join(s for s in (scope or "").split() if s in allowed)
        return granted or None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(token_digest(client_secret), self.client_secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client_metadata.get("grant_types", ["authorization_code", "refresh_token"])


class OAuthApproval(IdMixin, TimestampMixin, db.Model):
    """An earner's consent to one client, with the scopes approved; revoking it ends every token it led to."""

    __tablename__ = "oauth_approvals"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_pk"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(sa.String(1000))
    approved_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()


class OAuthCode(IdMixin, db.Model):
    """A one-time authorization code with its PKCE challenge."""

    __tablename__ = "oauth_codes"

    code_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(sa.String(500))
    scope: Mapped[str] = mapped_column(sa.String(1000))
    code_challenge: Mapped[str] = mapped_column(sa.String(128))
    code_challenge_method: Mapped[str] = mapped_column(sa.String(8))
    auth_time: Mapped[int] = mapped_column(sa.BigInteger)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship()

    # What Authlib asks of a code (authlib.oauth2.rfc6749.AuthorizationCodeMixin).
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_nonce(self) -> None:
        return None


class OAuthToken(IdMixin, db.Model):
    """An access token and its refresh token (digests), for one earner and one client."""

    __tablename__ = "oauth_tokens"

    access_token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    refresh_token_digest: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("oauth_clients.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(1000))
    issued_at: Mapped[int] = mapped_column(sa.BigInteger)
    expires_in: Mapped[int]
    revoked_at: Mapped[datetime | None]

    client: Mapped[OAuthClient] = relationship()
    user: Mapped[User] = relationship()

    # What Authlib asks of a token (authlib.oauth2.rfc6749.TokenMixin).
    def check_client(self, client: OAuthClient) -> bool:
        return self.client_pk == client.id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.issued_at + self.expires_in < clock.now().timestamp()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or not self.user.is_active

    def get_user(self) -> User:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client


class HostedCredential(IdMixin, TimestampMixin, db.Model):
    """A credential from another issuer that a client upserted into the earner's backpack (``POST /credentials``),
    stored as sent once our verifier accepted it; keyed per earner by the credential's ``id``."""

    __tablename__ = "hosted_credentials"
    __table_args__ = (sa.UniqueConstraint("user_id", "credential_key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential's ``id``, or ``sha256:<digest of its canonical JSON>`` when it has none.
    credential_key: Mapped[str] = mapped_column(sa.String(500))
    issuer_id: Mapped[str] = mapped_column(sa.String(500))
    credential: Mapped[dict[str, Any]]
    jwt: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16))
