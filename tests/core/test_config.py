import base64
import re
from pathlib import Path

import pytest

from core import config
from core.config import ConfigError, load

SAFE_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "KEY_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
    "BASE_URL": "https://badges.example.org",
    "DATABASE_URL": "postgresql+psycopg://app@db/app",
    "STORAGE_URL": "s3://bucket/evidence",
}


def test_defaults_run_in_development_without_any_environment():
    values = load(environ={})
    assert values["APP_ENV"] == "development"
    assert values["DATABASE_URL"].startswith("sqlite:///")
    assert values["BASE_URL"] == "http://127.0.0.1:5000"


def test_environment_overrides_defaults_and_is_parsed():
    values = load(environ={"ACCESS_TOKEN_TTL": "60", "ALLOW_SIGNUP": "no", "BASE_URL": "https://x.example/"})
    assert values["ACCESS_TOKEN_TTL"] == 60
    assert values["ALLOW_SIGNUP"] is False
    assert values["BASE_URL"] == "https://x.example"


def test_test_config_overrides_the_environment():
    assert load(environ={"ACCESS_TOKEN_TTL": "60"}, overrides={"ACCESS_TOKEN_TTL": 5})["ACCESS_TOKEN_TTL"] == 5


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ACCESS_TOKEN_TTL", "soon", "ACCESS_TOKEN_TTL"),
        ("ALLOW_SIGNUP", "perhaps", "ALLOW_SIGNUP"),
        ("APP_ENV", "staging", "APP_ENV"),
        ("BASE_URL", "badges.example.org", "BASE_URL"),
        ("BASE_URL", "https://example.org/badges", "BASE_URL"),
        ("KEY_ENCRYPTION_KEY", "c2hvcnQ=", "KEY_ENCRYPTION_KEY"),
        ("KEY_ENCRYPTION_KEY", "not base64 at all!", "KEY_ENCRYPTION_KEY"),
        ("STORAGE_URL", "ftp://files", "STORAGE_URL"),
        ("MAX_CONTENT_LENGTH", "-1", "MAX_CONTENT_LENGTH"),
        ("TASK_QUEUE_URL", "amqp://rabbit", "TASK_QUEUE_URL"),
        ("TASK_QUEUE_URL", "redis://", "TASK_QUEUE_URL"),
        ("TASK_QUEUE_PREFIX", "two words", "TASK_QUEUE_PREFIX"),
        ("TASK_QUEUE_HEARTBEAT_TIMEOUT", "0", "TASK_QUEUE_HEARTBEAT_TIMEOUT"),
        ("TASK_SCHEDULE", "outbox.sweep", "TASK_SCHEDULE"),
        ("TASK_SCHEDULE", "outbox.sweep=0", "TASK_SCHEDULE"),
        ("TASK_SCHEDULE", "outbox.sweep=²", "TASK_SCHEDULE"),
        ("TASK_SCHEDULE", "=60", "TASK_SCHEDULE"),
        ("OUTBOX_BACKOFF_SECONDS", "0", "OUTBOX_BACKOFF_SECONDS"),
    ],
)
def test_malformed_values_stop_the_app_naming_the_setting(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load(environ={name: value})


def test_safe_production_configuration_starts():
    assert load(environ=SAFE_PRODUCTION)["APP_ENV"] == "production"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SECRET_KEY", config.DEV_SECRET_KEY, "SECRET_KEY"),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("KEY_ENCRYPTION_KEY", config.DEV_KEY_ENCRYPTION_KEY, "KEY_ENCRYPTION_KEY"),
        ("BASE_URL", "http://badges.example.org", "https"),
        ("DATABASE_URL", "sqlite:////var/lib/app.db", "SQLite"),
        ("STORAGE_URL", None, "STORAGE_URL"),
        ("RATELIMIT_ENABLED", "false", "RATELIMIT_ENABLED"),
    ],
)
def test_production_refuses_each_unsafe_value(name, value, message):
    environ = dict(SAFE_PRODUCTION)
    if value is None:
        environ.pop(name)
    else:
        environ[name] = value
    with pytest.raises(ConfigError, match=message):
        load(environ=environ)


def test_sqlite_in_production_when_explicitly_allowed():
    environ = {
        **SAFE_PRODUCTION,
        "DATABASE_URL": "sqlite:////var/lib/app.db",
        "ALLOW_SQLITE_IN_PRODUCTION": "1",
    }
    assert load(environ=environ)["DATABASE_URL"].startswith("sqlite")


def test_every_setting_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", doc, flags=re.MULTILINE))
    assert documented == {s.name for s in config.SETTINGS}


def test_only_the_config_module_reads_the_environment():
    root = Path(__file__).parents[2]
    offenders = [
        str(path.relative_to(root))
        for package in ("core", "standards", "credentials", "assessors", "badges")
        for path in (root / package).rglob("*.py")
        if "os.environ" in path.read_text() and path.name != "config.py"
    ]
    assert offenders == []


def test_a_schedule_naming_no_job_stops_the_app():
    from core import create_app

    with pytest.raises(ConfigError, match=r"no job 'outbox\.sned'"):
        create_app({"APP_ENV": "test", "TASK_SCHEDULE": "outbox.sned=60"})


def test_the_schedule_is_parsed_with_spaces_and_empty_parts():
    assert config.parse_schedule(" outbox.sweep = 60 ,, review.enqueue=300,") == [
        ("outbox.sweep", 60),
        ("review.enqueue", 300),
    ]
    assert config.parse_schedule("") == []
