"""Cross-cutting pieces. Where things live: ``config``, ``extensions``, ``db`` (the transaction boundary,
paging), ``models`` (users, organisations, memberships, invitations, tokens, audit events, the outbox),
``auth`` (passwords, access tokens, the signed-in user), ``authz`` (the one authorisation helper),
``accounts`` (users, sign-in, password resets, personal API tokens), ``organisations`` (organisations,
members, invitations, their audit log), ``audit``, ``mail`` (the outbox), ``tasks`` (background jobs, on
Redis or inline), ``worker`` (the worker's entry point), ``storage`` (evidence files on disk or S3),
``privacy`` (the registries through which domains say what they hold about a person), ``exports`` (a
person's archive of their data), ``erasure`` (erasure requests and carrying them out), ``errors``
(problem+json), ``clock``, ``http``, ``health``, ``api`` / ``views`` / ``admin_views`` / ``privacy_views``,
``cli``, ``demo``.

Domain packages (standards, credentials, assessors, badges) import from here, never the reverse;
``create_app`` loads them by name from ``DOMAINS`` and calls each one's ``init_app``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.middleware.proxy_fix import ProxyFix

from core import config as config_module
from core import (
    errors,
    http,
    i18n,
    mail,  # noqa: F401 (registers the outbox's delivery jobs)
    tasks,
)
from core.db import db, run_after_commit
from core.extensions import api as openapi
from core.extensions import csrf, limiter, migrate

# Domain packages, in import order: each may use those before it, never those after.
DOMAINS = ("standards", "credentials", "assessors", "badges")


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then ``test_config``."""
    settings = config_module.load(overrides=test_config)
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR))
    app.config.update(settings)
    app.config.update(_derived_config(settings))
    if test_config:
        app.config.update(test_config)
    _configure_logging(app)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        config_module.INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    openapi.init_app(app, spec_kwargs={"extra_plugins": [http.ProblemResponses()]})
    openapi.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    errors.init_app(app)  # after api.init_app: our problem+json handlers replace flask-smorest's

    app.before_request(http.enforce_json_body)
    app.after_request(http.security_headers)
    app.after_request(_commit_or_rollback)  # runs first (after_request handlers run in reverse)

    from core import admin_views, cli, health, privacy_views, storage, views
    from core import api as core_api

    core_api.init_app(app)
    views.init_app(app)
    admin_views.init_app(app)
    privacy_views.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    storage.init_app(app)
    for name in DOMAINS:
        importlib.import_module(name).init_app(app)
    tasks.init_app(app)  # last: every domain has registered its jobs
    return app


def _derived_config(settings: dict[str, Any]) -> dict[str, Any]:
    secure = settings["BASE_URL"].startswith("https://")
    return {
        "TESTING": settings["APP_ENV"] == "test",
        "SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "__Host-session" if secure else "session",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "RATELIMIT_HEADERS_ENABLED": True,
        "API_TITLE": "Micro-credential service API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": "Authoring, assessment and Open Badges 3.0 issuing. Errors are RFC 9457 "
                "problem documents; list endpoints page with `page`/`page_size` and "
                "report totals in the `X-Pagination` header."
            },
            "security": http.BEARER,
        },
    }


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)


def _commit_or_rollback(response: Response) -> Response:
    """The transaction boundary of a request: commit once on success, roll everything back otherwise."""
    if response.status_code >= 400:
        db.session.rollback()
        return response
    try:
        db.session.commit()
    except (IntegrityError, StaleDataError) as exc:
        return errors.handle_write_conflict(exc)
    run_after_commit()  # only after the commit: a message never goes out for a change that did not happen
    return response
