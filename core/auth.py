"""Authentication: password hashing, one-time tokens, API access tokens and who is calling.

Three ways in: a session cookie (web pages, CSRF-protected), a short-lived bearer JWT from
``POST /api/v1/auth/token``, or a personal API token (``mct_…``) that scripts keep until revoked.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, request, session
from sqlalchemy import func, select

from core import clock
from core.db import db
from core.errors import Unauthorized
from core.models import ApiToken, User

API_TOKEN_PREFIX = "mct_"  # noqa: S105 (a prefix, not a secret)
JWT_ALGORITHM = "HS256"
SESSION_USER_KEY = "uid"
SESSION_VERSION_KEY = "uver"


def _hasher() -> PasswordHasher:
    config = current_app.config
    key = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"])
    cache = current_app.extensions.setdefault("password_hashers", {})
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return cache[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's. Takes as long for unknown users, so timing reveals nothing."""
    hasher = _hasher()
    stored = user.password_hash if user is not None and user.password_hash else None
    if stored is None:
        dummy = current_app.extensions.setdefault("dummy_password_hash", hasher.hash(secrets.token_hex(8)))
        with contextlib.suppress(VerificationError):
            hasher.verify(dummy, password)
        return False
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is not None and hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    return True


def new_secret_token(prefix: str = "") -> tuple[str, str]:
    """A fresh random token and the SHA-256 hex digest we store instead of it."""
    token = prefix + secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _jwt_key() -> bytes:
    # A key of its own, derived from SECRET_KEY, so API tokens and cookies never share one.
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"api-access-token", hashlib.sha256).digest()


def issue_access_token(user: User) -> tuple[str, int]:
    """A signed bearer token for ``user`` and its lifetime in seconds."""
    ttl = current_app.config["ACCESS_TOKEN_TTL"]
    issued = clock.now()
    claims = {
        "iss": current_app.config["BASE_URL"],
        "aud": current_app.config["BASE_URL"] + "/api",
        "sub": str(user.id),
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl),
        "ver": user.token_version,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _jwt_key(), algorithm=JWT_ALGORITHM), ttl


def user_from_access_token(token: str) -> User:
    try:
        claims = jwt.decode(
            token,
            _jwt_key(),
            algorithms=[JWT_ALGORITHM],
            audience=current_app.config["BASE_URL"] + "/api",
            issuer=current_app.config["BASE_URL"],
            options={"require": ["exp", "sub", "ver"]},
            leeway=0,
            # PyJWT checks exp against the wall clock; we check again with ours so tests can move time.
        )
        if claims["exp"] <= clock.now().timestamp():
            raise jwt.ExpiredSignatureError
        user_id = uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; request a new one.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("The access token is not valid.") from None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or claims["ver"] != user.token_version:
        raise Unauthorized("The access token is no longer valid.")
    return user


def user_from_api_token(token: str) -> User:
    api_token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    now = clock.now()
    if (
        api_token is None
        or api_token.revoked_at is not None
        or (api_token.expires_at is not None and api_token.expires_at <= now)
        or not api_token.user.is_active
    ):
        raise Unauthorized("The API token is not valid, expired or revoked.")
    # Record use at most every few minutes, so reads do not all turn into writes.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=5):
        api_token.last_used_at = now
    return api_token.user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate_request() -> User | None:
    """The user behind this request's bearer token or session cookie, or None for anonymous."""
    if "current_user" in g:
        return g.current_user
    user: User | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, credentials = header.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        if credentials.startswith(API_TOKEN_PREFIX):
            user = user_from_api_token(credentials)
        else:
            user = user_from_access_token(credentials)
    elif not request.path.startswith("/api/") and SESSION_USER_KEY in session:
        user = _user_from_session()
    g.current_user = user
    return user


def _user_from_session() -> User | None:
    try:
        user = db.session.get(User, uuid.UUID(session[SESSION_USER_KEY]))
    except (ValueError, TypeError):
        user = None
    if user is None or not user.is_active or session.get(SESSION_VERSION_KEY) != user.token_version:
        session.clear()
        return None
    return user


def current_user() -> User | None:
    return authenticate_request()


def require_user() -> User:
    """The signed-in user, or a 401."""
    user = authenticate_request()
    if user is None:
        raise Unauthorized("Sign in or send a bearer token.")
    return user


def start_session(user: User) -> None:
    session.clear()
    session[SESSION_USER_KEY] = str(user.id)
    session[SESSION_VERSION_KEY] = user.token_version
    session.permanent = True
    g.current_user = user


def end_session() -> None:
    session.clear()
    g.current_user = None


def token_response(token: str, ttl: int) -> dict[str, Any]:
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


def per_user_limit_key() -> str:
    """A rate-limit key per signed-in person (Flask-Limiter ``key_func``) for actions that need an account: a
    school's people may share one address. Anonymous requests share one key; they are refused anyway."""
    user = current_user()
    return f"user:{user.id}" if user else "user:anonymous"


def is_platform_admin_request() -> bool:
    """For Flask-Limiter's ``exempt_when``: platform admins are not rate limited where this is used."""
    user = current_user()
    return bool(user and user.is_platform_admin)
