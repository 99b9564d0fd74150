"""Browser test infrastructure: the app served for real, Chromium driven by Playwright, axe-core, screenshots.

Why a second app: the usual fixtures run each test inside one rolled-back transaction on one connection,
which a server thread cannot share. So ``live_server`` builds its own database from the migrations (a
SQLite file in a temporary folder, or on PostgreSQL a database of its own, ``<test database>_browser``), serves the app
with a real WSGI server in a background thread on a free port, and tests seed it with real commits through
``live_server.seed()``. Data lives for the whole run, so each test module seeds its own, distinct data
(``unique()`` gives unique emails and slugs).

Browser tests must not use the ``app``, ``client`` or ``session`` fixtures: those swap ``db.session`` for
one bound to the rolled-back test transaction, which the server thread would then pick up too.

Fixtures and helpers (for journeys of every domain):
- ``live_server``: ``.url``, ``.app``, ``.seed()`` (context manager: app context, commits on exit),
  ``.mail()`` (messages sent so far);
- ``browser`` (one Chromium per run), ``page`` (a fresh context per test, desktop size, fails the test on
  any uncaught page error, Content-Security-Policy violation or server 5xx);
- ``login(page, email, password)``, ``logout(page)``, ``axe_check(page)`` (fails on serious or critical
  violations), ``screenshot(page, name)`` (desktop 1280x800 and phone 390x844 PNGs in ``SCREENSHOT_DIR``),
  ``visit(page, path, name)`` (go, axe check, screenshots — the one call most steps need).
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from core import create_app, mail
from core.db import db
from tests.conftest import TEST_DATABASE_URL, make_test_config, recreate_database

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOT_DIR = ROOT / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    """A short token unique within the run, for emails, slugs and titles of seeded data."""
    return f"{prefix}{os.getpid() % 10000}-{next(_counter)}"


def _missing_tools() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (scripts/browser-deps.sh installs Debian's chromium)"
    if not AXE_JS.exists():
        return f"{AXE_JS.relative_to(ROOT)} is missing (scripts/browser-deps.sh runs npm ci)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is missing (scripts/bootstrap.sh requirements/dev.lock)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test; without the tools they skip, saying what is missing.

    CI sets ``REQUIRE_BROWSER_TESTS=1``: there a missing tool is an error, not a quiet skip."""
    reason = _missing_tools()
    if reason and os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
        raise pytest.UsageError(f"browser tests are required (REQUIRE_BROWSER_TESTS=1) but {reason}")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


# --- the served app ----------------------------------------------------------------------------------


def _server_database_url(tmp_dir: Path) -> str:
    if not TEST_DATABASE_URL.startswith("postgresql"):
        return f"sqlite:///{tmp_dir / 'browser.sqlite3'}"
    # A database of our own next to the test database (``<name>_browser``). Not a schema of the test
    # database: with ``public`` on the search path, Alembic finds the unit tests' ``alembic_version`` there,
    # skips every migration and the server then writes into the unit tests' tables.
    return recreate_database("browser")


def _drop_server_database() -> None:
    if TEST_DATABASE_URL.startswith("postgresql"):
        recreate_database("browser", create=False)


