"""Every setting the service reads, with its default, in one table.

Order of precedence: the defaults below, then environment variables of the same name, then the
``test_config`` mapping given to ``create_app``. Nothing else in the code base reads ``os.environ``.
``docs/configuration.md`` documents each setting; a test keeps the two in step.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Development defaults that production must never run with.
DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105
DEV_KEY_ENCRYPTION_KEY = base64.urlsafe_b64encode(b"dev-only-kek-change-me-32-bytes!").decode()
ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """The configuration is unsafe or malformed; the app refuses to start."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def _int(value: str) -> int:
    return int(value.strip())


def _str(value: str) -> str:
    return value.strip()


def _days(value: str) -> tuple[int, ...]:
    """A comma-separated list of whole days, e.g. ``60,30,7,0``; empty: none."""
    try:
        days = {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        raise ValueError(f"expected whole days separated by commas, e.g. 60,30,7,0, got {value!r}") from None
    return tuple(sorted(days, reverse=True))


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    description: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        "development",
        _str,
        "`development`, `production` or `test`. Production refuses unsafe values.",
    ),
    Setting(
        "SECRET_KEY",
        DEV_SECRET_KEY,
        _str,
        "Signs session cookies, CSRF tokens and API access tokens. At least 32 characters in production.",
        secret=True,
    ),
    Setting(
        "DATABASE_URL",
        f"sqlite:///{INSTANCE_DIR / 'microcred.sqlite3'}",
        _str,
        "SQLAlchemy URL. SQLite by default; `postgresql+psycopg://user:pass@host/db` in production.",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        _str,
        "Public origin of the service, used in every "
        "link, badge id and token audience. Must be `https://` in production.",
    ),
    Setting(
        "STORAGE_URL",
        f"file://{INSTANCE_DIR / 'files'}",
        _str,
        "Where evidence files are kept: "
        "`file:///abs/path` or `s3://bucket/prefix`. Must be set explicitly in production.",
    ),
    Setting("S3_ENDPOINT_URL", "", _str, "Endpoint of an S3-compatible store (empty for AWS S3)."),
    Setting("S3_REGION", "", _str, "Region of the S3 bucket (empty: boto3's default chain)."),
    Setting(
        "S3_ACCESS_KEY_ID", "", _str, "Access key for the S3 store (empty: boto3's default chain, e.g. an IAM role)."
    ),
    Setting(
        "S3_SECRET_ACCESS_KEY", "", _str, "Secret key for the S3 store (empty: boto3's default chain).", secret=True
    ),
    Setting(
        "S3_PRESIGN_TTL", 300, _int, "Lifetime in seconds of the presigned S3 URLs that evidence downloads redirect to."
    ),
    Setting("EVIDENCE_MAX_FILE_SIZE", 250 * 1024 * 1024, _int, "Largest evidence file in bytes (one upload)."),
    Setting(
        "EVIDENCE_MAX_SUBMISSION_SIZE",
        1024 * 1024 * 1024,
        _int,
        "Largest total size in bytes of the evidence files of one submission.",
    ),
    Setting("EVIDENCE_MAX_FILES", 50, _int, "Most evidence files one submission may hold (all requirements together)."),
    Setting(
        "STORAGE_GC_GRACE",
        24 * 3600,
        _int,
        "`flask storage gc` keeps unreferenced files younger than this many seconds (uploads in flight).",
    ),
    Setting(
        "KEY_ENCRYPTION_KEY",
        DEV_KEY_ENCRYPTION_KEY,
        _str,
        "URL-safe base64 of 32 random bytes; encrypts signing keys at rest. Generate with `flask keygen kek`.",
        secret=True,
    ),
    Setting("ACCESS_TOKEN_TTL", 900, _int, "Lifetime in seconds of API bearer tokens from `/api/v1/auth/token`."),
    Setting(
        "OB_API_TOKEN_TTL",
        3600,
        _int,
        "Lifetime in seconds of the OB 3.0 API's access tokens (`/ims/ob/v3p0/oauth/token`); refresh tokens last "
        "until used or revoked.",
    ),
    Setting(
        "OB_API_PRIVACY_POLICY_URL",
        "",
        _str,
        "Privacy policy the OB 3.0 API's service description names (empty: the service's own `/ims/ob/v3p0/about`).",
    ),
    Setting(
        "OB_API_TERMS_URL",
        "",
        _str,
        "Terms of service the OB 3.0 API's service description names (empty: `/ims/ob/v3p0/about`).",
    ),
    Setting("PASSWORD_RESET_TTL", 3600, _int, "Lifetime in seconds of a password reset link."),
    Setting("INVITATION_TTL", 7 * 24 * 3600, _int, "Lifetime in seconds of an organisation invitation."),
    Setting("ALLOW_SIGNUP", True, _bool, "Whether anyone may register an (earner) account."),
    Setting(
        "ALLOW_ORGANISATION_SIGNUP",
        None,
        _bool,
        "Whether any signed-in person may create an organisation (and become its admin); platform admins always "
        "may. Unset: on, except with `APP_ENV=production`.",
    ),
    Setting(
        "ORGANISATION_SIGNUP_RATE_LIMIT",
        "10 per hour",
        _str,
        "Organisations one person may create per period (Flask-Limiter syntax), on the page and through the API; "
        "platform admins are not limited.",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "10 per minute",
        _str,
        "Login attempts allowed per client address (Flask-Limiter syntax), for the web form and `/api/v1/auth/token`.",
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        _str,
        "Where rate-limit counters live. Use `redis://host:6379` when several processes or hosts serve the app.",
    ),
    Setting("RATELIMIT_ENABLED", True, _bool, "Turn rate limiting off (tests only)."),
    Setting("MAX_CONTENT_LENGTH", 1024 * 1024, _int, "Largest request body in bytes for API and form requests."),
    Setting(
        "STANDARDS_MAX_UPLOAD",
        64 * 1024 * 1024,
        _int,
        "Largest CASE package in bytes accepted by the standards import API (it alone may exceed "
        "`MAX_CONTENT_LENGTH`).",
    ),
    Setting("ARGON2_TIME_COST", 3, _int, "Argon2id iterations for password hashes."),
    Setting("ARGON2_MEMORY_COST", 65536, _int, "Argon2id memory in KiB for password hashes (64 MiB)."),
    Setting("PROXY_FIX_HOPS", 0, _int, "Number of trusted reverse proxies setting `X-Forwarded-*` headers."),
    Setting("LOG_LEVEL", "INFO", _str, "Python logging level."),
    Setting(
        "SMTP_URL",
        "",
        _str,
        "Mail server: `smtp://user:pass@host:587`, `smtp+starttls://…`, `smtps://…`; empty: mail to the log.",
        secret=True,
    ),
    Setting("MAIL_FROM", "Micro-credentials <no-reply@localhost>", _str, "Sender address of outgoing mail."),
    Setting(
        "OUTBOX_INLINE",
        True,
        _bool,
        "Deliver each message as soon as its transaction commits (on the task queue when one is configured, "
        "else in the same process); off: only the outbox sweep (`flask outbox send` or the scheduler) delivers.",
    ),
    Setting("OUTBOX_MAX_ATTEMPTS", 8, _int, "Delivery attempts of one message before it is marked `failed` and left."),
    Setting(
        "OUTBOX_BACKOFF_SECONDS",
        30,
        _int,
        "Wait after a message's first failed delivery; each further failure doubles it (at most a day).",
    ),
    Setting(
        "OUTBOX_CLAIM_SECONDS",
        300,
        _int,
        "How long one delivery attempt holds a message; past it (the worker died mid-send) another attempt may.",
    ),
    Setting(
        "TASK_QUEUE_URL",
        "",
        _str,
        "Redis URL of the task queue (`redis://host:6379/1`); empty: jobs run inline, right after the commit "
        "that asked for them.",
        secret=True,
    ),
    Setting(
        "TASK_QUEUE_PREFIX",
        "microcred",
        _str,
        "Prefix of every Redis key of the task queue, so several services (or test runs) can share one Redis.",
    ),
    Setting(
        "TASK_QUEUE_HEARTBEAT_TIMEOUT",
        60,
        _int,
        "Seconds without a heartbeat after which a worker counts as dead and its unfinished jobs go back on the "
        "queue. Longer than any pause of a busy worker.",
    ),
    Setting(
        "TASK_SCHEDULE",
        "outbox.sweep=60,review.stale_claims=3600,review.enqueue=300,review.sla=900,badges.resume_imports=60,evidence.purge=3600,badges.misconduct=3600,badges.renewal_invitations=3600",
        _str,
        "Periodic jobs the scheduler sends, as `job=seconds` separated by commas (empty: none).",
    ),
    Setting(
        "REVIEW_LEASE_HOURS",
        48,
        _int,
        "How long a claimed review stays with its assessor before it returns to the queue.",
    ),
    Setting(
        "MISCONDUCT_APPEAL_DAYS",
        30,
        _int,
        "Days an earner has to appeal a misconduct decision; the badge is suspended meanwhile and revoked when "
        "the window closes without an appeal.",
    ),
    Setting(
        "EXPIRY_NOTICE_DAYS",
        (60, 30, 7, 0),
        _days,
        "Days before a badge's expiry to mail its earner (0: on the day it expires), sent by "
        "`flask badges expiry-notices`; empty: no expiry notices.",
    ),
    Setting(
        "RENEWAL_INVITATION_DAYS",
        60,
        _int,
        "Days before a renewable badge's validUntil that its earner is invited (once) to renew it by evidence, "
        "and from which the renewal can be started.",
    ),
    Setting(
        "ALLOW_SQLITE_IN_PRODUCTION",
        False,
        _bool,
        "Permit a SQLite database in production (single host only).",
    ),
    Setting(
        "VERIFY_ALLOW_PRIVATE_URLS",
        False,
        _bool,
        "Let the badge verifier fetch private, loopback and link-local addresses (tests only; never in production).",
    ),
    Setting("VERIFY_FETCH_TIMEOUT", 5, _int, "Seconds the verifier may spend on one URL fetch, redirects included."),
    Setting(
        "EXPORT_RATE_LIMIT",
        "10 per hour",
        _str,
        "Personal data archives a client address may download (Flask-Limiter syntax), `/account/export` and "
        "`/api/v1/me/export` together.",
    ),
    Setting("VERIFY_MAX_BYTES", 1024 * 1024, _int, "Largest response in bytes the verifier reads from a URL."),
    Setting(
        "VERIFY_RATE_LIMIT",
        "30 per minute",
        _str,
        "Verifications allowed per client address (Flask-Limiter syntax), for `POST /api/v1/verify` and the page.",
    ),
)


