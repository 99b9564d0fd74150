"""Signing in and out, a refused sign-in, and resetting a forgotten password, in the browser."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import check_page, login, logout, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import UserFactory


@pytest.fixture(scope="module")
def person(live_server: Any) -> dict[str, str]:
    tag = unique("acct")
    with live_server.seed():
        user = UserFactory(name="Erin Earner", email=f"erin-{tag}@example.org")
        return {"email": user.email, "name": user.name}


def test_sign_in_and_out(page: Any, person: dict[str, str]) -> None:
    visit(page, "/login", "sign-in")
    login(page, person["email"], TEST_PASSWORD)
    assert page.url.endswith("/home") and page.get_by_role("heading", level=1).inner_text() == "Home"
    with page.expect_navigation():
        page.get_by_role("navigation", name="Account").get_by_role("link", name=person["name"]).click()
    assert page.get_by_role("heading", level=1).inner_text() == person["name"]
    check_page(page, "account")
    logout(page)
    assert page.locator(".notice").inner_text() == "You are signed out."
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    # Signed out means signed out: a private page sends us to sign in again.
    page.goto("/authoring/")
    assert "/login" in page.url


def test_a_wrong_password_is_refused_with_a_message(page: Any, person: dict[str, str]) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(person["email"])
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/login" in page.url
    assert page.get_by_role("alert").is_visible()
    check_page(page, "sign-in-refused")


def test_password_reset_by_email_link(page: Any, person: dict[str, str], live_server: Any) -> None:
    visit(page, "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    check_page(page, "password-reset-request")
    page.get_by_label("Email address").fill(person["email"])
    with page.expect_navigation():
        page.get_by_role("button", name="Email me a link").click()
    check_page(page, "password-reset-sent")
    message = [m for m in live_server.mail() if m.to == person["email"]][-1]
    link = re.search(r"https?://\S+/password-reset/\S+", message.body)
    assert link, message.body

    page.goto(link.group(0))
    page.get_by_label("New password (at least 10 characters)").fill("a brand new passphrase")
    page.get_by_label("Repeat the new password").fill("a different passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Save password").click()
    confirm = page.get_by_label("Repeat the new password")
    assert confirm.get_attribute("aria-invalid") == "true"
    check_page(page, "password-reset-mismatch")

    page.get_by_label("New password (at least 10 characters)").fill("a brand new passphrase")
    confirm.fill("a brand new passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Save password").click()
    assert "password is changed" in page.locator(".notice").inner_text()
    login(page, person["email"], "a brand new passphrase")
    logout(page)

    # The link works once.
    page.goto(link.group(0))
    page.get_by_label("New password (at least 10 characters)").fill("yet another passphrase")
    page.get_by_label("Repeat the new password").fill("yet another passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Save password").click()
    assert page.get_by_role("alert").is_visible()
