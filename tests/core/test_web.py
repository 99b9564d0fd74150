"""The core web pages over HTTP: sign in and out, sign up, password reset, invitations, CSRF and headers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core import mail
from core.models import Role
from tests.conftest import TEST_PASSWORD, bearer, csrf_token
from tests.factories import OrganisationFactory, UserFactory, member

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NEW_PASSWORD = "a brand new passphrase"


def page(client: Any, url: str) -> tuple[Any, str]:
    """GET a page as a browser does; the response and the CSRF token of its form."""
    r = client.get(url, headers=BROWSER)
    assert r.status_code == 200, r.status_code
    assert r.mimetype == "text/html"
    return r, csrf_token(r.get_data(as_text=True))


def sign_in(client: Any, email: str, password: str = TEST_PASSWORD, next_url: str = "") -> Any:
    _, token = page(client, "/login")
    url = f"/login?next={next_url}" if next_url else "/login"
    return client.post(url, data={"csrf_token": token, "email": email, "password": password}, headers=BROWSER)


def text(r: Any) -> str:
    return r.get_data(as_text=True)


def location(r: Any) -> str:
    """The redirect target as a path (the test client may or may not make it absolute)."""
    return r.headers["Location"].removeprefix("http://localhost")


# --- signing in and out ------------------------------------------------------------------------------


def test_login_page_has_a_csrf_token(client):
    r, token = page(client, "/login")
    assert token
    assert 'name="email"' in text(r) and 'name="password"' in text(r)


def test_login_without_csrf_token_is_400(client):
    user = UserFactory()
    r = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD}, headers=BROWSER)
    assert r.status_code == 400
    assert r.mimetype == "text/html"  # a page for people, not a problem document
    assert "CSRF" in text(r)
    assert client.get("/account", headers=BROWSER).status_code == 302  # still signed out


def test_login_with_a_token_from_another_session_is_400(client, app):
    user = UserFactory()
    _, foreign_token = page(app.test_client(), "/login")
    page(client, "/login")
    r = client.post(
        "/login",
        data={"csrf_token": foreign_token, "email": user.email, "password": TEST_PASSWORD},
        headers=BROWSER,
    )
    assert r.status_code == 400


def test_login_then_account_then_logout(client):
    user = UserFactory(name="Dana <b>Bold</b>")
    r = sign_in(client, user.email.upper())
    assert r.status_code == 302
    assert location(r) == "/home"
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    account = client.get("/account", headers=BROWSER)
    assert account.status_code == 200
    assert "Dana &lt;b&gt;Bold&lt;/b&gt;" in text(account)  # escaped, never markup
    assert "<b>Bold</b>" not in text(account)

    token = csrf_token(text(account))  # the sign-out button's form
    problem = client.post("/logout", headers=BROWSER)
    assert problem.status_code == 400
    assert client.get("/account", headers=BROWSER).status_code == 200  # a forged sign-out did nothing

    out = client.post("/logout", data={"csrf_token": token}, headers=BROWSER)
    assert out.status_code == 302
    assert location(out) == "/"
    after = client.get("/account", headers=BROWSER)
    assert after.status_code == 302
    assert location(after).startswith("/login?next=")
    assert "signed out" in text(client.get("/", headers=BROWSER))


def test_login_wrong_password_shows_the_form_again_with_422(client):
    user = UserFactory()
    r = sign_in(client, user.email, "not the password")
    assert r.status_code == 422
    assert r.mimetype == "text/html"
    assert "not correct" in text(r)
    assert user.email in text(r)  # the email is kept in the form
    assert "not the password" not in text(r)  # the password is not echoed back
    assert client.get("/account", headers=BROWSER).status_code == 302


def test_login_missing_fields_is_422(client):
    _, token = page(client, "/login")
    r = client.post("/login", data={"csrf_token": token}, headers=BROWSER)
    assert r.status_code == 422
    assert 'aria-invalid="true"' in text(r)


@pytest.mark.parametrize("email", ["a\x00b@example.org", "x" * 10_000], ids=["nul", "huge"])
def test_login_hostile_email_is_422_not_500(client, email):
    r = sign_in(client, email)
    assert r.status_code == 422


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%09/evil.example",  # a tab, which browsers drop
        "/%0A/evil.example",  # a newline, which must not reach the Location header
    ],
)
def test_login_never_redirects_off_site(client, next_url):
    user = UserFactory()
    r = sign_in(client, user.email, next_url=next_url)
    assert r.status_code == 302
    assert location(r) == "/home"


def test_login_returns_to_a_same_site_next(client):
    user = UserFactory()
    r = sign_in(client, user.email, next_url="/account?tab=tokens")
    assert location(r) == "/account?tab=tokens"


def test_a_bearer_token_does_not_become_a_session(client):
    user = UserFactory()
    r = client.get("/account", headers={**BROWSER, **bearer(user)})
    assert r.status_code == 200  # pages accept a bearer token too …
    anonymous = client.get("/account", headers=BROWSER)
    assert anonymous.status_code == 302  # … but it does not become a session


def test_api_ignores_the_session_cookie(client):
    user = UserFactory()
    sign_in(client, user.email)
    assert client.get("/account", headers=BROWSER).status_code == 200
    r = client.get("/api/v1/me")  # a cookie alone would make the API open to CSRF
    assert r.status_code == 401


def test_web_login_rate_limit_is_429(client, app):
    user = UserFactory()
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        for _ in range(3):
            assert sign_in(client, user.email, "wrong guess").status_code == 422
        r = sign_in(client, user.email)
    finally:
        app.config["LOGIN_RATE_LIMIT"] = previous
    assert r.status_code == 429
    assert r.mimetype == "text/html"
    assert client.get("/account", headers=BROWSER).status_code == 302


# --- sign up -----------------------------------------------------------------------------------------


def test_signup_creates_an_account_and_signs_in(client):
    _, token = page(client, "/signup")
    r = client.post(
        "/signup",
        data={
            "csrf_token": token,
            "name": "Sam Signup",
            "email": "sam@example.org",
            "password": NEW_PASSWORD,
        },
        headers=BROWSER,
    )
    assert r.status_code == 302
    assert "Sam Signup" in text(client.get("/account", headers=BROWSER))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": "Dup", "email": "taken@example.org", "password": NEW_PASSWORD}, "already"),
        ({"name": "Short", "email": "s@example.org", "password": "short"}, "at least 10"),
        ({"name": "Bell\x07", "email": "b@example.org", "password": NEW_PASSWORD}, "control characters"),
        ({"name": "Mail", "email": "not-an-email", "password": NEW_PASSWORD}, "email"),
    ],
    ids=["duplicate", "weak", "control", "email"],
)
def test_signup_refusals_are_422_with_the_reason(client, fields, message):
    UserFactory(email="taken@example.org")
    _, token = page(client, "/signup")
    r = client.post("/signup", data={"csrf_token": token, **fields}, headers=BROWSER)
    assert r.status_code == 422
    assert message in text(r).lower()
    assert client.get("/account", headers=BROWSER).status_code == 302


# --- password reset ----------------------------------------------------------------------------------


def _reset_link_path() -> str:
    [message] = mail.sent
    return re.search(r"http://localhost(/password-reset/\S+)", message.body).group(1)


def test_password_reset_pages_end_to_end(client):
    user = UserFactory()
    _, token = page(client, "/password-reset")
    r = client.post("/password-reset", data={"csrf_token": token, "email": user.email}, headers=BROWSER)
    assert r.status_code == 200
    assert "Check your email" in text(r)
    link = _reset_link_path()

    _, token = page(client, link)
    mismatch = client.post(
        link,
        data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": "something else"},
        headers=BROWSER,
    )
    assert mismatch.status_code == 422
    assert "differ" in text(mismatch)

    done = client.post(
        link, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, headers=BROWSER
    )
    assert done.status_code == 302
    assert location(done) == "/login"
    assert "password is changed" in text(client.get("/login", headers=BROWSER))

    assert sign_in(client, user.email).status_code == 422  # the old password is gone
    assert sign_in(client, user.email, NEW_PASSWORD).status_code == 302

    _, token = page(client, link)
    reused = client.post(
        link,
        data={"csrf_token": token, "password": "third password!", "confirm": "third password!"},
        headers=BROWSER,
    )
    assert reused.status_code == 422
    assert "invalid, used or expired" in text(reused)


def test_password_reset_request_for_unknown_email_looks_the_same(client):
    UserFactory()
    _, token = page(client, "/password-reset")
    r = client.post("/password-reset", data={"csrf_token": token, "email": "nobody@example.org"}, headers=BROWSER)
    assert r.status_code == 200
    assert "Check your email" in text(r)
    assert mail.sent == []


def test_password_reset_request_needs_csrf(client):
    user = UserFactory()
    r = client.post("/password-reset", data={"email": user.email}, headers=BROWSER)
    assert r.status_code == 400
    assert mail.sent == []


def test_password_reset_with_a_forged_link_is_refused(client):
    _, token = page(client, "/password-reset/forged-token")
    r = client.post(
        "/password-reset/forged-token",
        data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        headers=BROWSER,
    )
    assert r.status_code == 422
    assert "invalid, used or expired" in text(r)


# --- accepting an invitation -------------------------------------------------------------------------


def _invitation_path(client: Any, org: Any, by: Any, email: str) -> str:
    r = client.post(
        f"/api/v1/organisations/{org.id}/invitations",
        json={"email": email, "roles": ["author"]},
        headers=bearer(by),
    )
    assert r.status_code == 201, r.json
    return r.json["accept_url"].removeprefix("http://localhost")


def test_invitation_page_creates_an_account(client):
    org = OrganisationFactory(name="Lakeside College")
    path = _invitation_path(client, org, member(org, Role.ORG_ADMIN), "new@example.org")
    r, token = page(client, path)
    assert 'name="password"' in text(r)
    r = client.post(path, data={"csrf_token": token, "name": "Nova", "password": NEW_PASSWORD}, headers=BROWSER)
    assert r.status_code == 302
    assert location(r) == "/home"
    account = text(client.get("/account", headers=BROWSER))
    assert "Nova" in account and "Lakeside College: author" in account


def test_invitation_page_refusals(client):
    org = OrganisationFactory()
    path = _invitation_path(client, org, member(org, Role.ORG_ADMIN), "new@example.org")
    _, token = page(client, path)
    missing = client.post(path, data={"csrf_token": token}, headers=BROWSER)
    assert missing.status_code == 422
    assert "Missing data" in text(missing)
    control = client.post(
        path, data={"csrf_token": token, "name": "Esc\x1b", "password": NEW_PASSWORD}, headers=BROWSER
    )
    assert control.status_code == 422
    no_csrf = client.post(path, data={"name": "Nova", "password": NEW_PASSWORD}, headers=BROWSER)
    assert no_csrf.status_code == 400
    forged = client.post(
        "/invitations/forged",
        data={"csrf_token": token, "name": "Nova", "password": NEW_PASSWORD},
        headers=BROWSER,
    )
    assert forged.status_code == 422
    assert "invalid, used, revoked or expired" in text(forged)


def test_invitation_page_for_an_existing_account_asks_to_sign_in_first(client):
    org = OrganisationFactory(name="Hill Agency")
    existing = UserFactory()
    path = _invitation_path(client, org, member(org, Role.ORG_ADMIN), existing.email)
    r, token = page(client, path)
    refused = client.post(path, data={"csrf_token": token}, headers=BROWSER)
    assert refused.status_code == 422
    assert "Sign in as the invited account" in text(refused)

    signed_in = sign_in(client, existing.email, next_url=path)
    assert location(signed_in) == path
    r, token = page(client, path)
    assert f"signed in as {existing.email}" in text(r)
    accepted = client.post(path, data={"csrf_token": token}, headers=BROWSER)
    assert accepted.status_code == 302
    assert "Hill Agency: author" in text(client.get("/account", headers=BROWSER))


# --- errors and headers ------------------------------------------------------------------------------


def test_unknown_page_is_an_html_404_for_browsers(client):
    r = client.get("/no-such-page", headers=BROWSER)
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    assert "<title>Page not found · Micro-credentials</title>" in text(r)


def test_unknown_page_is_a_problem_document_for_json_clients(client):
    r = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == 404


def test_wrong_method_on_a_page_is_an_html_405(client):
    r = client.put("/login", headers=BROWSER)
    assert r.status_code == 405
    assert r.mimetype == "text/html"


@pytest.mark.parametrize(
    "url", ["/", "/login", "/signup", "/password-reset", "/no-such-page", "/api/v1/me", "/healthz"]
)
def test_security_headers_everywhere(client, url):
    r = client.get(url, headers=BROWSER)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_scripts(client):
    for url in ("/", "/login", "/signup", "/api/v1/docs"):
        html = text(client.get(url, headers=BROWSER))
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url  # no inline event handlers either


def test_a_json_url_opened_in_a_browser_gets_a_problem_document(client):
    response = client.get("/standards/items/not-a-thing.json", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