MAX_PERIOD = 30 * 24 * 3600


def parse_schedule(text: str) -> list[tuple[str, int]]:
    """``"a=60,b=3600"`` → ``[("a", 60), ("b", 3600)]``; ``ValueError`` naming the bad part."""
    schedule = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, seconds = (text.strip() for text in part.partition("="))
        if not sep or not name or not (seconds.isascii() and seconds.isdigit()) or not 1 <= int(seconds) <= MAX_PERIOD:
            raise ValueError(f"expected job=seconds (1 to {MAX_PERIOD} seconds), got {part!r}")
        schedule.append((name, int(seconds)))
    return schedule


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the effective settings as a dict of Flask config keys, validated."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        raw = environ.get(setting.name)
        if raw is not None:
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.name}: {exc}") from None
        values[setting.name] = value
    values.update(overrides or {})
    validate(values)
    return values


def validate(values: dict[str, Any]) -> None:
    """Raise ConfigError for malformed values, and for unsafe ones in production."""
    env = values["APP_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    base = urlsplit(values["BASE_URL"])
    if base.scheme not in {"http", "https"} or not base.netloc or base.path not in {"", "/"}:
        raise ConfigError("BASE_URL must be an origin like https://badges.example.org (no path)")
    values["BASE_URL"] = values["BASE_URL"].rstrip("/")
    if values["ALLOW_ORGANISATION_SIGNUP"] is None:
        # Open for a development or demo install; an operator opens a public service deliberately.
        values["ALLOW_ORGANISATION_SIGNUP"] = env != "production"
    try:
        kek = base64.urlsafe_b64decode(values["KEY_ENCRYPTION_KEY"].encode())
    except (binascii.Error, ValueError):
        kek = b""
    if len(kek) != 32:
        raise ConfigError("KEY_ENCRYPTION_KEY must be URL-safe base64 of exactly 32 bytes")
    storage = urlsplit(values["STORAGE_URL"])
    if storage.scheme not in {"file", "s3"}:
        raise ConfigError("STORAGE_URL must start with file:// or s3://")
    if storage.scheme == "file" and not storage.path.startswith("/"):
        raise ConfigError("STORAGE_URL must name an absolute directory: file:///abs/path")
    if storage.scheme == "s3" and not storage.netloc:
        raise ConfigError("STORAGE_URL must name a bucket: s3://bucket/prefix")
    if values["STORAGE_GC_GRACE"] < 0:
        raise ConfigError("STORAGE_GC_GRACE must not be negative")
    for name in (
        "ACCESS_TOKEN_TTL",
        "OB_API_TOKEN_TTL",
        "PASSWORD_RESET_TTL",
        "INVITATION_TTL",
        "MAX_CONTENT_LENGTH",
        "STANDARDS_MAX_UPLOAD",
        "S3_PRESIGN_TTL",
        "EVIDENCE_MAX_FILE_SIZE",
        "EVIDENCE_MAX_SUBMISSION_SIZE",
        "EVIDENCE_MAX_FILES",
        "VERIFY_FETCH_TIMEOUT",
        "VERIFY_MAX_BYTES",
        "OUTBOX_MAX_ATTEMPTS",
        "OUTBOX_BACKOFF_SECONDS",
        "OUTBOX_CLAIM_SECONDS",
        "TASK_QUEUE_HEARTBEAT_TIMEOUT",
    ):
        if values[name] <= 0:
            raise ConfigError(f"{name} must be positive")
    days = values["EXPIRY_NOTICE_DAYS"]
    if not isinstance(days, tuple | list) or any(not isinstance(d, int) or not 0 <= d <= 3650 for d in days):
        raise ConfigError("EXPIRY_NOTICE_DAYS must be whole days from 0 to 3650, e.g. 60,30,7,0")
    if not 1 <= values["MISCONDUCT_APPEAL_DAYS"] <= 365:
        raise ConfigError("MISCONDUCT_APPEAL_DAYS must be from 1 to 365")
    values["EXPIRY_NOTICE_DAYS"] = tuple(sorted(set(days), reverse=True))
    if not isinstance(values["RENEWAL_INVITATION_DAYS"], int) or not 0 <= values["RENEWAL_INVITATION_DAYS"] <= 3650:
        raise ConfigError("RENEWAL_INVITATION_DAYS must be whole days from 0 to 3650, e.g. 60")
    queue = urlsplit(values["TASK_QUEUE_URL"])
    if values["TASK_QUEUE_URL"] and (queue.scheme not in {"redis", "rediss", "unix"} or not queue.netloc + queue.path):
        raise ConfigError("TASK_QUEUE_URL must be a Redis URL: redis://host:6379/1 (or empty: run jobs inline)")
    if not values["TASK_QUEUE_PREFIX"] or any(c.isspace() for c in values["TASK_QUEUE_PREFIX"]):
        raise ConfigError("TASK_QUEUE_PREFIX must be a non-empty word")
    try:
        parse_schedule(values["TASK_SCHEDULE"])
    except ValueError as exc:
        raise ConfigError(f"TASK_SCHEDULE: {exc}") from None
    if env == "production":
        _refuse_unsafe_production(values)


def _refuse_unsafe_production(values: dict[str, Any]) -> None:
    problems = []
    if values["SECRET_KEY"] == DEV_SECRET_KEY or len(values["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is the development default or shorter than 32 characters")
    if values["KEY_ENCRYPTION_KEY"] == DEV_KEY_ENCRYPTION_KEY:
        problems.append("KEY_ENCRYPTION_KEY is the development default")
    if not values["BASE_URL"].startswith("https://"):
        problems.append("BASE_URL must use https://")
    if values["DATABASE_URL"].startswith("sqlite") and not values["ALLOW_SQLITE_IN_PRODUCTION"]:
        problems.append("DATABASE_URL is SQLite (set ALLOW_SQLITE_IN_PRODUCTION=true for a single host)")
    if values["STORAGE_URL"] == next(s.default for s in SETTINGS if s.name == "STORAGE_URL"):
        problems.append("STORAGE_URL is not set")
    if not values["RATELIMIT_ENABLED"]:
        problems.append("RATELIMIT_ENABLED is off")
    if values["VERIFY_ALLOW_PRIVATE_URLS"]:
        problems.append("VERIFY_ALLOW_PRIVATE_URLS is on (the verifier could be used to reach internal hosts)")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))