class _QuietHandler(WSGIRequestHandler):
    """No access log: pytest would print every request of a failed test; ``page`` reports 5xx itself."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return


class LiveServer:
    """The app behind a real HTTP server; ``seed()`` writes to its database with real commits."""

    def __init__(self, app: Flask, server: BaseWSGIServer) -> None:
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.errors: list[str] = []

    @contextmanager
    def seed(self) -> Iterator[Any]:
        """An app context whose ``db.session`` work is committed on exit (rolled back on error).

        Objects expire at the commit: read the ids and fields a test needs inside the ``with`` block."""
        with self.app.app_context():
            try:
                yield db.session
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()

    def mail(self) -> list[mail.Message]:
        return list(mail.sent)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database_url = _server_database_url(tmp_path_factory.mktemp("browser-db"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(
        make_test_config(
            database_url,
            BASE_URL=f"http://127.0.0.1:{port}",
            STORAGE_URL=f"file://{tmp_path_factory.mktemp('browser-files')}",
        )
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is a 500 page, as in production

    def _fail() -> str:
        raise RuntimeError("a deliberate failure, to show the 500 page")

    app.add_url_rule("/_test/error", "_test_error", _fail)  # only in this test server
    with app.app_context():
        upgrade()
        db.engine.dispose()
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    live = LiveServer(app, server)

    @app.after_request
    def _note_server_errors(response: Any) -> Any:
        from flask import request

        if response.status_code >= 500 and not request.path.startswith("/_test/"):
            live.errors.append(f"{response.status_code} {request.method} {request.path}")
        return response

    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()
        _drop_server_database()


# --- the browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test; page errors and server 5xx fail the test."""
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    # The CSP allows only our own files; an inline script or style attribute shows up as a console error.
    page.on(
        "console",
        lambda msg: (
            page_errors.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None
        ),
    )
    live_server.errors.clear()
    try:
        yield page
    finally:
        context.close()
    assert not page_errors, f"JavaScript errors or CSP violations in the page: {page_errors}"
    assert not live_server.errors, f"server errors: {live_server.errors}"


# --- helpers -----------------------------------------------------------------------------------------


def login(page: Any, email: str, password: str) -> None:
    """Sign in through the sign-in form, as a person would, and wait for the page after it."""
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" not in page.url, (
        f"sign-in failed for {email}: {page.locator('.error, .error-summary').all_inner_texts()}"
    )


def logout(page: Any) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


_axe_source: str | None = None


def axe_check(page: Any, *, exclude: list[str] | None = None) -> None:
    """Run axe-core (WCAG 2.1 A/AA rules) in the page; fail on serious or critical violations."""
    global _axe_source
    if _axe_source is None:
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    # Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not block it.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source)
    result = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map(s => [s])} : document;
            const r = await window.axe.run(context, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                resultTypes: ['violations'],
            });
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            }));
        }""",
        exclude or [],
    )
    if result:
        lines = [f"- {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in result]
        pytest.fail(f"accessibility violations on {page.url}:\n" + "\n".join(lines), pytrace=False)


def screenshot(page: Any, name: str) -> list[Path]:
    """Full-page PNGs of the current page at desktop and phone widths: ``<name>.desktop.png``, ``.phone.png``."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    original = page.viewport_size or DESKTOP
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SCREENSHOT_DIR / f"{name}.{label}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)
    page.set_viewport_size(original)
    return written


def visit(page: Any, path: str, name: str | None = None, *, status: int = 200) -> Any:
    """Open ``path``, check its status, run axe and (with ``name``) take both screenshots."""
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    check_page(page, name)
    return response


# Elements sticking out past the viewport's right edge, unless a scrolling container (.table-wrap) holds them.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const contained = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const classes = (el) => (typeof el.className === 'string' ? el.className.trim().split(/\\s+/).filter(Boolean) : []);
  const name = (el) => [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), ...classes(el)].join('.');
  return [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !contained(el))
    .slice(0, 8)
    .map((el) => `${name(el)} (${Math.round(el.getBoundingClientRect().right)} px)`);
}"""


def overflow_at_phone_width(page: Any) -> list[str]:
    """The elements wider than a phone's viewport (390 px) on the current page: empty when nothing scrolls
    sideways. Elements inside a scrolling container (``.table-wrap``, ``pre``) are allowed to be wide."""
    original = page.viewport_size or DESKTOP
    page.set_viewport_size(PHONE)
    try:
        return page.evaluate(OVERFLOW_SCRIPT)
    finally:
        page.set_viewport_size(original)


def check_page(page: Any, name: str | None = None) -> None:
    """axe, no sideways scrolling at phone width, and screenshots for the page now shown."""
    axe_check(page)
    wide = overflow_at_phone_width(page)
    assert not wide, f"{page.url} scrolls sideways at 390 px: {wide}"
    if name:
        screenshot(page, name)
