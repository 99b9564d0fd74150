"""Languages: which one a page is in (account > footer cookie > Accept-Language > English), mail in the
recipient's language, dates by locale, the JSON API in English, and a Spanish catalogue that is complete and
compiled."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale

from core import i18n, mail
from core.models import User
from tests.conftest import csrf_token
from tests.core.test_web import BROWSER, page, sign_in
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "core" / "translations" / "es" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")


def _locale(session: Any, user: User) -> str | None:
    session.expire_all()  # the request wrote through its own session
    return session.get(User, user.id).locale


def _html(client: Any, url: str = "/login", **headers: str) -> str:
    r = client.get(url, headers=BROWSER | headers)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_english_by_default(client):
    html = _html(client)
    assert '<html lang="en">' in html and "Forgot your password?" in html


def test_accept_language_chooses_spanish(client):
    html = _html(client, **{"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in html
    assert "¿Ha olvidado su contraseña?" in html and "Iniciar sesión" in html


def test_an_unsupported_language_falls_back_to_english(client):
    assert '<html lang="en">' in _html(client, **{"Accept-Language": "de-DE,fr;q=0.8"})


def test_the_footer_cookie_beats_accept_language(client):
    _, token = page(client, "/login")
    r = client.post("/language", data={"csrf_token": token, "language": "en", "next": "/login"}, headers=BROWSER)
    assert r.status_code == 303 and r.headers["Location"].endswith("/login")
    assert '<html lang="en">' in _html(client, **{"Accept-Language": "es"})
    _, token = page(client, "/login")
    client.post("/language", data={"csrf_token": token, "language": "es", "next": "/login"}, headers=BROWSER)
    assert '<html lang="es">' in _html(client)


def test_the_switcher_refuses_to_redirect_off_site(client):
    _, token = page(client, "/login")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        r = client.post("/language", data={"csrf_token": token, "language": "es", "next": target}, headers=BROWSER)
        assert r.status_code == 303 and "evil" not in r.headers["Location"]


def test_the_switcher_needs_its_csrf_token(client):
    r = client.post("/language", data={"language": "es"}, headers=BROWSER)
    assert r.status_code == 400


def test_the_account_preference_beats_cookie_and_browser(client, session):
    user = UserFactory(locale="es")
    sign_in(client, user.email)
    client.set_cookie("lang", "en")
    html = _html(client, "/account", **{"Accept-Language": "en"})
    assert '<html lang="es">' in html and "Idioma de las páginas y del correo electrónico" in html


def test_choosing_a_language_on_the_account_page_saves_it(client, session):
    user = UserFactory()
    sign_in(client, user.email)
    token = csrf_token(_html(client, "/account"))
    r = client.post("/language", data={"csrf_token": token, "language": "es", "next": "/account"}, headers=BROWSER)
    assert r.status_code == 303
    assert _locale(session, user) == "es"
    client.delete_cookie("lang")  # the account alone decides now
    assert '<html lang="es">' in _html(client, "/account")
    token = csrf_token(_html(client, "/account"))
    client.post("/language", data={"csrf_token": token, "language": "", "next": "/account"}, headers=BROWSER)
    assert _locale(session, user) is None  # "the browser's language" forgets the preference
    assert '<html lang="en">' in _html(client, "/account")


def test_an_unknown_language_code_is_not_saved(client, session):
    user = UserFactory()
    sign_in(client, user.email)
    token = csrf_token(_html(client, "/account"))
    client.post("/language", data={"csrf_token": token, "language": "xx'><script>", "next": "/account"})
    assert _locale(session, user) is None


def test_api_problem_documents_stay_english(client):
    r = client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.org", "password": "x"}, headers={"Accept-Language": "es"}
    )
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.get_json()["title"].isascii()


def test_mail_is_written_in_the_recipients_language(client, session):
    user = UserFactory(locale="es", name="Lucía Ortega")
    _, token = page(client, "/password-reset")  # asked from an English page
    client.post("/password-reset", data={"csrf_token": token, "email": user.email}, headers=BROWSER)
    message = mail.sent[-1]
    assert message.to == user.email
    assert message.subject == "Restablezca su contraseña"
    assert message.body.startswith("Hola, Lucía Ortega:") and "Elija una contraseña nueva aquí" in message.body


def test_mail_to_someone_without_a_preference_is_english(client, session):
    user = UserFactory()
    _, token = page(client, "/password-reset")
    client.post(
        "/password-reset", data={"csrf_token": token, "email": user.email}, headers=BROWSER | {"Accept-Language": "es"}
    )
    assert mail.sent[-1].subject == "Reset your password"


def test_dates_and_numbers_by_locale(app):
    moment = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
    with app.test_request_context("/"):
        assert i18n.date_filter(moment) == "Dec 3, 2026"
        assert i18n.date_filter("2026-12-03") == "Dec 3, 2026"
        with force_locale("es"):
            assert i18n.date_filter(moment) == "3 dic 2026"
            assert i18n.date_filter(moment, "long") == "3 de diciembre de 2026"
            assert i18n.datetime_filter(moment) == "3 dic 2026, 14:05"
            assert str(i18n.label("in_review")) == "en revisión"
            assert i18n.number_filter(1234.5) == "1.234,5" and i18n.percent_filter(0.125) == "12,5\xa0%"
        assert i18n.number_filter(1234.5) == "1,234.5" and i18n.percent_filter(0.125) == "12.5%"
        assert i18n.number_filter(None) == i18n.percent_filter(None) == i18n.NO_FIGURE
        assert i18n.date_filter(None) == "" and i18n.date_filter("not a date") == "not a date"


def _extracted() -> set[Any]:
    """Every msgid `pybabel extract -F babel.cfg` finds, walking each package (not .venv or node_modules)."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel.cfg").read_text()))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found: set[Any] = set()
    for package in ("core", "standards", "credentials", "assessors", "badges"):
        mapping = [
            (pattern.removeprefix(f"{package}/"), method)
            for pattern, method in method_map
            if pattern.startswith((f"{package}/", "**/"))
        ]
        options = {pattern.removeprefix(f"{package}/"): opts for pattern, opts in options_map.items()}
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / package), mapping, options, keywords=keywords
        ):
            found.add(message)
    return found


def test_every_string_in_the_code_has_a_spanish_translation():
    catalogue = read_po(PO.open("rb"))
    translated = {m.id for m in catalogue if m.id and all(m.string if isinstance(m.string, tuple) else [m.string])}
    missing = sorted(str(m) for m in _extracted() if m and m not in translated)
    assert not missing, f"untranslated (docs/translating.md): {missing[:10]}"
    problems = [(m.id, errors) for m, errors in catalogue.check() if errors]
    assert not problems, problems  # placeholders of each msgstr match its msgid


def test_the_compiled_catalogue_matches_the_po_file():
    compiled = io.BytesIO()
    write_mo(compiled, read_po(PO.open("rb")))
    assert MO.read_bytes() == compiled.getvalue(), "run: pybabel compile -d core/translations"
