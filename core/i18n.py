"""Languages of the web pages and mail (Flask-Babel): which one a request gets, and dates and numbers in it.

A page is in the signed-in user's saved language, else the one the visitor chose in the footer (a cookie),
else the best match of the browser's ``Accept-Language``, else English. Mail is written in the recipient's
saved language (``recipient_language``), whatever the language of the request that caused it. The JSON API is
not translated: its problem documents are machine contracts and stay English.

Catalogues live in ``core/translations`` (one domain, ``messages``, for every package); docs/translating.md
has the translator's commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from babel import Locale
from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, format_date, format_decimal, format_percent, format_time, get_locale
from flask_babel import lazy_gettext as _l

from core import config as config_module

DEFAULT = "en"
# Each language by its own name, as a switcher shows it.
LANGUAGES = {"en": "English", "es": "Español"}
COOKIE = "lang"
NO_FIGURE = "\u2013"  # an en dash where a report has no figure
COOKIE_AGE = 365 * 24 * 3600
TRANSLATIONS = config_module.PROJECT_ROOT / "core" / "translations"

babel = Babel()

# Codes stored in the database (states, roles, kinds) as people read them; unknown codes are shown with their
# underscores as spaces.
LABELS: dict[str, Any] = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "in_review": _l("in review"),
    "passed": _l("passed"),
    "not_yet": _l("not yet"),
    "withdrawn": _l("withdrawn"),
    "approved": _l("approved"),
    "changes_requested": _l("changes requested"),
    "published": _l("published"),
    "retired": _l("retired"),
    "pending": _l("pending"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "cancelled": _l("cancelled"),
    "completed": _l("completed"),
    "failed": _l("failed"),
    "sent": _l("sent"),
    "sending": _l("sending"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "open": _l("open"),
    "active": _l("active"),
    "expired": _l("expired"),
    "revoked": _l("revoked"),
    "suspended": _l("suspended"),
    "valid": _l("valid"),
    "org_admin": _l("org admin"),
    "author": _l("author"),
    "assessor": _l("assessor"),
    "earner": _l("earner"),
    "district": _l("district"),
    "university": _l("university"),
    "state_agency": _l("state agency"),
    "nonprofit": _l("nonprofit"),
    "other": _l("other"),
    "review": _l("review"),
    "adjudication": _l("adjudication"),
    "appeal": _l("appeal"),
    "calibration": _l("calibration"),
    "text": _l("text"),
    "file": _l("file"),
    "link": _l("link"),
    "comment": _l("comment"),
}


def label(code: Any) -> Any:
    """A stored code (``in_review``, ``org_admin``) in the reader's words."""
    text = str(code) if code is not None else ""
    return LABELS.get(text, text.replace("_", " "))


def supported(code: str | None) -> str | None:
    """``code`` if it names a language we ship (``es``, ``es-MX`` → ``es``), else None."""
    if not code:
        return None
    base = code.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def select_locale() -> str:
    """The request's language: account preference > footer cookie > Accept-Language > English."""
    if not has_request_context() or request.path.startswith("/api/"):
        return DEFAULT  # machine contracts are not translated
    from core.auth import current_user

    user = current_user()
    chosen = supported(getattr(user, "locale", None)) if user is not None else None
    return (
        chosen
        or supported(request.cookies.get(COOKIE))
        or request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT)
    )


@contextmanager
def recipient_language(user: Any) -> Iterator[None]:
    """Write mail for ``user`` (a User, or None for someone without an account) in their saved language."""
    with force_locale(supported(getattr(user, "locale", None)) or DEFAULT):
        yield


def _as_moment(value: Any) -> Any:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def date_filter(value: Any, format: str = "medium") -> str:
    """A date (or an ISO date string) in the reader's language: "Dec 3, 2026", "3 dic 2026"."""
    value = _as_moment(value)
    if not isinstance(value, date):
        return "" if value is None else str(value)
    return format_date(value, format)


def datetime_filter(value: Any, format: str = "medium") -> str:
    """Date and time (hours and minutes, in UTC) in the reader's language."""
    value = _as_moment(value)
    if not isinstance(value, datetime):
        return date_filter(value, format)
    locale = get_locale() or Locale.parse(DEFAULT)
    pattern = locale.datetime_formats.get(format, locale.datetime_formats["medium"])
    return str(pattern).replace("'", "").format(format_time(value, "short"), format_date(value, format))


def time_filter(value: Any) -> str:
    """A time of day (hours and minutes, UTC) in the reader's language: "2:05 PM", "14:05"."""
    return "" if value is None else format_time(value, "short")


def number_filter(value: Any, format: str | None = None) -> str:
    """A number in the reader's language ("1,234.5", "1.234,5"); a dash for none."""
    return NO_FIGURE if value is None else format_decimal(value, format)


def percent_filter(value: Any) -> str:
    """A share (0.125) as a percentage in the reader's language, to one decimal ("12.5%", "12,5 %"); a dash
    for none."""
    if value is None:
        return NO_FIGURE
    locale = get_locale() or Locale.parse(DEFAULT)
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.#", 1)
    return format_percent(value, pattern)


def html_lang() -> str:
    locale = get_locale()
    return str(locale.language) if locale is not None else DEFAULT


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["datetime"] = datetime_filter
    app.jinja_env.filters["time"] = time_filter
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["number"] = number_filter
    app.jinja_env.filters["percent"] = percent_filter
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["languages"] = LANGUAGES
