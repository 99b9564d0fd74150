"""Keyboard-only use of the editor, the error pages, and the checks the other browser tests rely on."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Role
from tests.browser.conftest import axe_check, login, unique, visit
from tests.conftest import TEST_PASSWORD
from tests.factories import CredentialVersionFactory, OrganisationFactory, member

FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary"


@pytest.fixture(scope="module")
def draft(live_server: Any) -> dict[str, str]:
    tag = unique("kbd")
    with live_server.seed():
        organisation = OrganisationFactory()
        author = member(organisation, Role.AUTHOR, email=f"kim-{tag}@example.org")
        version = CredentialVersionFactory(organisation=organisation, title=f"Keyboard draft {tag}")
        return {"email": author.email, "edit": f"/authoring/versions/{version.id}/edit"}


def test_tab_reaches_every_control_of_the_editor_in_order_with_visible_focus(page: Any, draft: dict[str, str]) -> None:
    login(page, draft["email"], TEST_PASSWORD)
    visit(page, draft["edit"], "authoring-editor-keyboard")
    count = page.evaluate(
        """(selector) => {
            const all = Array.from(document.querySelectorAll(selector))
                .filter(e => !e.disabled && e.getClientRects().length > 0 && e.tabIndex >= 0);
            all.forEach((e, i) => { e.dataset.kbd = String(i); });
            return all.length;
        }""",
        FOCUSABLE,
    )
    assert count > 50  # the editor's many fields are really there
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached: list[int] = []
    invisible: list[str] = []
    for _ in range(count):
        page.keyboard.press("Tab")
        state = page.evaluate(
            """() => {
                const e = document.activeElement, s = getComputedStyle(e);
                return {k: e.dataset.kbd, name: e.id || e.name || e.textContent.trim().slice(0, 30),
                        ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
            }"""
        )
        assert state["k"] is not None, f"Tab reached an element outside the list: {state['name']}"
        reached.append(int(state["k"]))
        if not state["ring"]:
            invisible.append(state["name"])
    assert reached == list(range(count)), "Tab order differs from the reading order"
    assert not invisible, f"no visible focus ring on: {invisible}"


def test_skip_link_is_first_and_moves_to_the_content(page: Any, draft: dict[str, str]) -> None:
    visit(page, "/catalogue/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_editor_saves_with_the_keyboard_alone(page: Any, draft: dict[str, str]) -> None:
    login(page, draft["email"], TEST_PASSWORD)
    page.goto(draft["edit"])
    page.locator("#title").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed without a mouse")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter in a text field submits the form
    assert page.locator(".notice").inner_text() == "Saved."
    assert page.locator("#title").input_value() == "Typed without a mouse"


def test_not_found_page(page: Any) -> None:
    visit(page, "/no/such/page", "error-404-unknown", status=404)
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    assert page.get_by_role("link", name="Go to the start page").is_visible()


def test_server_error_page(page: Any, live_server: Any) -> None:
    visit(page, "/_test/error", "error-500", status=500)
    assert page.get_by_role("heading", level=1).inner_text() == "Something went wrong on our side"
    assert "deliberate" not in page.content()  # no internals shown to people


def test_private_pages_send_visitors_to_sign_in(page: Any) -> None:
    page.goto("/authoring/")
    assert "/login?next=/authoring/" in page.url


def test_axe_check_reports_serious_violations(page: Any) -> None:
    """The accessibility check the other tests rely on does fail on a real problem."""
    page.goto("/catalogue/")
    page.evaluate("() => { const i = document.createElement('input'); document.querySelector('main').append(i); }")
    with pytest.raises(pytest.fail.Exception, match="label"):
        axe_check(page)


def test_csp_violations_are_caught(browser: Any, live_server: Any) -> None:
    """The ``page`` fixture's CSP watch works: an inline script on one of our pages is reported."""
    context = browser.new_context(base_url=live_server.url)
    try:
        page = context.new_page()
        seen: list[str] = []
        page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.goto("/catalogue/")
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }"
        )
        page.wait_for_timeout(100)
        assert seen
    finally:
        context.close()
