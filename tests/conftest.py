"""Test fixtures: one app per run, the schema built by the migrations, one rolled-back transaction per test.

Set TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run on PostgreSQL;
SQLite in a temporary file is the default.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from core import create_app, mail
from core.auth import issue_access_token
from core.db import db, empty_postgresql_schema
from core.extensions import limiter
from core.models import User

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
# Tests marked ``redis`` run real workers; each run keeps its keys under a prefix of its own.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
TEST_PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE_URL.startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def recreate_database(suffix: str, *, create: bool = True) -> str:
    """A PostgreSQL database of its own beside the test database (``<test database>_<suffix>``), dropped and, with
    ``create``, made empty again; its URL. For tests whose servers or faults cannot share the rolled-back
    transaction (CREATE/DROP DATABASE refuse a transaction, hence AUTOCOMMIT)."""
    import sqlalchemy as sa

    base = sa.engine.make_url(TEST_DATABASE_URL)
    name = f"{base.database}_{suffix}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_test_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "BASE_URL": "http://localhost",
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,  # cheap hashes keep the suite fast; production uses 64 MiB
        "LOGIN_RATE_LIMIT": "1000 per minute",
        **extra,
    }


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    empty_postgresql_schema(database_url)
    files = tmp_path_factory.mktemp("files")
    app = create_app(make_test_config(database_url, STORAGE_URL=f"file://{files}"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session ignores ``bind``; tests need it to join the test's transaction."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test runs inside one outer transaction that is rolled back afterwards."""
    if "app" not in request.fixturenames and not any(f in request.fixturenames for f in ("client", "session")):
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"class_": _BoundSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
        )
        limiter.reset()
        mail.sent.clear()
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def session(app: Flask) -> Any:
    return db.session


class _RequestScopedClient(FlaskClient):
    """Runs each request in a fresh app context, as a server does: a new ``g`` (signed-in user, CSRF state)
    and a new session joined to the test's connection, so a failed request rolls back only its own work."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if self.preserve_context:  # ``with client:`` keeps the request's contexts for inspection
            return super().open(*args, **kwargs)
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = _RequestScopedClient
    return app.test_client()


def bearer(user: User) -> dict[str, str]:
    token, _ = issue_access_token(user)
    return {"Authorization": f"Bearer {token}"}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The response's RFC 9457 document, after checking its status, media type and members."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert body["instance"] == response.request.path
    assert body["type"] and body["title"] and isinstance(body["detail"], str)
    return body


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A local S3-compatible server (moto's server mode) on a free port, spoken to over HTTP; its endpoint URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the moto S3 server did not start")
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


S3_TEST_SETTINGS = {
    "S3_REGION": "us-east-1",
    "S3_ACCESS_KEY_ID": "testing",
    "S3_SECRET_ACCESS_KEY": "testing",
    "S3_PRESIGN_TTL": 60,
}


@pytest.fixture(scope="session")
def s3_bucket(s3_server: str) -> str:
    """A fresh bucket on the local S3 server; its name."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="evidence")
    return "evidence"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis of the task-queue tests; they skip, saying why, when it is unreachable (fail in CI)."""
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"needs Redis at {TEST_REDIS_URL} ({exc}); start redis-server or set TEST_REDIS_URL"
        if os.environ.get("REQUIRE_REDIS_TESTS"):
            pytest.fail(message)
        pytest.skip(message)
    return TEST_REDIS_URL
