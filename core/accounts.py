"""Accounts: users (sign-up, creation by an admin, profile, password strength), signing in and API access tokens,
password resets by mail, and personal API tokens.

Every function takes keyword arguments and the acting user, checks permission with ``authorize``,
``flush``es, records an audit event for each change and leaves the commit to the caller's boundary.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from core import audit, clock, mail
from core.auth import (
    API_TOKEN_PREFIX,
    check_password,
    find_user_by_email,
    hash_password,
    issue_access_token,
    new_secret_token,
    token_digest,
)
from core.authz import authorize, can
from core.db import Page, db, like_pattern, paginate
from core.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from core.i18n import recipient_language
from core.models import (
    ApiToken,
    PasswordResetToken,
    User,
)

USER_FIELDS = ("email", "name", "is_platform_admin", "is_active")


MIN_PASSWORD_LENGTH = 10


def check_password_strength(password: str, *, email: str = "", field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.field(field, f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if email and password.strip().lower() == email.strip().lower():
        raise ValidationFailed.field(field, "The password must not be your email address.")
    if len(set(password)) < 4:
        raise ValidationFailed.field(field, "The password is too easy to guess.")


def _ensure_email_free(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise Conflict(
            "An account with this email address already exists.",
            errors=[{"field": "email", "pointer": "#/email", "detail": "Already registered."}],
        )


def _new_user(*, email: str, name: str, password: str | None, is_platform_admin: bool = False) -> User:
    email = email.strip()
    _ensure_email_free(email)
    if password is not None:
        check_password_strength(password, email=email)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=hash_password(password) if password is not None else None,
        is_platform_admin=is_platform_admin,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent registration won the race for this email
        raise Conflict("An account with this email address already exists.") from None
    return user


def register(*, email: str, name: str, password: str) -> User:
    """Self-service sign-up: anyone may become an earner, when the installation allows it."""
    if not current_app.config["ALLOW_SIGNUP"]:
        raise Forbidden("Sign-up is closed on this installation; ask an administrator for an invitation.")
    user = _new_user(email=email, name=name, password=password)
    audit.record(actor=user, action="user.registered", obj=user, after=audit.snapshot(user, USER_FIELDS))
    return user


def create_user(
    *, actor: User, email: str, name: str, password: str | None = None, is_platform_admin: bool = False
) -> User:
    """An account made by a platform admin (without a password the user sets one by reset link)."""
    authorize(actor, "user.manage")
    user = _new_user(email=email, name=name, password=password, is_platform_admin=is_platform_admin)
    audit.record(actor=actor, action="user.created", obj=user, after=audit.snapshot(user, USER_FIELDS))
    if password is None:
        _send_reset_link(user, subject="Your account is ready: choose a password")
    return user


def get_user(*, actor: User, user_id: uuid.UUID) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if not can(actor, "user.read", user):  # other people's accounts answer as unknown ids do
        raise NotFound("No such user.")
    return user


def list_users(*, actor: User, page: int, page_size: int, q: str | None = None) -> Page[User]:
    authorize(actor, "user.manage")
    stmt = select(User).order_by(User.created_at, User.id)
    if q:
        like = like_pattern(q)
        stmt = stmt.where(
            or_(func.lower(User.email).like(like, escape="\\"), func.lower(User.name).like(like, escape="\\"))
        )
    return paginate(stmt, page=page, page_size=page_size)


def update_user(*, actor: User, user_id: uuid.UUID, changes: dict[str, Any]) -> User:
    """Platform admins change name, active flag and platform-admin flag of any account."""
    authorize(actor, "user.manage")
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor.id and (changes.get("is_active") is False or changes.get("is_platform_admin") is False):
        raise Conflict("You cannot deactivate yourself or remove your own platform-admin rights.")
    before = audit.snapshot(user, USER_FIELDS)
    for field in ("name", "is_active", "is_platform_admin"):
        if field in changes:
            setattr(user, field, changes[field].strip() if field == "name" else changes[field])
    if changes.get("is_active") is False:
        user.token_version += 1  # signs the user out everywhere
    db.session.flush()
    audit.record(actor=actor, action="user.updated", obj=user, before=before, after=audit.snapshot(user, USER_FIELDS))
    return user


def update_profile(
    *, actor: User, name: str | None = None, password: str | None = None, current_password: str | None = None
) -> User:
    """A user changes their own name or password (the latter needs the current one)."""
    if password is not None:  # check everything before changing anything: a refusal leaves no trace
        if current_password is None or not check_password(actor, current_password):
            raise ValidationFailed.field("current_password", "The current password is not correct.")
        check_password_strength(password, email=actor.email)
    before = audit.snapshot(actor, USER_FIELDS)
    if name is not None:
        actor.name = name.strip()
    if password is not None:
        actor.password_hash = hash_password(password)
        actor.token_version += 1
    db.session.flush()
    audit.record(
        actor=actor,
        action="user.profile_updated",
        obj=actor,
        before=before,
        after=audit.snapshot(actor, USER_FIELDS) | {"password_changed": password is not None},
    )
    return actor


def authenticate(*, email: str, password: str) -> User:
    """The active user with this email and password, or a 401 that does not say which was wrong."""
    user = find_user_by_email(email)
    if not check_password(user, password) or user is None or not user.is_active:
        raise Unauthorized("The email address or password is not correct.")
    user.last_login_at = clock.now()
    audit.record(actor=user, action="user.signed_in", obj=user)
    return user


def issue_token(*, email: str, password: str) -> tuple[str, int]:
    user = authenticate(email=email, password=password)
    return issue_access_token(user)


def _send_reset_link(user: User, *, subject: str | None = None) -> None:
    token, digest = new_secret_token()
    ttl = timedelta(seconds=current_app.config["PASSWORD_RESET_TTL"])
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=digest, expires_at=clock.now() + ttl))
    db.session.flush()
    link = f"{current_app.config['BASE_URL']}/password-reset/{token}"
    with recipient_language(user):
        mail.send(
            to=user.email,
            subject=subject or _("Reset your password"),
            body=_(
                "Hello %(name)s,\n\nChoose a new password here (valid %(minutes)d minutes):\n%(link)s\n\n"
                "If you did not ask for this, ignore this message.",
                name=user.name,
                minutes=int(ttl.total_seconds() // 60),
                link=link,
            ),
        )


def request_password_reset(*, email: str) -> None:
    """Send a reset link if the account exists; say nothing either way (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    _send_reset_link(user)
    audit.record(actor=None, action="user.password_reset_requested", obj=user)


def reset_password(*, token: str, password: str) -> User:
    """Set a new password with a one-time reset token; every other session and token stops working."""
    reset = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= clock.now():
        raise ValidationFailed.field("token", "This reset link is invalid, used or expired; ask for a new one.")
    user = reset.user
    check_password_strength(password, email=user.email)
    user.password_hash = hash_password(password)
    user.token_version += 1
    now = clock.now()
    # Every other outstanding link of this user dies with this one.
    for other in db.session.scalars(
        select(PasswordResetToken).where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
    ):
        other.used_at = now
    db.session.flush()
    audit.record(actor=user, action="user.password_reset", obj=user)
    return user


def create_api_token(*, actor: User, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A personal token for scripts; the secret is returned once and stored only hashed."""
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationFailed.field("expires_at", "Must be in the future.")
    token, digest = new_secret_token(API_TOKEN_PREFIX)
    api_token = ApiToken(
        user_id=actor.id,
        name=name.strip(),
        prefix=token[: len(API_TOKEN_PREFIX) + 6],
        token_hash=digest,
        expires_at=expires_at,
    )
    db.session.add(api_token)
    db.session.flush()
    audit.record(actor=actor, action="api_token.created", obj=api_token, after={"name": api_token.name})
    return api_token, token


def list_api_tokens(*, actor: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == actor.id).order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def revoke_api_token(*, actor: User, token_id: uuid.UUID) -> ApiToken:
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or api_token.user_id != actor.id:
        raise NotFound("No such API token.")
    if api_token.revoked_at is None:
        api_token.revoked_at = clock.now()
        db.session.flush()
        audit.record(actor=actor, action="api_token.revoked", obj=api_token)
    return api_token


def set_language(*, user: User, locale: str | None) -> None:
    """Save the language of ``user``'s pages and mail (None: follow the browser)."""
    if user.locale == locale:
        return
    before = user.locale
    user.locale = locale
    db.session.flush()
    audit.record(
        actor=user, action="user.language_changed", obj=user, before={"locale": before}, after={"locale": locale}
    )
